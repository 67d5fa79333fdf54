package dev.berth.runtime.internal;

import dev.berth.layers.LayerPath;

import dev.berth.layers.Posix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntUnaryOperator;

/**
 * A read-only view of an image's merged file system, answered from its snapshot directories (topmost
 * first) the way overlayfs would: a 0:0 character device is a whiteout, a directory with
 * {@code trusted.overlay.opaque=y} (or {@code user.overlay.opaque=y}, rootless) hides what lies below it, a non-directory hides everything below, and
 * symlinks are followed inside the image only (an absolute target is relative to the image's root, {@code ..}
 * stops at the root). Used before a container starts, to read {@code /etc/passwd} and to check the command,
 * without mounting anything.
 */
public final class LayeredFs {
    private static final int MAX_SYMLINKS = 40;
    private static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000,
            S_IFCHR = 0020000;

    private final List<Path> layers;
    private final IntUnaryOperator uids;
    private final IntUnaryOperator gids;

    /** @param layersTopFirst the snapshot directories, topmost layer first */
    public LayeredFs(List<Path> layersTopFirst) {
        this(layersTopFirst, IntUnaryOperator.identity(), IntUnaryOperator.identity());
    }

    /**
     * A view whose entries' owners are the ids the container sees: {@code uids} and {@code gids} turn a
     * host id of the snapshots into the container's (a rootless container's user namespace).
     */
    public LayeredFs(List<Path> layersTopFirst, IntUnaryOperator uids, IntUnaryOperator gids) {
        this.layers = List.copyOf(layersTopFirst);
        this.uids = uids;
        this.gids = gids;
    }

    /**
     * A file of the merged view: where it lives on the host, the path that reached it after following
     * symlinks, and its mode and owner.
     */
    public record Entry(Path file, String path, int mode, int uid, int gid) {
        public boolean isDirectory() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }

        public boolean isSymlink() {
            return (mode & S_IFMT) == S_IFLNK;
        }

        /** The permission bits (with setuid, setgid, sticky). */
        public int permissions() {
            return mode & 07777;
        }
    }

    /** Looks up an absolute path, following symlinks (also a final one). */
    public Optional<Entry> lookup(String path) {
        return lookup(path, true);
    }

    /** Looks up an absolute path; {@code followLast} false returns a final symlink itself. */
    public Optional<Entry> lookup(String path, boolean followLast) {
        try {
            return walk(split(path), followLast, 0).map(Found::entry);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The layer directories that make up the directory at {@code path} (symlinks followed), topmost first
     * and ending at the first opaque one: an overlay of them, in this order, shows what the image shows
     * there. Empty when {@code path} is not a directory.
     */
    public Optional<List<Path>> directoryLayers(String path) {
        try {
            return walk(split(path), true, 0).filter(f -> f.entry().isDirectory()).map(Found::dirs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a walk found, and for a directory the layer directories it merges. */
    private record Found(Entry entry, List<Path> dirs) {}

    /** Reads a (small) file of the merged view, following symlinks; empty when it does not exist or is not a file. */
    public Optional<String> readString(String path) {
        return lookup(path).filter(Entry::isRegularFile).map(e -> {
            try {
                return Files.readString(e.file(), StandardCharsets.UTF_8);
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
        });
    }

    private static List<String> split(String path) {
        return new ArrayList<>(LayerPath.clamped(path).components());
    }

    private Optional<Found> walk(List<String> components, boolean followLast, int links) throws IOException {
        if (links > MAX_SYMLINKS) {
            return Optional.empty(); // ELOOP: treated as not found
        }
        List<Path> dirs = layers;
        List<String> walked = new ArrayList<>();
        Entry dirEntry = null; // the directory reached so far; null: the root
        for (int i = 0; i < components.size(); i++) {
            String c = components.get(i);
            boolean last = i == components.size() - 1;
            List<Path> merged = new ArrayList<>();
            Entry found = null;
            for (int d = 0; d < dirs.size(); d++) {
                Path p = dirs.get(d).resolve(c);
                Map<String, Object> a;
                try {
                    a = Files.readAttributes(p, "unix:mode,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue;
                }
                int mode = (Integer) a.get("mode");
                int type = mode & S_IFMT;
                if (type == S_IFCHR && (Long) a.get("rdev") == 0) {
                    break; // a whiteout: deleted here and below
                }
                String logical = "/" + String.join("/", walked) + (walked.isEmpty() ? "" : "/") + c;
                if (merged.isEmpty()) {
                    if (type == S_IFLNK && (!last || followLast)) {
                        String target = Files.readSymbolicLink(p).toString();
                        List<String> next = new ArrayList<>();
                        if (!target.startsWith("/")) {
                            next.addAll(walked);
                        }
                        next.addAll(Arrays.asList(target.split("/")));
                        next.addAll(components.subList(i + 1, components.size()));
                        return walk(split(String.join("/", next)), followLast, links + 1);
                    }
                    if (type != S_IFDIR) {
                        found = entry(p, logical, mode, a);
                        break;
                    }
                    dirEntry = entry(p, logical, mode, a);
                } else if (type != S_IFDIR) {
                    break; // a non-directory below a directory is hidden, and hides the rest
                }
                merged.add(p);
                if (d < dirs.size() - 1 && isOpaque(p)) { // the xattr matters only with layers below
                    break;
                }
            }
            if (found != null) {
                return last ? Optional.of(new Found(found, List.of())) : Optional.empty(); // ENOTDIR: not found
            }
            if (merged.isEmpty()) {
                return Optional.empty();
            }
            dirs = merged;
            walked.add(c);
        }
        if (dirEntry == null) { // the root: every layer, down to the first opaque one
            List<Path> roots = new ArrayList<>();
            for (int d = 0; d < layers.size(); d++) {
                roots.add(layers.get(d));
                if (d < layers.size() - 1 && isOpaque(layers.get(d))) {
                    break;
                }
            }
            return Optional.of(new Found(entry(layers.getFirst(), "/"), roots));
        }
        return Optional.of(new Found(dirEntry, dirs));
    }

    private Entry entry(Path p, String logical) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        return entry(p, logical, (Integer) a.get("mode"), a);
    }

    private Entry entry(Path p, String logical, int mode, Map<String, Object> a) {
        return new Entry(p, logical, mode, uids.applyAsInt((Integer) a.get("uid")),
                gids.applyAsInt((Integer) a.get("gid")));
    }

    private static boolean isOpaque(Path dir) throws IOException {
        return dev.berth.layers.DiskTree.isOpaque(dir);
    }
}
