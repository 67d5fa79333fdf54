package dev.berth.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The uid and gid maps of a user namespace for a berth that does not run as root, as podman makes them:
 * root of the namespace is the user, and 1..N are the user's sub-ids from {@code /etc/subuid} and
 * {@code /etc/subgid}, written by {@code newuidmap}/{@code newgidmap}. Without a sub-id range (or without
 * those programs, Debian's {@code uidmap} package) the namespace has one id, the user as root, as
 * {@code unshare -r} makes it: then no other user or group exists inside, and {@link #single} says so.
 *
 * @param tools newuidmap and newgidmap, when the maps need them
 */
public record IdMaps(List<Range> uid, List<Range> gid, Optional<List<Path>> tools) {
    /** {@code count} ids from {@code inside} in the namespace are {@code outside} on the host. */
    public record Range(long inside, long outside, long count) {
        /** The host id of a namespace id in this range, if it is in it. */
        Optional<Long> toHost(long id) {
            return id >= inside && id < inside + count ? Optional.of(outside + id - inside) : Optional.empty();
        }

        /** The namespace id of a host id in this range, if it is in it. */
        Optional<Long> toInside(long hostId) {
            return hostId >= outside && hostId < outside + count ? Optional.of(inside + hostId - outside)
                    : Optional.empty();
        }
    }

    public IdMaps {
        uid = List.copyOf(uid);
        gid = List.copyOf(gid);
        tools = tools.map(List::copyOf);
    }

    /** Whether the namespace has only the user's own id (no sub-id range). */
    public boolean single() {
        return tools.isEmpty();
    }

    /** The host uid of {@code id} inside, if it is mapped. */
    public Optional<Long> hostUid(long id) {
        return uid.stream().map(r -> r.toHost(id)).flatMap(Optional::stream).findFirst();
    }

    /** What the kernel shows in the namespace for a host id that is not mapped (overflowuid, overflowgid). */
    public static final int OVERFLOW_ID = 65534;

    /** The uid a file of host uid {@code hostId} has in the namespace ({@link #OVERFLOW_ID} when unmapped). */
    public int containerUid(int hostId) {
        return inside(uid, hostId);
    }

    /** The gid a file of host gid {@code hostId} has in the namespace ({@link #OVERFLOW_ID} when unmapped). */
    public int containerGid(int hostId) {
        return inside(gid, hostId);
    }

    private static int inside(List<Range> ranges, int hostId) {
        return ranges.stream().map(r -> r.toInside(Integer.toUnsignedLong(hostId))).flatMap(Optional::stream)
                .findFirst().map(Long::intValue).orElse(OVERFLOW_ID);
    }

    /** The host gid of {@code id} inside, if it is mapped. */
    public Optional<Long> hostGid(long id) {
        return gid.stream().map(r -> r.toHost(id)).flatMap(Optional::stream).findFirst();
    }

    /**
     * The maps for the user running berth: root is the user, 1.. its first sub-id range (uids and gids
     * alike), or the user alone when there is no range or no newuidmap/newgidmap.
     */
    public static IdMaps forCurrentUser() {
        long uid = ids("Uid");
        long gid = ids("Gid");
        String name = userName(uid);
        Optional<Range> subUid = subIds(Path.of("/etc/subuid"), name, uid);
        Optional<Range> subGid = subIds(Path.of("/etc/subgid"), name, uid);
        Optional<Path> newuidmap = onPath("newuidmap");
        Optional<Path> newgidmap = onPath("newgidmap");
        if (subUid.isPresent() && subGid.isPresent() && newuidmap.isPresent() && newgidmap.isPresent()) {
            return new IdMaps(List.of(new Range(0, uid, 1), new Range(1, subUid.get().outside(), subUid.get().count())),
                    List.of(new Range(0, gid, 1), new Range(1, subGid.get().outside(), subGid.get().count())),
                    Optional.of(List.of(newuidmap.get(), newgidmap.get())));
        }
        return new IdMaps(List.of(new Range(0, uid, 1)), List.of(new Range(0, gid, 1)), Optional.empty());
    }

    /**
     * These maps with the user keeping its own ids inside ({@code --userns=keep-id}, as podman): uid
     * {@code U} inside is the user's host uid {@code U}; 0..U-1 and U+1.. are the sub-ids in their order
     * (root is the first sub-id), so that the namespace has every id it had, plus one. Gids alike.
     *
     * @throws ContainerException with one id only (no sub-ids): there is no other id to be root
     */
    public IdMaps keepId() {
        if (single()) {
            throw new ContainerException("--userns=keep-id needs a sub-id range in /etc/subuid and /etc/subgid "
                    + "(and newuidmap, newgidmap): " + singleReason().orElse(""));
        }
        return new IdMaps(keepId(uid), keepId(gid), tools);
    }

    /** The user's own id (the range at 0 of one id) kept; the rest moved around it. */
    private static List<Range> keepId(List<Range> ranges) {
        long self = ranges.getFirst().outside();
        List<Range> out = new ArrayList<>();
        long next = 0;
        for (Range r : ranges.subList(1, ranges.size())) {
            long below = Math.max(0, Math.min(r.count(), self - next)); // the part that goes before the user's id
            if (below > 0) {
                out.add(new Range(next, r.outside(), below));
                next += below;
            }
            if (below < r.count()) {
                if (next == self) {
                    next++;
                }
                out.add(new Range(next, r.outside() + below, r.count() - below));
                next += r.count() - below;
            }
        }
        out.add(new Range(self, self, 1));
        out.sort(java.util.Comparator.comparingLong(Range::inside));
        return List.copyOf(out);
    }

    /** Why the namespace has one id only, for a warning; empty when it has sub-ids. */
    public Optional<String> singleReason() {
        if (!single()) {
            return Optional.empty();
        }
        String name = userName(ids("Uid"));
        if (onPath("newuidmap").isEmpty() || onPath("newgidmap").isEmpty()) {
            return Optional.of("newuidmap and newgidmap are missing (Debian: apt-get install uidmap): containers "
                    + "have one user, root, which is you; other uids and gids are not available");
        }
        return Optional.of("no sub-id range for " + name + " in /etc/subuid and /etc/subgid: containers have one "
                + "user, root, which is you; other uids and gids are not available");
    }

    /** The helper's arguments for these maps ({@code --uidmap IN OUT N ... [--idmaptools U G]}). */
    List<String> helperArguments() {
        List<String> out = new ArrayList<>();
        for (Range r : uid) {
            out.addAll(List.of("--uidmap", Long.toString(r.inside()), Long.toString(r.outside()), Long.toString(r.count())));
        }
        for (Range r : gid) {
            out.addAll(List.of("--gidmap", Long.toString(r.inside()), Long.toString(r.outside()), Long.toString(r.count())));
        }
        tools.ifPresent(t -> out.addAll(List.of("--idmaptools", t.get(0).toString(), t.get(1).toString())));
        return out;
    }

    /** This process's effective uid. */
    static long currentUid() {
        return ids("Uid");
    }

    private static long ids(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[1]); // effective
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new ContainerException("cannot read this process's ids from /proc/self/status: " + e.getMessage(), e);
        }
        throw new ContainerException("/proc/self/status has no " + field + " line");
    }

    private static String userName(long uid) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":", -1);
                if (f.length > 2 && f[2].equals(Long.toString(uid))) {
                    return f[0];
                }
            }
        } catch (IOException ignored) {
            // a name is only for /etc/subuid lookups; the uid is tried too
        }
        return System.getProperty("user.name", Long.toString(uid));
    }

    /** The first range of {@code name} (or of the uid as a number) in a sub-id file. */
    private static Optional<Range> subIds(Path file, String name, long uid) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split(":");
                if (f.length == 3 && (f[0].equals(name) || f[0].equals(Long.toString(uid)))) {
                    long start = Long.parseLong(f[1].trim());
                    long count = Long.parseLong(f[2].trim());
                    if (count > 0) {
                        return Optional.of(new Range(1, start, count));
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no file, or a line berth cannot read: no range
        }
        return Optional.empty();
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path + ":/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, program);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }
}
