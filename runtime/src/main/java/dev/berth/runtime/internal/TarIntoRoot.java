package dev.berth.runtime.internal;

import dev.berth.layers.Posix;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import dev.berth.runtime.internal.CopyTree.Owners;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The writing half of berth cp ({@link CopyTree}): a tar into a directory of a root opened with
 * {@link InRoot}. Each entry's directory is resolved by the kernel inside the root (symlinks there are
 * followed, as in a chroot, and stay inside); the entry itself is then made through that directory's fd
 * with calls that never follow it.
 */
final class TarIntoRoot {
    private TarIntoRoot() {}

    /**
     * Writes the tar {@code in} into the directory {@code dir} of the root: the first component of every
     * entry's name replaced by {@code top} when it is present ("" drops it, and the entry that is only that
     * component). Missing parents are made (0755); an existing file is replaced, an existing directory kept
     * (its mode and time set), a directory never replaced by a file or the other way round. Entries that
     * name a place above {@code dir} are refused, naming the entry. Directories' modes and times are set
     * last, as tar does, so a read-only one can still be filled.
     */
    static void extract(InRoot.Fd root, String dir, InputStream in, Optional<String> top, Owners owners)
            throws IOException {
        String base = CopyTree.clean(dir);
        TarArchiveInputStream tar = new TarArchiveInputStream(new NonClosingIn(in));
        List<TarArchiveEntry> dirs = new ArrayList<>();
        List<String> dirPaths = new ArrayList<>();
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
            Optional<String> rel = entryPath(e.getName(), top);
            if (rel.isEmpty()) {
                continue;
            }
            String path = join(base, rel.get());
            try (InRoot.Fd parent = directory(root, CopyTree.parent(path))) {
                String name = CopyTree.base(path);
                Path child = parent.child(name);
                boolean exists = Files.exists(child, LinkOption.NOFOLLOW_LINKS);
                boolean isDir = exists && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS);
                if (e.isDirectory()) {
                    if (exists && !isDir) {
                        throw new IOException("cannot overwrite non-directory /" + path + " with a directory");
                    }
                    if (!exists) {
                        Files.createDirectory(child);
                    }
                    dirs.add(e);
                    dirPaths.add(path);
                    continue;
                }
                if (isDir) {
                    throw new IOException("cannot overwrite directory /" + path + " with a non-directory");
                }
                if (exists) {
                    Files.delete(child);
                }
                if (e.isSymbolicLink()) {
                    Files.createSymbolicLink(child, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    String entryName = e.getName();
                    String target = join(base, entryPath(e.getLinkName(), top).orElseThrow(() ->
                            new IOException("tar entry " + entryName + ": a hard link to the copy's top")));
                    try (InRoot.Fd at = directory(root, CopyTree.parent(target))) {
                        Files.createLink(child, at.child(CopyTree.base(target)));
                    }
                    continue; // the same file: it has its metadata already
                } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                    int type = e.isCharacterDevice() ? Posix.S_IFCHR : e.isBlockDevice() ? Posix.S_IFBLK : Posix.S_IFIFO;
                    Posix.mknod(child, type | (e.getMode() & 07777), e.getDevMajor(), e.getDevMinor());
                } else if (e.isFile()) {
                    try (OutputStream out = Files.newOutputStream(child, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        tar.transferTo(out);
                    }
                } else {
                    throw new IOException("tar entry " + e.getName() + ": unsupported type " + (char) e.getLinkFlag());
                }
                metadata(child, e, owners, !e.isSymbolicLink());
            } catch (FileAlreadyExistsException raced) {
                throw new IOException("/" + path + " appeared while it was copied");
            }
        }
        for (int i = dirs.size() - 1; i >= 0; i--) {
            String path = dirPaths.get(i);
            if (path.isEmpty()) {
                continue;
            }
            try (InRoot.Fd parent = directory(root, CopyTree.parent(path))) {
                Path child = parent.child(CopyTree.base(path));
                if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    metadata(child, dirs.get(i), owners, true);
                }
            }
        }
    }

    private static void metadata(Path child, TarArchiveEntry e, Owners owners, boolean chmod) throws IOException {
        switch (owners) {
            case KEEP -> Posix.lchown(child, (int) e.getLongUserId(), (int) e.getLongGroupId());
            case ROOT -> Posix.lchown(child, 0, 0);
            case NONE -> { }
        }
        if (chmod) { // after chown, which clears set-id bits
            Posix.chmodNoFollow(child, e.getMode() & 07777);
        }
        Posix.setMtime(child, e.getLastModifiedTime().toInstant());
    }

    /** The directory {@code path} of the root, made (0755, parents too) when missing. */
    private static InRoot.Fd directory(InRoot.Fd root, String path) throws IOException {
        try {
            return InRoot.open(root, path, true, true);
        } catch (dev.berth.layers.Posix.Failure e) {
            if (e.errno() != InRoot.ENOENT || path.isEmpty()) {
                throw e;
            }
        }
        try (InRoot.Fd parent = directory(root, CopyTree.parent(path))) {
            try {
                Files.createDirectory(parent.child(CopyTree.base(path)));
            } catch (FileAlreadyExistsException raced) {
                // made meanwhile: opened below
            }
        }
        return InRoot.open(root, path, true, true);
    }

    /** An entry's name below the extraction directory, after {@code top}; empty for the dropped top. */
    private static Optional<String> entryPath(String entry, Optional<String> top) throws IOException {
        List<String> parts = new ArrayList<>();
        for (String p : entry.split("/")) {
            if (p.equals("..")) {
                throw new IOException("tar entry " + entry + " leads out of the directory it is copied into");
            }
            if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        if (top.isPresent()) {
            parts.removeFirst();
            if (!top.get().isEmpty()) {
                parts.addFirst(top.get());
            }
        }
        return parts.isEmpty() ? Optional.empty() : Optional.of(String.join("/", parts));
    }

    private static String join(String base, String rel) {
        return base.isEmpty() ? rel : base + "/" + rel;
    }

    private static final class NonClosingIn extends java.io.FilterInputStream {
        NonClosingIn(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the caller's
        }
    }
}
