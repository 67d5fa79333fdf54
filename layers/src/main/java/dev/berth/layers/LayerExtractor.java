package dev.berth.layers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Applies a tar layer (gzip, zstd or plain, detected from its first bytes) onto a directory.
 *
 * <p>What it guarantees:
 * <ul>
 *   <li>no entry lands outside the target: absolute names, {@code ..} that leaves the target, and writes
 *       through a symlink (a symlink as a parent directory of a later entry, or a hard link through one)
 *       are rejected with an error naming the entry;
 *   <li>whiteouts: with {@link Whiteouts#APPLY}, {@code .wh.name} deletes {@code name} from the lower
 *       content and {@code .wh..wh..opq} empties its directory of lower content (both leave what this
 *       same layer wrote); with {@link Whiteouts#OVERLAY} they become overlayfs whiteouts (a 0:0 character
 *       device, the {@code trusted.overlay.opaque=y} xattr) for a layer directory used as a lowerdir;
 *   <li>modes, ownership (only as root), mtimes, hard links, symlinks, FIFOs and devices (only as root),
 *       and extended attributes where the filesystem and privileges permit;
 *   <li>the whole blob is read, so a verifying stream from the store checks its digest.
 * </ul>
 * A rejected layer can leave a partial result in {@code target}: callers that others read from extract
 * into a fresh directory and rename it into place when done ({@link #unpack} does).
 */
public final class LayerExtractor {

    /** How whiteout entries are materialised. */
    public enum Whiteouts {
        /** Delete the lower content they name, as when flattening an image into one tree. */
        APPLY,
        /** Write overlayfs whiteouts, for a per-layer directory used as an overlay lowerdir. */
        OVERLAY
    }

    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    private final Path target;
    private final Whiteouts mode;
    private final boolean root = BerthHome.isRoot();
    /** Paths this layer wrote, so that its own whiteouts do not hide them. */
    private final Set<String> written = new HashSet<>();
    private final List<DirectoryTimes> directories = new ArrayList<>();

    private record DirectoryTimes(Path path, int mode, FileTime mtime) {}

    private LayerExtractor(Path target, Whiteouts mode) {
        this.target = target;
        this.mode = mode;
    }

    /** Applies one layer blob onto {@code target}, which must exist. */
    public static void extract(InputStream blob, Path target, Whiteouts mode) throws IOException {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new LayersException("cannot extract a layer into " + target + ": not a directory");
        }
        new LayerExtractor(target.toAbsolutePath().normalize(), mode).run(blob);
    }

    /**
     * Unpacks every layer of an image, base first, into {@code dest} (which must not exist): extracted into
     * a temp directory beside it and renamed when complete, so {@code dest} is whole or absent.
     */
    public static void unpack(Image image, Path dest) throws IOException {
        Path abs = dest.toAbsolutePath().normalize();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new LayersException("cannot unpack into " + dest + ": it exists");
        }
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".");
        try {
            for (Descriptor layer : image.layers()) {
                try (InputStream in = image.blobs().open(layer)) {
                    extract(in, tmp, Whiteouts.APPLY);
                }
            }
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(tmp);
            }
        }
    }

    private void run(InputStream blob) throws IOException {
        InputStream data = Compression.decompress(blob);
        TarArchiveInputStream tar = new TarArchiveInputStream(data, StandardCharsets.UTF_8.name());
        TarArchiveEntry e;
        try {
            while ((e = tar.getNextEntry()) != null) {
                apply(e, tar);
            }
        } catch (IOException ex) {
            throw new LayersException("invalid layer: " + ex.getMessage(), ex);
        }
        // Read to the very end so a verifying source checks the blob's size and digest.
        data.transferTo(OutputStream.nullOutputStream());
        blob.transferTo(OutputStream.nullOutputStream());
        for (int i = directories.size() - 1; i >= 0; i--) {
            DirectoryTimes d = directories.get(i);
            Posix.chmod(d.path(), d.mode());
            Posix.setMtime(d.path(), d.mtime().toInstant());
        }
    }

    private void apply(TarArchiveEntry e, InputStream content) throws IOException {
        String raw = e.getName();
        if (raw.startsWith("/")) {
            throw rejected(raw, "absolute path");
        }
        LayerPath path;
        try {
            path = LayerPath.of(raw);
        } catch (LayersException ex) {
            throw rejected(raw, "leaves the target directory");
        }
        if (path.isRoot()) {
            return; // "./": the target itself, which the caller owns
        }
        String name = path.name();
        LayerPath parent = path.parent().orElseThrow();
        if (name.equals(OPAQUE)) {
            Path dir = ensureParents(raw, path);
            opaque(raw, parent, dir);
            return;
        }
        if (name.startsWith(WHITEOUT)) {
            if (name.startsWith(WHITEOUT + WHITEOUT)) {
                return; // aufs metadata (.wh..wh.plnk and the like): not content
            }
            String hidden = name.substring(WHITEOUT.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw rejected(raw, "invalid whiteout name");
            }
            ensureParents(raw, path);
            whiteout(raw, parent.resolve(hidden));
            return;
        }
        Path dest = ensureParents(raw, path);
        written.add(path.value());
        FileTime mtime = FileTime.from(e.getModTime().toInstant());
        int perm = e.getMode() & 07777;
        if (e.isDirectory()) {
            if (!Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
                removeExisting(dest);
                Files.createDirectory(dest);
            }
            owner(dest, e);
            xattrs(dest, e);
            directories.add(new DirectoryTimes(dest, perm, mtime));
            return;
        }
        removeExisting(dest);
        if (e.isSymbolicLink()) {
            Files.createSymbolicLink(dest, Path.of(e.getLinkName()));
            owner(dest, e);
            Posix.setMtime(dest, mtime.toInstant());
            return;
        }
        if (e.isLink()) {
            LayerPath linkTarget;
            try {
                linkTarget = LayerPath.of(e.getLinkName());
            } catch (LayersException ex) {
                throw rejected(raw, "hard link to \"" + e.getLinkName() + "\" leaves the target directory");
            }
            if (e.getLinkName().startsWith("/")) {
                throw rejected(raw, "hard link to an absolute path \"" + e.getLinkName() + "\"");
            }
            Path existing = resolveExisting(raw, linkTarget);
            if (!Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
                throw rejected(raw, "hard link to \"" + e.getLinkName() + "\", which does not exist");
            }
            if (Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS)) {
                throw rejected(raw, "hard link to a directory");
            }
            Files.createLink(dest, existing);
            return;
        }
        if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
            int type = e.isFIFO() ? Posix.S_IFIFO : e.isCharacterDevice() ? Posix.S_IFCHR : Posix.S_IFBLK;
            if (!root && type != Posix.S_IFIFO) {
                return; // only root may create device nodes; an unprivileged unpack leaves them out, as umoci does
            }
            Posix.mknod(dest, type | perm, e.getDevMajor(), e.getDevMinor());
        } else if (e.isFile()) {
            try (OutputStream out = Files.newOutputStream(dest, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                long n = content.transferTo(out);
                if (n != e.getSize()) {
                    throw rejected(raw, "truncated: " + n + " of " + e.getSize() + " bytes");
                }
            }
        } else {
            throw rejected(raw, "unsupported entry type '" + (char) e.getLinkFlag() + "'");
        }
        owner(dest, e);
        Posix.chmod(dest, perm); // after chown, which clears setuid and setgid
        xattrs(dest, e);
        Posix.setMtime(dest, mtime.toInstant());
    }

    /**
     * Creates the missing parents of {@code path} (0755, as extractors do) and returns where it goes. A
     * symlink or a non-directory among the parents is an error: nothing is ever written through a link.
     */
    private Path ensureParents(String raw, LayerPath path) throws IOException {
        Path p = target;
        String[] parts = path.value().split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            p = p.resolve(parts[i]);
            if (Files.isSymbolicLink(p)) {
                throw rejected(raw, "would be written through the symlink \"" + target.relativize(p) + "\"");
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(p);
            } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw rejected(raw, "\"" + target.relativize(p) + "\" is not a directory");
            }
        }
        return p.resolve(parts[parts.length - 1]);
    }

    /** The path of an existing entry, refusing symlinks among its parents. */
    private Path resolveExisting(String raw, LayerPath path) {
        Path p = target;
        String[] parts = path.value().split("/");
        for (int i = 0; i < parts.length; i++) {
            p = p.resolve(parts[i]);
            if (i < parts.length - 1 && Files.isSymbolicLink(p)) {
                throw rejected(raw, "links through the symlink \"" + target.relativize(p) + "\"");
            }
        }
        return p;
    }

    private void whiteout(String raw, LayerPath hidden) throws IOException {
        Path p = target.resolve(hidden.value());
        switch (mode) {
            case APPLY -> {
                if (!written.contains(hidden.value())) {
                    removeExisting(p);
                }
            }
            case OVERLAY -> {
                removeExisting(p);
                Posix.mknod(p, Posix.S_IFCHR, 0, 0);
            }
        }
    }

    private void opaque(String raw, LayerPath dirPath, Path dir) throws IOException {
        Path d = dir.getParent();
        switch (mode) {
            case APPLY -> {
                if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                    removeLower(dirPath, d);
                }
            }
            case OVERLAY -> {
                if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(d);
                }
                Posix.setXattr(d, "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    /** Deletes what lower layers put in {@code dir}, keeping what this layer wrote. */
    private void removeLower(LayerPath dirPath, Path dir) throws IOException {
        try (var children = Files.list(dir)) {
            for (Path child : children.toList()) {
                LayerPath cp = dirPath.resolve(child.getFileName().toString());
                if (!written.contains(cp.value())) {
                    removeExisting(child);
                } else if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    removeLower(cp, child);
                }
            }
        }
    }

    private void owner(Path p, TarArchiveEntry e) throws IOException {
        if (!root) {
            return;
        }
        Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
    }

    private void xattrs(Path p, TarArchiveEntry e) {
        for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
            if (!h.getKey().startsWith("SCHILY.xattr.")) {
                continue;
            }
            String name = h.getKey().substring("SCHILY.xattr.".length());
            if (name.startsWith("trusted.overlay.")) {
                continue; // overlayfs's own metadata must never come from an image
            }
            try {
                Posix.setXattr(p, name, h.getValue().getBytes(StandardCharsets.UTF_8));
            } catch (IOException notPermitted) {
                // "where permitted": the filesystem or our privileges may not allow this namespace
            }
        }
    }

    private static void removeExisting(Path p) throws IOException {
        try {
            Files.delete(p);
        } catch (NoSuchFileException gone) {
            // nothing to replace
        } catch (DirectoryNotEmptyException full) {
            deleteTree(p);
        } catch (FileAlreadyExistsException impossible) {
            throw impossible;
        }
    }

    /** Deletes a tree without following symlinks. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                // a directory without write or search permission could not be emptied
                Files.setAttribute(dir, "unix:mode", 0700, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static LayersException rejected(String entry, String why) {
        return new LayersException("layer entry \"" + entry + "\": " + why);
    }
}
