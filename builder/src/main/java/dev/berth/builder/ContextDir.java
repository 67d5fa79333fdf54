package dev.berth.builder;

import dev.berth.layers.LayerPath;

import dev.berth.builder.context.DockerIgnore;
import dev.berth.builder.context.Wildcard;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The build context as COPY and ADD see it: a directory minus what {@code .dockerignore} excludes, with
 * every path confined to it. Paths are relative, {@code /}-separated, {@code ""} being the root.
 *
 * <p>Confinement, as buildkit's {@code fs.RootPath}: a source path is cleaned with {@code ..} stopping at
 * the root, and symlinks met while resolving it are followed inside the context (an absolute target
 * starts again at the context root). So {@code ../../etc/passwd} and a link to {@code /etc} both stay in
 * the context. Inside a copied directory symlinks are never followed: they are copied as symlinks.
 *
 * <p>Speed: listing a tree costs one {@code lstat} per entry and one directory read per directory, the
 * whole cost of a no-change rebuild's check of its sources.
 */
final class ContextDir {
    /** What one {@code lstat} says about an entry; the no-change rebuild compares these. */
    record Stat(int mode, long size, long mtimeNanos, long inode) {
        boolean isDirectory() {
            return (mode & 0170000) == 0040000;
        }

        boolean isRegular() {
            return (mode & 0170000) == 0100000;
        }

        boolean isSymlink() {
            return (mode & 0170000) == 0120000;
        }
    }

    /** An entry of the context: its path relative to the context root and its stat. */
    record Item(String rel, Stat stat) {}

    private final Path root;
    private final DockerIgnore ignore;

    ContextDir(Path root, DockerIgnore ignore) {
        this.root = root.toAbsolutePath().normalize();
        this.ignore = ignore;
    }

    Path root() {
        return root;
    }

    DockerIgnore ignore() {
        return ignore;
    }

    Path file(String rel) {
        return rel.isEmpty() ? root : root.resolve(rel);
    }

    /** The stat of an entry, not following a final symlink; empty when it does not exist. */
    Optional<Stat> lstat(String rel) {
        try {
            return Optional.of(stat(file(rel)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BuildException("cannot read " + file(rel) + ": " + e.getMessage(), e);
        }
    }

    static Stat stat(Path p) throws IOException {
        dev.berth.layers.FileStats.Stat s = dev.berth.layers.FileStats.lstat(p.toString());
        return new Stat(s.mode(), s.size(), s.mtimeNanos(), s.inode());
    }

    /** Whether {@code .dockerignore} keeps this path out of the context. */
    boolean excluded(String rel) {
        return !rel.isEmpty() && !ignore.isEmpty() && ignore.excludes(rel);
    }

    /**
     * Cleans a user's path as buildkit does ({@code filepath.Join("/", p)}): separators collapsed, {@code .}
     * dropped, {@code ..} removed with its parent and stopping at the root; the result has no leading slash.
     * A path with a NUL byte (which no file name can hold) is a {@link BuildException}; callers add where.
     */
    static String clean(String path) {
        if (path.indexOf('\0') >= 0) {
            throw new BuildException("invalid path \"" + path.replace("\0", "\\x00") + "\": it holds a NUL byte");
        }
        return LayerPath.clamped(path).value();
    }

    /**
     * Resolves symlinks along {@code rel} inside the context, the last component too when
     * {@code followFinal}; the result may not exist. Fails on a symlink loop.
     */
    String resolve(String rel, boolean followFinal) {
        return resolve(rel, followFinal, p -> {
            Optional<Stat> s = lstat(p);
            if (s.isPresent() && s.get().isSymlink()) {
                try {
                    return Optional.of(Files.readSymbolicLink(file(p)).toString());
                } catch (IOException e) {
                    throw new BuildException("cannot read link " + file(p) + ": " + e.getMessage(), e);
                }
            }
            return Optional.empty();
        });
    }

    /** The symlink resolution of {@link #resolve}, over any tree that answers "is this path a link to what". */
    static String resolve(String rel, boolean followFinal, java.util.function.Function<String, Optional<String>> linkOf) {
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(clean(rel).split("/")));
        todo.removeIf(String::isEmpty);
        List<String> done = new ArrayList<>();
        int hops = 0;
        while (!todo.isEmpty()) {
            String c = todo.removeFirst();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            done.add(c);
            if (todo.isEmpty() && !followFinal) {
                break;
            }
            Optional<String> target = linkOf.apply(String.join("/", done));
            if (target.isPresent()) {
                if (++hops > 255) {
                    throw new BuildException("too many levels of symbolic links resolving " + rel);
                }
                done.removeLast();
                if (target.get().startsWith("/")) {
                    done.clear();
                }
                List<String> parts = new ArrayList<>(List.of(target.get().split("/")));
                Collections.reverse(parts);
                for (String p : parts) {
                    if (!p.isEmpty()) {
                        todo.addFirst(p);
                    }
                }
            }
        }
        return String.join("/", done);
    }

    /**
     * The paths a wildcard source matches, as buildkit's {@code ResolveWildcards}: the part before the
     * first element with a wildcard is resolved as a path, the rest matched element by element
     * ({@code *} never crosses {@code /}); a matched directory is not searched further. Excluded paths
     * are not in the context and never match. Sorted.
     */
    List<String> glob(String pattern) {
        List<String> parts = new ArrayList<>(List.of(clean(pattern).split("/")));
        parts.removeIf(String::isEmpty);
        int first = 0;
        while (first < parts.size() && !hasWildcards(parts.get(first))) {
            first++;
        }
        String base = resolve(String.join("/", parts.subList(0, first)), true);
        List<Wildcard> rest = new ArrayList<>();
        for (String p : parts.subList(first, parts.size())) {
            rest.add(Wildcard.compile(p));
        }
        List<String> out = new ArrayList<>();
        Optional<Stat> b = lstat(base);
        if (b.isPresent() && b.get().isDirectory()) {
            globIn(base, rest, 0, out);
        }
        Collections.sort(out);
        return out;
    }

    private void globIn(String dir, List<Wildcard> rest, int depth, List<String> out) {
        for (String name : list(dir)) {
            String rel = dir.isEmpty() ? name : dir + "/" + name;
            if (!rest.get(depth).matches(name)) {
                continue;
            }
            Optional<Stat> s = lstat(rel);
            if (s.isEmpty()) {
                continue;
            }
            boolean excluded = excluded(rel);
            if (depth == rest.size() - 1) {
                if (!excluded) {
                    out.add(rel);
                }
            } else if (s.get().isDirectory() && (!excluded || ignore.mayReinclude(rel))) {
                globIn(rel, rest, depth + 1, out);
            }
        }
    }

    /** Whether a path element holds a wildcard, as buildkit decides it ({@code \} escapes the next character). */
    static boolean hasWildcards(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '*' || c == '?' || c == '[') {
                return true;
            }
        }
        return false;
    }

    /** The names in a directory, sorted. */
    List<String> list(String dir) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(file(dir))) {
            for (Path p : ds) {
                names.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            throw new BuildException("cannot list " + file(dir) + ": " + e.getMessage(), e);
        }
        Collections.sort(names);
        return names;
    }

    /**
     * Everything below directory {@code dir} that the context holds, parents before children, with one
     * {@code lstat} each. An excluded directory is left out with its content unless an exception brings
     * something back, in which case it is kept as the parent of what came back.
     */
    List<Item> walk(String dir) {
        return new Walk(dir).invoke();
    }

    /**
     * The entries below directory {@code dir} that {@code .dockerignore} keeps out of the context, each
     * named once (an excluded directory stands for all it holds, unless an exception brings something
     * back from it, whose excluded entries are then named one by one). Relative to {@code dir}.
     */
    List<String> excludedBelow(String dir) {
        List<String> out = new ArrayList<>();
        if (!ignore.isEmpty()) {
            excludedBelow(dir, dir.isEmpty() ? 0 : dir.length() + 1, out);
        }
        return out;
    }

    private void excludedBelow(String dir, int cut, List<String> out) {
        String prefix = dir.isEmpty() ? "" : dir + "/";
        for (String name : list(dir)) {
            String rel = prefix + name;
            boolean directory = lstat(rel).map(Stat::isDirectory).orElse(false);
            if (excluded(rel) && !(directory && ignore.mayReinclude(rel))) {
                out.add(rel.substring(cut));
            } else if (directory) {
                excludedBelow(rel, cut, out);
            }
        }
    }

    /**
     * The walk of one directory: its entries listed and stat'ed here, its subdirectories walked as tasks of
     * their own (on the common pool: a context of many directories is walked on every core), their results
     * put in place after their directory's entry, so the order is the sequential walk's.
     */
    private final class Walk extends java.util.concurrent.RecursiveTask<List<Item>> {
        private final String dir;

        Walk(String dir) {
            this.dir = dir;
        }

        @Override
        protected List<Item> compute() {
            // One getdents64 for many entries and one statx each, relative to the directory: no Path per entry.
            List<dev.berth.layers.FileStats.Entry> children;
            try {
                children = dev.berth.layers.FileStats.list(file(dir).toString());
            } catch (IOException e) {
                throw new BuildException("cannot list " + file(dir) + ": " + e.getMessage(), e);
            }
            children.sort(null); // by name: Entry's own order, the fewest calls per comparison
            String prefix = dir.isEmpty() ? "" : dir + "/";
            List<Object> parts = new ArrayList<>(children.size()); // Items, and Walks of subdirectories
            List<Walk> below = new ArrayList<>();
            for (dev.berth.layers.FileStats.Entry child : children) {
                String rel = prefix + child.name();
                Stat s = new Stat(child.stat().mode(), child.stat().size(), child.stat().mtimeNanos(), child.stat().inode());
                boolean excluded = excluded(rel);
                if (s.isDirectory()) {
                    if (excluded && !ignore.mayReinclude(rel)) {
                        continue;
                    }
                    parts.add(new Item(rel, s));
                    Walk w = new Walk(rel);
                    w.excludedItself = excluded;
                    parts.add(w);
                    below.add(w);
                } else if (!excluded) {
                    parts.add(new Item(rel, s));
                }
            }
            invokeAll(below);
            List<Item> out = new ArrayList<>(parts.size());
            for (Object part : parts) {
                if (part instanceof Item item) {
                    out.add(item);
                } else {
                    Walk w = (Walk) part;
                    List<Item> sub = w.join();
                    if (w.excludedItself && sub.isEmpty()) {
                        out.removeLast(); // an excluded directory from which nothing came back
                    } else {
                        out.addAll(sub);
                    }
                }
            }
            return out;
        }

        /** An excluded directory walked for what an exception may bring back from it. */
        private boolean excludedItself;
    }

    /**
     * The digest of {@code items}' content: of each one's path, mode, bytes (regular files) or target
     * (symlinks), hashed on every core, then of those digests in order. Stats other than the mode (times,
     * inodes, sizes) are not in it: a copy of the context at another path, with other times, has the same
     * digest.
     */
    String contentDigest(List<Item> items) throws IOException {
        List<byte[]> each;
        try {
            each = (items.size() > 64 ? items.parallelStream() : items.stream()).map(item -> {
                try {
                    return itemDigest(item);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        java.security.MessageDigest d = dev.berth.layers.Digest.sha256Hasher();
        each.forEach(d::update);
        return java.util.HexFormat.of().formatHex(d.digest());
    }

    /** The digest of one item: its path, mode, and bytes or link target. */
    byte[] itemDigest(Item item) throws IOException {
        java.security.MessageDigest d = dev.berth.layers.Digest.sha256Hasher();
        d.update((item.rel() + "\0" + Integer.toOctalString(item.stat().mode()) + "\0")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path p = file(item.rel());
        try {
            if (item.stat().isRegular()) {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p)) {
                    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) Math.min(1 << 16, Math.max(1, item.stat().size())));
                    while (ch.read(buf.clear()) > 0) {
                        d.update(buf.flip());
                    }
                }
            } else if (item.stat().isSymlink()) {
                d.update(Files.readSymbolicLink(p).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IOException(p + ": " + e.getMessage(), e);
        }
        return d.digest();
    }
}
