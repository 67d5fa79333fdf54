package dev.berth.runtime;

import dev.berth.runtime.internal.Linux;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A container's cgroups: one directory for v2, one per hierarchy for v1. Records only paths, so it can
 * be stored with the container's state and removed by another berth process.
 */
public record ContainerCgroup(String version, List<Path> dirs) {
    /** No cgroup at all: a rootless container without limits, or with no cgroup it may write. */
    public static final ContainerCgroup NONE = new ContainerCgroup("none", List.of());

    public ContainerCgroup {
        dirs = List.copyOf(dirs);
    }

    /** The {@code cgroup.procs} files the container's PID 1 writes itself into. */
    public List<Path> procsFiles() {
        return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
    }

    /**
     * The pids in the container's cgroups. A cgroup that is gone or being removed (the kernel then
     * answers ENODEV) has none.
     */
    public List<Long> pids() {
        List<Long> out = new ArrayList<>();
        for (Path d : dirs) {
            List<String> lines;
            try {
                lines = Files.readAllLines(d.resolve("cgroup.procs"));
            } catch (IOException e) {
                continue;
            }
            for (String l : lines) {
                if (!l.isBlank() && !out.contains(Long.parseLong(l.trim()))) {
                    out.add(Long.parseLong(l.trim()));
                }
            }
        }
        return out;
    }

    /** How many processes the kernel's OOM killer killed in the container (memory.events / memory.oom_control). */
    public long oomKills() {
        for (Path d : dirs) {
            Path f = d.resolve(version.equals("v2") ? "memory.events" : "memory.oom_control");
            try {
                for (String l : Files.readAllLines(f)) {
                    if (l.startsWith("oom_kill ")) {
                        return Long.parseLong(l.substring("oom_kill ".length()).trim());
                    }
                }
            } catch (NoSuchFileException e) {
                // not the memory hierarchy
            } catch (IOException e) {
                throw new ContainerException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        return 0;
    }

    /**
     * Whether the container's processes are frozen ({@code berth pause}): v2's {@code cgroup.freeze}, v1's
     * freezer hierarchy. False when it has no freezer.
     */
    public boolean frozen() {
        Optional<Path> f = freezer();
        try {
            return f.isPresent() && (version.equals("v2") ? Files.readString(f.get()).trim().equals("1")
                    : !Files.readString(f.get()).trim().equals("THAWED"));
        } catch (IOException e) {
            return false; // gone with the container
        }
    }

    /**
     * Freezes ({@code berth pause}) or thaws the container's processes, and waits until the kernel has
     * done it; {@code what} names the container in errors.
     */
    public void freeze(boolean freeze, String what) {
        Path f = freezer().orElseThrow(() -> new ContainerException(what + " has no cgroup freezer to "
                + (freeze ? "pause" : "unpause") + " it with" + (version.equals("none")
                ? " (a rootless container has a cgroup only with a limit: run it with --pids-limit, --memory or --cpus)"
                : "")));
        boolean v2 = version.equals("v2");
        try {
            Files.writeString(f, v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED"));
            for (int i = 0; i < 1000; i++) { // freezing completes asynchronously
                boolean done = v2 ? Files.readAllLines(f.resolveSibling("cgroup.events")).contains("frozen " + (freeze ? 1 : 0))
                        : Files.readString(f).trim().equals(freeze ? "FROZEN" : "THAWED");
                if (done) {
                    return;
                }
                Thread.sleep(5);
            }
            throw new ContainerException(what + ": the kernel did not " + (freeze ? "freeze" : "thaw") + " it in 5 s");
        } catch (IOException e) {
            throw new ContainerException("cannot " + (freeze ? "pause " : "unpause ") + what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException("interrupted while pausing " + what);
        }
    }

    private Optional<Path> freezer() {
        return dirs.stream().map(d -> d.resolve(version.equals("v2") ? "cgroup.freeze" : "freezer.state"))
                .filter(Files::exists).findFirst();
    }

    /**
     * Kills whatever is left in the cgroups and removes them. A cgroup can only be removed when empty,
     * and dying processes leave it asynchronously, so removal is retried for a few seconds.
     */
    public void destroy() {
        if (version.equals("v1") && frozen()) { // v1's frozen processes die of SIGKILL only once thawed
            try {
                freeze(false, "the container");
            } catch (ContainerException ignored) {
                // removal below still kills and retries
            }
        }
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            Path kill = d.resolve("cgroup.kill");
            if (Files.exists(kill)) {
                try {
                    Files.writeString(kill, "1");
                } catch (IOException ignored) {
                    // fall back to signalling each process below
                }
            }
            for (int attempt = 0; ; attempt++) {
                try {
                    Files.deleteIfExists(d);
                    break;
                } catch (IOException e) {
                    if (attempt >= 500) {
                        throw new ContainerException("cannot remove cgroup " + d + ": " + e.getMessage(), e);
                    }
                }
                killAll(d);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ContainerException("interrupted while removing cgroup " + d);
                }
            }
        }
    }

    private static void killAll(Path dir) {
        try {
            for (String l : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!l.isBlank()) {
                    Linux.kill(Long.parseLong(l.trim()), Linux.SIGKILL);
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // gone meanwhile, or unreadable: the next rmdir attempt tells
        }
    }
}
