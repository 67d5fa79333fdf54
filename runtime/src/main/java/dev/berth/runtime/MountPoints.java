package dev.berth.runtime;

import dev.berth.layers.DiskTree;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The mount points the helper creates in a container's root because the image lacks them ({@code /proc}
 * in a {@code FROM scratch} image, {@code /etc/hosts}, the target of a {@code RUN --mount}), so that they
 * can be taken out of its upper directory again before that directory becomes a layer, as BuildKit removes
 * its mount stubs. A stub is removed only while it is still what the helper made (an empty directory or an
 * empty file): whatever the command put there stays. A directory of the image that was copied up only to
 * hold a stub is removed too when it is empty and has the image's mode and owner.
 */
final class MountPoints {
    /** Paths the helper will create (deepest first), and existing directories above them with their entries. */
    private final List<String> created;
    private final Map<String, LayeredFs.Entry> above;

    private MountPoints(List<String> created, Map<String, LayeredFs.Entry> above) {
        this.created = created;
        this.above = above;
    }

    /**
     * The stubs of {@code mounts} in a root that shows {@code image}. A mount inside an earlier one
     * ({@code /dev/pts} inside the {@code /dev} tmpfs) creates nothing in the root.
     */
    static MountPoints of(LayeredFs image, List<Mount> mounts) {
        List<String> created = new ArrayList<>();
        Map<String, LayeredFs.Entry> above = new LinkedHashMap<>();
        List<String> earlier = new ArrayList<>();
        for (Mount m : mounts) {
            String dest = m.destination();
            boolean inside = earlier.stream().anyMatch(e -> !e.equals(dest) && ContainerPaths.isUnder(dest, e));
            earlier.add(dest);
            if (inside) {
                continue;
            }
            Map<String, LayeredFs.Entry> existing = new LinkedHashMap<>();
            String path = "";
            for (String part : ContainerPaths.components(dest)) {
                path = path + "/" + part;
                Optional<LayeredFs.Entry> e = image.lookup(path, false);
                if (e.isEmpty()) {
                    if (!created.contains(path)) {
                        created.add(path);
                    }
                    existing.forEach(above::putIfAbsent); // copied up to hold what is created below
                    existing.clear();
                } else if (e.get().isDirectory()) {
                    existing.put(path, e.get());
                } else {
                    break; // a symlink or a file: the helper resolves it, and what it makes is not predicted here
                }
            }
        }
        created.sort(Comparator.comparingInt((String p) -> ContainerPaths.components(p).size()).reversed());
        List<String> dirs = new ArrayList<>(above.keySet());
        dirs.sort(Comparator.comparingInt((String p) -> ContainerPaths.components(p).size()).reversed());
        Map<String, LayeredFs.Entry> ordered = new LinkedHashMap<>();
        dirs.forEach(d -> ordered.put(d, above.get(d)));
        return new MountPoints(List.copyOf(created), ordered);
    }

    /** {@link #of(LayeredFs, List)} of mount destinations (as a container's run.json keeps them). */
    static MountPoints ofDestinations(LayeredFs image, List<String> destinations) {
        return of(image, destinations.stream().map(d -> new Mount(d, "none", "bind", List.of())).toList());
    }

    /**
     * {@code entries} of an upper directory (as {@link DiskTree#entries} reads it) without the stubs, as
     * {@link #removeFrom} would leave them, for a container that still runs: nothing is deleted.
     */
    List<dev.berth.layers.LayerEntry> filter(List<dev.berth.layers.LayerEntry> entries) {
        Map<String, dev.berth.layers.LayerEntry> byPath = new LinkedHashMap<>();
        entries.forEach(e -> byPath.put(e.path().absolute(), e));
        java.util.Set<String> drop = new java.util.HashSet<>();
        for (String p : created) {
            dev.berth.layers.LayerEntry e = byPath.get(p);
            if ((e instanceof dev.berth.layers.LayerEntry.Directory && nothingUnder(p, byPath, drop))
                    || (e instanceof dev.berth.layers.LayerEntry.File f && sizeIsZero(f.source()))) {
                drop.add(p);
            }
        }
        for (Map.Entry<String, LayeredFs.Entry> d : above.entrySet()) {
            if (byPath.get(d.getKey()) instanceof dev.berth.layers.LayerEntry.Directory dir
                    && nothingUnder(d.getKey(), byPath, drop)
                    && dir.attributes().mode().orElse(-1) == d.getValue().permissions()
                    && dir.attributes().uid() == d.getValue().uid() && dir.attributes().gid() == d.getValue().gid()) {
                drop.add(d.getKey());
            }
        }
        return entries.stream().filter(e -> !drop.contains(e.path().absolute())).toList();
    }

    private static boolean nothingUnder(String dir, Map<String, dev.berth.layers.LayerEntry> byPath,
                                        java.util.Set<String> drop) {
        String prefix = dir + "/";
        return byPath.keySet().stream().noneMatch(p -> p.startsWith(prefix) && !drop.contains(p));
    }

    private static boolean sizeIsZero(Path f) {
        try {
            return Files.size(f) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes one file or empty directory of an upper directory. */
    @FunctionalInterface
    interface Deleter {
        void delete(Path file) throws IOException;
    }

    /**
     * Removes the stubs from a container's upper directory (after the container exited) with
     * {@code deleter} (rootless, a stub in a directory of a sub-id's is deleted in the user's namespace).
     */
    void removeFrom(Path upper, Deleter deleter) throws IOException {
        for (String p : created) {
            Path f = upper.resolve(p.substring(1));
            Map<String, Object> a = attributes(f);
            if (a == null) {
                continue;
            }
            int type = (Integer) a.get("mode") & 0170000;
            if ((type == 0040000 && isEmpty(f) && !isOpaque(f)) || (type == 0100000 && (Long) a.get("size") == 0)) {
                deleter.delete(f);
            }
        }
        for (Map.Entry<String, LayeredFs.Entry> d : above.entrySet()) {
            Path f = upper.resolve(d.getKey().substring(1));
            Map<String, Object> a = attributes(f);
            if (a == null || ((Integer) a.get("mode") & 0170000) != 0040000) {
                continue;
            }
            LayeredFs.Entry image = d.getValue();
            if ((Integer) a.get("mode") == image.mode() && (Integer) a.get("uid") == image.uid()
                    && (Integer) a.get("gid") == image.gid() && isEmpty(f) && !isOpaque(f)) {
                deleter.delete(f);
            }
        }
    }

    private static Map<String, Object> attributes(Path f) throws IOException {
        try {
            return Files.readAttributes(f, "unix:mode,size,uid,gid", LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Whether a directory is empty; one this user may not read (a sub-id's, 0700) is kept as if it were not. */
    private static boolean isEmpty(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            return !ds.iterator().hasNext();
        } catch (java.nio.file.AccessDeniedException e) {
            return false;
        }
    }

    private static boolean isOpaque(Path dir) throws IOException {
        return DiskTree.isOpaque(dir);
    }
}
