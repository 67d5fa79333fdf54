package dev.berth.runtime.internal;

import dev.berth.layers.Posix;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * berth cp's two halves, on either side of a tar stream, both working in a root opened with {@link InRoot}
 * (a container's, or the host's {@code /}): {@link #archive} writes a path of the root as a tar, and
 * {@link TarIntoRoot} writes a tar into a directory of the root. Every path the user or a tar names is
 * resolved by the kernel inside the root; every entry is then reached through its directory's fd and
 * never followed, so neither a symlink in the container (even one to {@code /}) nor a hostile tar entry
 * leads out of it, also while processes in the container rename things.
 */
public final class CopyTree {
    private static final int MAX_LINKS = 40;

    private CopyTree() {}

    /** What a path is: missing, a directory, or anything else (a file, a symlink not followed, a device). */
    public enum Kind { MISSING, DIRECTORY, OTHER }

    /** Whose files {@link #extract} makes: the tar's owners, root's (0:0), or the process's own. */
    public enum Owners { KEEP, ROOT, NONE }

    /** A path of a root as a directory's fd and a name in it (no name: the root itself). */
    private record Node(InRoot.Fd dir, Optional<String> name) implements AutoCloseable {
        Path path() {
            return name.map(dir::child).orElse(dir.path());
        }

        @Override
        public void close() {
            dir.close();
        }
    }

    /** {@code path} with {@code .} and empty components removed: "" for the root. */
    static String clean(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        return String.join("/", parts);
    }

    static String parent(String clean) {
        int slash = clean.lastIndexOf('/');
        return slash < 0 ? "" : clean.substring(0, slash);
    }

    static String base(String clean) {
        return clean.substring(clean.lastIndexOf('/') + 1);
    }

    /**
     * Opens {@code path} of the root as its directory and name; with {@code follow}, a symlink in the last
     * component is followed (inside the root, up to 40 times). Throws {@link dev.berth.layers.Posix.Failure} (ENOENT).
     */
    private static Node node(InRoot.Fd root, String path, boolean follow) throws IOException {
        String p = clean(path);
        for (int links = 0; ; links++) {
            if (p.isEmpty() || base(p).equals("..")) { // "..": the kernel resolves it, inside the root
                return new Node(InRoot.open(root, p, true, true), Optional.empty());
            }
            InRoot.Fd dir = InRoot.open(root, parent(p), true, true);
            Path child = dir.child(base(p));
            if (!follow || !Files.isSymbolicLink(child)) {
                if (!Files.exists(child, LinkOption.NOFOLLOW_LINKS)) {
                    dir.close();
                    throw new dev.berth.layers.Posix.Failure(path + ": No such file or directory", InRoot.ENOENT);
                }
                return new Node(dir, Optional.of(base(p)));
            }
            String target = Files.readSymbolicLink(child).toString();
            dir.close();
            if (links >= MAX_LINKS) {
                throw new dev.berth.layers.Posix.Failure(path + ": too many levels of symbolic links", InRoot.ELOOP);
            }
            p = clean(target.startsWith("/") ? target : parent(p) + "/" + target);
        }
    }

    /** Where a copied tree goes: the directory it is written into, and the new name of its top entry. */
    public record Placement(String dir, Optional<String> top) {}

    /**
     * docker cp's rules for the destination {@code dest} (its kind {@code destKind}) of a source of kind
     * {@code srcKind} named {@code srcBase}: into an existing directory under the source's name (or, for
     * {@code SRC/.}, its contents); onto a missing path or an existing file under the destination's name; a
     * directory never onto a file, and a file never to a missing {@code DIR/}.
     */
    public static Placement place(String dest, Kind destKind, Kind srcKind, boolean contentsOnly, String srcBase)
            throws IOException {
        String d = clean(dest);
        return switch (destKind) {
            case DIRECTORY -> new Placement(d, Optional.of(srcKind == Kind.DIRECTORY && contentsOnly ? "" : srcBase));
            case OTHER -> {
                if (srcKind == Kind.DIRECTORY) {
                    throw new IOException("cannot copy a directory to a file: " + dest);
                }
                yield new Placement(parent(d), Optional.of(base(d)));
            }
            case MISSING -> {
                if (srcKind != Kind.DIRECTORY && dest.endsWith("/")) {
                    throw new IOException("no such directory: " + dest);
                }
                yield new Placement(parent(d), Optional.of(base(d)));
            }
        };
    }

    /**
     * The source half of a copy: {@code src} of the root as a tar on {@code out}, its top entry named as
     * src's last component. The last component is followed with {@code follow}, or when src ends in
     * {@code /} or {@code /.} (docker's -L, and a directory's contents).
     */
    public static void copyOut(InRoot.Fd root, String src, boolean follow, OutputStream out) throws IOException {
        boolean f = follow || src.endsWith("/") || src.endsWith("/.");
        if (kind(root, src, f) == Kind.MISSING) {
            throw new IOException("no such file or directory");
        }
        String c = clean(src);
        archive(root, src, f, c.isEmpty() ? "." : base(c), out);
    }

    /**
     * The destination half: the tar {@code in} of a source of kind {@code srcKind} named {@code srcBase}
     * (see {@link #place}) written to {@code dest} of the root (a symlink there followed, inside the root).
     * With no {@code srcKind} (a tar the user gave), dest must be a directory and the tar goes into it as
     * it is.
     */
    public static void copyIn(InRoot.Fd root, String dest, Optional<Kind> srcKind, boolean contentsOnly,
                              String srcBase, InputStream in, Owners owners) throws IOException {
        Kind destKind = kind(root, dest, true);
        if (srcKind.isEmpty()) {
            if (destKind != Kind.DIRECTORY) {
                throw new IOException(dest + ": " + (destKind == Kind.MISSING ? "no such directory" : "not a directory"));
            }
            TarIntoRoot.extract(root, dest, in, Optional.empty(), owners);
            return;
        }
        Placement p = place(dest, destKind, srcKind.get(), contentsOnly, srcBase);
        if (destKind == Kind.MISSING && kind(root, p.dir(), true) != Kind.DIRECTORY) {
            throw new IOException("no such directory: /" + p.dir());
        }
        TarIntoRoot.extract(root, p.dir(), in, p.top(), owners);
    }

    /** What {@code path} is in the root (its last component followed when {@code follow}). */
    public static Kind kind(InRoot.Fd root, String path, boolean follow) throws IOException {
        try (Node n = node(root, path, follow)) {
            return Boolean.TRUE.equals(attributes(n).get("isDirectory")) ? Kind.DIRECTORY : Kind.OTHER;
        } catch (dev.berth.layers.Posix.Failure e) {
            if (e.errno() == InRoot.ENOENT || e.errno() == InRoot.ENOTDIR) {
                return Kind.MISSING;
            }
            throw e;
        }
    }

    /**
     * Writes {@code path} of the root (its last component followed when {@code follow}) to {@code out} as a
     * tar whose first entry is named {@code top}, and, for a directory, everything below it, sorted, with
     * modes, owners, times, symlinks, hardlinks within the tree and device nodes. {@code out} is not closed.
     */
    public static void archive(InRoot.Fd root, String path, boolean follow, String top, OutputStream out)
            throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new dev.berth.layers.internal.NonClosingOutputStream(out));
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        Map<String, String> links = new HashMap<>();
        try (Node n = node(root, path, follow)) {
            Path p = n.path();
            Map<String, Object> a = attributes(n);
            write(tar, p, top, a, links);
            if (Boolean.TRUE.equals(a.get("isDirectory"))) {
                walk(tar, InRoot.open(n.dir(), n.name().orElse("."), false, true), top, links);
            }
        }
        tar.finish();
    }

    /** A node's attributes: of the name itself, never followed (or of the directory, for the root). */
    private static Map<String, Object> attributes(Node n) throws IOException {
        return n.name().isPresent() ? Files.readAttributes(n.path(), "unix:*", LinkOption.NOFOLLOW_LINKS)
                : Files.readAttributes(n.path(), "unix:*");
    }

    /** The entries of the directory {@code dir} (closed here), named below {@code prefix}. */
    private static void walk(TarArchiveOutputStream tar, InRoot.Fd dir, String prefix, Map<String, String> links)
            throws IOException {
        try (dir) {
            List<String> names;
            try (Stream<Path> s = Files.list(dir.path())) {
                names = s.map(c -> c.getFileName().toString()).sorted().toList();
            }
            for (String name : names) {
                Path child = dir.child(name);
                Map<String, Object> a;
                try {
                    a = Files.readAttributes(child, "unix:*", LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue; // removed while we copy
                }
                String entry = prefix + "/" + name;
                write(tar, child, entry, a, links);
                if (Boolean.TRUE.equals(a.get("isDirectory"))) {
                    walk(tar, InRoot.open(dir, name, false, true), entry, links);
                }
            }
        }
    }

    private static void write(TarArchiveOutputStream tar, Path p, String name, Map<String, Object> a,
                              Map<String, String> links) throws IOException {
        int mode = (Integer) a.get("mode");
        int type = mode & 0170000;
        TarArchiveEntry e;
        boolean content = false;
        String key = a.get("dev") + ":" + a.get("ino");
        if (type == 0040000) {
            e = new TarArchiveEntry(name + "/");
        } else if (type == 0120000) {
            e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(Files.readSymbolicLink(p).toString());
        } else if (type == 0100000 && (Integer) a.get("nlink") > 1 && links.containsKey(key)) {
            e = new TarArchiveEntry(name, TarConstants.LF_LINK);
            e.setLinkName(links.get(key));
        } else if (type == 0100000) {
            e = new TarArchiveEntry(name);
            e.setSize((Long) a.get("size"));
            content = true;
            if ((Integer) a.get("nlink") > 1) {
                links.put(key, name);
            }
        } else if (type == 0020000 || type == 0060000 || type == 0010000) {
            e = new TarArchiveEntry(name, type == 0020000 ? TarConstants.LF_CHR
                    : type == 0060000 ? TarConstants.LF_BLK : TarConstants.LF_FIFO);
            long rdev = (Long) a.get("rdev");
            e.setDevMajor(Posix.major(rdev));
            e.setDevMinor(Posix.minor(rdev));
        } else {
            return; // a socket: tar has no such entry
        }
        e.setMode(mode & 07777);
        e.setIds((Integer) a.get("uid"), (Integer) a.get("gid"));
        e.setModTime((FileTime) a.get("lastModifiedTime"));
        tar.putArchiveEntry(e);
        if (content) {
            try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                long n = in.transferTo(tar);
                if (n != e.getSize()) {
                    throw new IOException(name + " changed size while it was copied");
                }
            }
        }
        tar.closeArchiveEntry();
    }
}
