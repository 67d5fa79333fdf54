package dev.berth.runtime;

import dev.berth.runtime.internal.Linux;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The containers of a home after they started: listing ({@code ps}), removal ({@code rm}) and the
 * clean-up after berth processes that were killed, which every run, ps, rm and build with RUN does first.
 * There is no daemon: liveness is the lock a running container's berth holds (see {@link ContainerStore}).
 */
final class ContainerCleanup {
    private final ContainerStore containers;
    private final Cgroups cgroups;
    private final SnapshotStore snapshots;

    ContainerCleanup(ContainerStore containers, Cgroups cgroups, SnapshotStore snapshots) {
        this.containers = containers;
        this.cgroups = cgroups;
        this.snapshots = snapshots;
    }

    /** Containers, newest first: running ones, and with {@code all} the exited ones too. */
    List<ContainerInfo> list(boolean all) {
        recover();
        List<ContainerInfo> out = new ArrayList<>();
        for (Path dir : containers.containers()) {
            Optional<ContainerState> s = containers.read(dir);
            if (s.isEmpty()) {
                continue; // starting: no state yet
            }
            ContainerInfo info = info(s.get());
            if (all || info.status() == ContainerInfo.Status.RUNNING) {
                out.add(info);
            }
        }
        out.sort(Comparator.comparing(ContainerInfo::created).reversed());
        return out;
    }

    private static ContainerInfo info(ContainerState s) {
        return new ContainerInfo(s.id(), s.name(), s.image(), s.command(), Instant.parse(s.created()), s.status(),
                s.status() == ContainerInfo.Status.RUNNING ? s.pid() : OptionalLong.empty(), s.exitCode(),
                s.oomKilled(), s.finished().map(Instant::parse),
                s.status() == ContainerInfo.Status.RUNNING ? s.ports() : List.of(),
                s.status() == ContainerInfo.Status.RUNNING
                        && s.cgroup().frozen(),
                Instant.parse(s.started()));
    }

    /**
     * Removes containers by name or id: their upper directory, state and name. A running container is an
     * error unless {@code force}, which kills it first. Returns the names removed.
     */
    List<String> remove(List<String> namesOrIds, boolean force) {
        recover();
        List<String> removed = new ArrayList<>();
        for (String n : namesOrIds) {
            Path dir = containers.find(n).orElseThrow(() -> new ContainerException("no such container: " + n));
            ContainerState s = containers.read(dir).orElseThrow(() -> new ContainerException("container " + n
                    + " is still starting"));
            if (ContainerStore.isRunning(dir)) {
                if (!force) {
                    throw new ContainerException("container " + n + " is running: stop it first, or use berth rm -f");
                }
                kill(s);
                waitUntilStopped(dir, n);
            }
            Optional<ContainerStore.Slot> lock = ContainerStore.tryLock(dir);
            try {
                s.cgroup().destroy();
                detachMounts(dir);
                containers.delete(dir, s.name(), s.id());
            } finally {
                lock.ifPresent(ContainerStore.Slot::close);
            }
            removed.add(s.name());
        }
        return removed;
    }

    private static void kill(ContainerState s) {
        try {
            if (s.monitorPid().isPresent()) {
                Linux.kill(s.monitorPid().getAsLong(), Linux.SIGKILL); // its PID 1 and namespace die with it
            }
            s.cgroup().pids()
                    .forEach(p -> {
                        try {
                            Linux.kill(p, Linux.SIGKILL);
                        } catch (IOException ignored) {
                            // gone
                        }
                    });
        } catch (IOException e) {
            throw new ContainerException("cannot kill container " + s.name() + ": " + e.getMessage(), e);
        }
    }

    private static void waitUntilStopped(Path dir, String name) {
        for (int i = 0; i < 1000 && ContainerStore.isRunning(dir); i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (ContainerStore.isRunning(dir)) {
            throw new ContainerException("container " + name + " did not stop");
        }
    }

    /**
     * Cleans up after berth processes that were killed: their containers' processes, cgroups and mounts
     * (a container's mounts live in its own mount namespace and die with it; any under {@code containers/}
     * on the host are leftovers), their directories when they were {@code --rm}, and interrupted snapshot
     * extractions. Called at the start of every run, ps and rm.
     */
    void recover() {
        for (Path dir : containers.abandonedSetups()) {
            ContainerStore.tryLock(dir).ifPresent(lock -> {
                try {
                    detachMounts(dir);
                    containers.deleteTree(dir);
                } catch (IOException ignored) {
                    // retried next time
                } finally {
                    lock.close();
                }
            });
        }
        for (Path dir : containers.containers()) {
            if (!Files.exists(dir.resolve(ContainerStore.RUNNING), LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Optional<ContainerStore.Slot> lock = ContainerStore.tryLock(dir);
            if (lock.isEmpty()) {
                continue; // its berth is alive
            }
            try {
                Optional<ContainerState> s = containers.read(dir);
                detachMounts(dir);
                if (s.isEmpty()) {
                    containers.deleteTree(dir); // died before it was started
                    continue;
                }
                // A detached container whose monitor saw it end left an exit file: it exited. Without one,
                // what kept it was killed (its pid may be another process's by now: only then is it killed).
                Optional<Detached.Exit> exit = s.get().detached() ? Detached.readExit(dir) : Optional.empty();
                if (exit.isEmpty()) {
                    kill(s.get());
                }
                ContainerCgroup cgroup = s.get().cgroup();
                boolean oom = exit.isPresent() && cgroup.oomKills() > 0;
                cgroup.destroy();
                if (s.get().autoRemove()) {
                    containers.delete(dir, s.get().name(), s.get().id());
                } else {
                    containers.write(dir, s.get().exited(Detached.code(exit), oom,
                            exit.map(e -> e.finished().toString()).orElseGet(() -> Instant.now().toString()),
                            exit.isPresent() ? ContainerInfo.Status.EXITED : ContainerInfo.Status.DEAD));
                    Files.deleteIfExists(dir.resolve(ContainerStore.RUNNING));
                }
            } catch (IOException e) {
                throw new ContainerException("cannot clean up container " + dir.getFileName() + ": " + e.getMessage(), e);
            } finally {
                lock.get().close();
            }
        }
        // Cgroups whose container directory is gone: berth was killed before it recorded them.
        for (Path parent : cgroups.parents()) {
            if (!Files.isDirectory(parent)) {
                continue;
            }
            try (var children = Files.list(parent)) {
                for (Path child : children.toList()) {
                    String id = child.getFileName().toString();
                    if (id.matches("[0-9a-f]{64}") && Files.isDirectory(child)
                            && !Files.exists(containers.dir().resolve(id), LinkOption.NOFOLLOW_LINKS)) {
                        cgroups.forId(id).destroy();
                    }
                }
            } catch (IOException e) {
                throw new ContainerException("cannot list " + parent + ": " + e.getMessage(), e);
            }
        }
        snapshots.cleanTemp();
        detachMounts(containers.dir());
    }

    /** Detaches every host mount at or under {@code dir}, deepest first. */
    static void detachMounts(Path dir) {
        List<String> points = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ", 6);
                if (f.length < 5) {
                    continue;
                }
                String point = f[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
                        .replace("\\134", "\\");
                if (Path.of(point).startsWith(dir)) {
                    points.add(point);
                }
            }
            points.sort(Comparator.comparingInt(String::length).reversed());
            for (String p : points) {
                Linux.detach(p);
            }
        } catch (IOException e) {
            throw new ContainerException("cannot clean up mounts under " + dir + ": " + e.getMessage(), e);
        }
    }
}
