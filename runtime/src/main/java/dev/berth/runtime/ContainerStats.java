package dev.berth.runtime;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A running container's processes and what they use, as {@code berth top} and {@code berth stats} show
 * them. The processes are those in the container's PID namespace (found through {@code /proc}, so a
 * rootless container without a cgroup has them too); CPU time is theirs from {@code /proc/PID/stat};
 * memory is the cgroup's when it has one (what its limit counts), else the processes' resident sets;
 * network bytes are its network namespace's, from {@code /proc/PID/net/dev}; block I/O the cgroup's.
 *
 * @param cpuTicks user and system time of its processes, in clock ticks (USER_HZ, 100 per second)
 * @param memoryLimit the cgroup's memory limit, else the machine's memory
 */
public record ContainerStats(String id, String name, List<Long> pids, long cpuTicks, long memoryUsage,
                             long memoryLimit, long netReceived, long netSent, long blockRead, long blockWritten) {
    /** USER_HZ: what /proc's times count in on every Linux architecture berth runs on. */
    public static final int TICKS_PER_SECOND = 100;

    /** The processes in the PID namespace of {@code pid} (the container's PID 1), by host pid, sorted. */
    static List<Long> pidsInNamespaceOf(long pid) {
        List<Long> out = new ArrayList<>();
        Object ns;
        try {
            ns = Files.getAttribute(Path.of("/proc", Long.toString(pid), "ns", "pid"), "unix:ino");
        } catch (IOException e) {
            return out; // it ended meanwhile
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path p : procs) {
                try {
                    if (ns.equals(Files.getAttribute(p.resolve("ns").resolve("pid"), "unix:ino"))) {
                        out.add(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (IOException | SecurityException e) {
                    // gone, or not ours to see
                }
            }
        } catch (IOException e) {
            throw new ContainerException("cannot list /proc: " + e.getMessage(), e);
        }
        out.sort(null);
        return out;
    }

    static ContainerStats of(ContainerState s) {
        long pid1 = s.pid().orElseThrow();
        List<Long> pids = pidsInNamespaceOf(pid1);
        long ticks = 0;
        long rss = 0;
        for (long p : pids) {
            ticks += cpuTicks(p);
            rss += residentBytes(p);
        }
        ContainerCgroup cg = s.cgroup();
        boolean v2 = cg.version().equals("v2");
        OptionalLong usage = firstNumber(cg, v2 ? "memory.current" : "memory.usage_in_bytes");
        OptionalLong limit = firstNumber(cg, v2 ? "memory.max" : "memory.limit_in_bytes");
        long machine = machineMemory();
        long[] net = netDev(pid1);
        long[] io = v2 ? ioStat(cg) : new long[2];
        return new ContainerStats(s.id(), s.name(), pids, ticks, usage.orElse(rss),
                limit.isPresent() && limit.getAsLong() < machine ? limit.getAsLong() : machine, net[0], net[1], io[0],
                io[1]);
    }

    private static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long residentBytes(long pid) {
        try {
            String[] f = Files.readString(Path.of("/proc", Long.toString(pid), "statm")).trim().split(" ");
            return Long.parseLong(f[1]) * 4096;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static OptionalLong firstNumber(ContainerCgroup cg, String file) {
        for (Path d : cg.dirs()) {
            try {
                String v = Files.readString(d.resolve(file)).trim();
                return v.equals("max") ? OptionalLong.of(Long.MAX_VALUE) : OptionalLong.of(Long.parseLong(v));
            } catch (IOException | NumberFormatException e) {
                // another hierarchy's directory
            }
        }
        return OptionalLong.empty();
    }

    private static long machineMemory() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // unknown: no limit to show
        }
        return Long.MAX_VALUE;
    }

    /** Bytes received and sent on the namespace's interfaces. */
    private static long[] netDev(long pid) {
        long[] out = new long[2];
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "dev"))) {
                int colon = l.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String[] f = l.substring(colon + 1).trim().split("\\s+");
                out[0] += Long.parseLong(f[0]);
                out[1] += Long.parseLong(f[8]);
            }
        } catch (IOException | RuntimeException ignored) {
            // gone meanwhile
        }
        return out;
    }

    private static long[] ioStat(ContainerCgroup cg) {
        long[] out = new long[2];
        for (Path d : cg.dirs()) {
            try {
                for (String l : Files.readAllLines(d.resolve("io.stat"))) {
                    for (String kv : l.split(" ")) {
                        if (kv.startsWith("rbytes=")) {
                            out[0] += Long.parseLong(kv.substring(7));
                        } else if (kv.startsWith("wbytes=")) {
                            out[1] += Long.parseLong(kv.substring(7));
                        }
                    }
                }
            } catch (IOException | NumberFormatException ignored) {
                // no io controller
            }
        }
        return out;
    }
}
