package dev.berth.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The machine's cgroup layout, detected as runc and crun detect it: {@code /sys/fs/cgroup} is cgroup2
 * (unified, {@link V2}) or a tmpfs of v1 hierarchies ({@link V1}; a "hybrid" host also has a controller-less
 * cgroup2 at {@code unified}, which berth does not need). A container gets one cgroup per hierarchy it
 * uses, made and given its limits by the JVM before the container's PID 1 joins it, and removed when the
 * container has exited.
 *
 * <p>Placement: v2 cgroups go under {@code /<group>/<id>} of the unified tree (the root is exempt from the
 * no-internal-process rule, so controllers can be enabled for it); v1 cgroups go under berth's own cgroup
 * in each hierarchy, {@code <own>/<group>/<id>}, so a container stays inside the limits of whoever ran
 * berth. The group is {@code berth-<hash of BERTH_HOME>}: each home has its own, so one home's clean-up
 * never touches another's containers.
 */
public sealed interface Cgroups permits Cgroups.V1, Cgroups.V2, Cgroups.None {
    Path DEFAULT_ROOT = Path.of("/sys/fs/cgroup");

    /** The layout of this machine, with container cgroups in {@code group}. */
    static Cgroups detect(String group) {
        if (Files.exists(DEFAULT_ROOT.resolve("cgroup.controllers"))) {
            return new V2(DEFAULT_ROOT, group);
        }
        return V1.fromProc(group);
    }

    /**
     * The cgroups this process may use: as root, {@link #detect}; otherwise the subtree delegated to the
     * user, if any (see {@link CgroupDelegation}), else {@link None}.
     */
    static Cgroups forThisProcess(String group) {
        return dev.berth.layers.BerthHome.isRoot() ? detect(group) : CgroupDelegation.find(DEFAULT_ROOT, group);
    }

    /** The controllers a container's cgroup can have here (of cpu, memory, pids). */
    List<String> controllers();

    /**
     * No cgroup berth may write: a berth that is not root, with none delegated to its user. A container
     * gets no cgroup; limits are refused with {@code reason}.
     */
    record None(String reason) implements Cgroups {
        @Override
        public List<Path> parents() {
            return List.of();
        }

        @Override
        public ContainerCgroup forId(String id) {
            return ContainerCgroup.NONE;
        }

        @Override
        public String version() {
            return "none";
        }

        @Override
        public List<String> controllers() {
            return List.of();
        }

        @Override
        public ContainerCgroup create(String id, Resources resources) {
            if (!resources.none()) {
                throw new ContainerException(reason);
            }
            return ContainerCgroup.NONE;
        }
    }

    /** The group name of a berth home: {@code berth-} and 8 hex digits of the sha256 of its path. */
    static String group(java.nio.file.Path home) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(home.toAbsolutePath().normalize().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "berth-" + java.util.HexFormat.of().formatHex(h, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The directories holding this home's container cgroups (which may not exist yet). */
    List<Path> parents();

    /** The cgroup a container with this id has, or would have (to remove one whose state was lost). */
    ContainerCgroup forId(String id);

    /** "v1" or "v2": how a {@link ContainerCgroup} records where it came from. */
    String version();

    /** Makes the container's cgroup(s) and writes its limits; a limit whose controller is missing is an error. */
    ContainerCgroup create(String id, Resources resources);

    /** The unified hierarchy mounted at {@code root}; containers' cgroups go in {@code root/group}. */
    record V2(Path root, String group) implements Cgroups {
        @Override
        public String version() {
            return "v2";
        }

        @Override
        public List<Path> parents() {
            return List.of(root.resolve(group));
        }

        @Override
        public ContainerCgroup forId(String id) {
            return new ContainerCgroup("v2", List.of(root.resolve(group).resolve(id)));
        }

        @Override
        public List<String> controllers() {
            try {
                Set<String> available = Set.of(read(root.resolve("cgroup.controllers")).trim().split("\\s+"));
                return List.of("cpu", "memory", "pids").stream().filter(available::contains).toList();
            } catch (IOException e) {
                return List.of();
            }
        }

        @Override
        public ContainerCgroup create(String id, Resources resources) {
            Path parent = root.resolve(group);
            Path dir = parent.resolve(id);
            try {
                Set<String> available = Set.of(read(root.resolve("cgroup.controllers")).trim().split("\\s+"));
                List<String> wanted = new ArrayList<>();
                for (String c : List.of("cpu", "memory", "pids")) {
                    if (available.contains(c)) {
                        wanted.add(c);
                    }
                }
                requireController(resources.memoryBytes(), wanted, "memory", "--memory");
                requireController(resources.cpuQuotaMicros(), wanted, "cpu", "--cpus");
                requireController(resources.pidsLimit(), wanted, "pids", "--pids-limit");
                Files.createDirectories(parent);
                enable(root, wanted);
                enable(parent, wanted);
                Files.createDirectory(dir);
                ContainerCgroup cg = new ContainerCgroup("v2", List.of(dir));
                try {
                    if (resources.memoryBytes().isPresent()) {
                        write(dir.resolve("memory.max"), Long.toString(resources.memoryBytes().getAsLong()));
                    }
                    if (resources.cpuQuotaMicros().isPresent()) {
                        write(dir.resolve("cpu.max"), resources.cpuQuotaMicros().getAsLong() + " "
                                + Resources.CPU_PERIOD_MICROS);
                    }
                    if (resources.pidsLimit().isPresent()) {
                        write(dir.resolve("pids.max"), Long.toString(resources.pidsLimit().getAsLong()));
                    }
                } catch (IOException | RuntimeException e) {
                    cg.destroy();
                    throw e;
                }
                return cg;
            } catch (IOException e) {
                throw new ContainerException("cannot create cgroup " + dir + ": " + e.getMessage(), e);
            }
        }

        private static void enable(Path cgroup, List<String> controllers) throws IOException {
            Set<String> on = Set.of(read(cgroup.resolve("cgroup.subtree_control")).trim().split("\\s+"));
            StringBuilder add = new StringBuilder();
            for (String c : controllers) {
                if (!on.contains(c)) {
                    add.append(add.isEmpty() ? "" : " ").append('+').append(c);
                }
            }
            if (!add.isEmpty()) {
                write(cgroup.resolve("cgroup.subtree_control"), add.toString());
            }
        }
    }

    /**
     * Cgroup v1: each controller's hierarchy (mount point) and berth's own cgroup in it.
     *
     * @param hierarchies controller name to (mount point, berth's cgroup path in that hierarchy)
     */
    record V1(Map<String, Hierarchy> hierarchies, String group) implements Cgroups {
        /** A v1 hierarchy: where it is mounted and which cgroup of it this process is in. */
        public record Hierarchy(Path mount, String ownPath) {
            Path parent(String group) {
                return mount.resolve(ownPath.substring(1)).resolve(group);
            }
        }

        @Override
        public List<Path> parents() {
            return hierarchies.values().stream().map(h -> h.parent(group)).distinct().toList();
        }

        @Override
        public ContainerCgroup forId(String id) {
            return new ContainerCgroup("v1", parents().stream().map(p -> p.resolve(id)).toList());
        }

        /** Reads this process's hierarchies from /proc/self/mountinfo and /proc/self/cgroup. */
        static V1 fromProc(String group) {
            try {
                Map<String, Path> mounts = new LinkedHashMap<>();
                for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                    int dash = line.indexOf(" - ");
                    if (dash < 0) {
                        continue;
                    }
                    String[] after = line.substring(dash + 3).split(" ");
                    if (!after[0].equals("cgroup") || after.length < 3) {
                        continue;
                    }
                    Path mountPoint = Path.of(unescape(line.substring(0, dash).split(" ")[4]));
                    for (String opt : after[2].split(",")) {
                        mounts.putIfAbsent(opt, mountPoint);
                    }
                }
                Map<String, Hierarchy> out = new LinkedHashMap<>();
                for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                    String[] f = line.split(":", 3);
                    if (f.length < 3 || f[1].isEmpty()) {
                        continue;
                    }
                    for (String c : f[1].split(",")) {
                        Path m = mounts.get(c);
                        // freezer: not a limit, but berth pause's; every container gets a directory in it
                        if (m != null && List.of("memory", "cpu", "pids", "freezer").contains(c)) {
                            out.put(c, new Hierarchy(m, f[2]));
                        }
                    }
                }
                return new V1(Map.copyOf(out), group);
            } catch (IOException e) {
                throw new ContainerException("cannot read this machine's cgroups: " + e.getMessage(), e);
            }
        }

        @Override
        public String version() {
            return "v1";
        }

        @Override
        public List<String> controllers() {
            return List.of("cpu", "memory", "pids").stream().filter(hierarchies::containsKey).toList();
        }

        @Override
        public ContainerCgroup create(String id, Resources resources) {
            requireController(resources.memoryBytes(), List.copyOf(hierarchies.keySet()), "memory", "--memory");
            requireController(resources.cpuQuotaMicros(), List.copyOf(hierarchies.keySet()), "cpu", "--cpus");
            requireController(resources.pidsLimit(), List.copyOf(hierarchies.keySet()), "pids", "--pids-limit");
            Map<String, Path> dirs = new LinkedHashMap<>();
            for (Map.Entry<String, Hierarchy> h : hierarchies.entrySet()) {
                Path dir = h.getValue().parent(group).resolve(id);
                if (!dirs.containsValue(dir)) { // co-mounted controllers (cpu,cpuacct) share one directory
                    dirs.put(h.getKey(), dir);
                }
            }
            ContainerCgroup cg = new ContainerCgroup("v1", List.copyOf(dirs.values()));
            try {
                for (Path dir : dirs.values()) {
                    Files.createDirectories(dir.getParent());
                    Files.createDirectory(dir);
                }
                if (resources.memoryBytes().isPresent()) {
                    write(dirs.get("memory").resolve("memory.limit_in_bytes"),
                            Long.toString(resources.memoryBytes().getAsLong()));
                }
                if (resources.cpuQuotaMicros().isPresent()) {
                    Path cpu = dirs.get("cpu");
                    write(cpu.resolve("cpu.cfs_period_us"), Long.toString(Resources.CPU_PERIOD_MICROS));
                    write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(resources.cpuQuotaMicros().getAsLong()));
                }
                if (resources.pidsLimit().isPresent()) {
                    write(dirs.get("pids").resolve("pids.max"), Long.toString(resources.pidsLimit().getAsLong()));
                }
                return cg;
            } catch (IOException | RuntimeException e) {
                cg.destroy();
                throw e instanceof ContainerException c ? c
                        : new ContainerException("cannot create the container's cgroups: " + e.getMessage(), e);
            }
        }

        private static String unescape(String mountinfoPath) {
            return mountinfoPath.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
                    .replace("\\134", "\\");
        }
    }

    private static void requireController(OptionalLong limit, List<String> controllers, String controller,
                                          String option) {
        if (limit.isPresent() && !controllers.contains(controller)) {
            throw new ContainerException(option + " needs the " + controller + " cgroup controller, which this "
                    + "machine does not offer");
        }
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file);
    }

    private static void write(Path file, String value) throws IOException {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("write " + value + " to " + file + ": " + e.getMessage(), e);
        }
    }
}
