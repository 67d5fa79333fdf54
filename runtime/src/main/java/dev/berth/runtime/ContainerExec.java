package dev.berth.runtime;

import dev.berth.runtime.internal.HelperBinary;
import dev.berth.runtime.internal.HelperProtocol;
import dev.berth.runtime.internal.LayeredFs;
import dev.berth.runtime.internal.Monitor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code berth exec}: resolves a command for a running container, as docker exec does (the container's
 * environment under the exec's {@code -e}, its user and working directory unless {@code -u} and
 * {@code -w} say otherwise, users looked up in the container's own {@code /etc/passwd}, seen through its
 * PID 1's root), and has the helper run it in the container's namespaces and cgroups.
 */
final class ContainerExec {
    private ContainerExec() {}

    static RunningExec start(ContainerStore containers, Path helperDir, String n, ExecOptions o,
                             Map<String, String> hostEnv, Optional<IdMaps> maps) {
        String what = "exec " + n;
        Path dir = containers.find(n).orElseThrow(() -> new ContainerException("no such container: " + n));
        ContainerState s = containers.read(dir).orElseThrow(() -> new ContainerException("container " + n
                + " is still starting"));
        if (!ContainerStore.isRunning(dir) || s.pid().isEmpty()) {
            throw new ContainerException(1, "container " + n + " is not running");
        }
        if (s.cgroup().frozen()) {
            throw new ContainerException(1, "container " + n + " is paused: unpause it before exec");
        }
        awaitStarted(dir, n);
        long pid = s.pid().getAsLong();
        List<Path> root = List.of(Path.of("/proc", Long.toString(pid), "root"));
        LayeredFs fs = maps.map(m -> new LayeredFs(root, m::containerUid, m::containerGid))
                .orElseGet(() -> new LayeredFs(root));
        ImageUser user;
        try {
            user = ImageUser.resolve(o.user().or(() -> Optional.of(s.user()).filter(u -> !u.isBlank())), fs);
        } catch (ContainerException e) {
            throw new ContainerException(e.exitCode(), what + ": " + e.getMessage());
        }
        List<String> env = Environment.build(s.env(), List.of(), o.env(), n, user, o.tty(), hostEnv);
        String cwd = ContainerPaths.normalize(o.workdir().map(w -> w.startsWith("/") ? w : s.workdir() + "/" + w)
                .orElse(s.workdir()), "working directory");
        Status status = Status.of(Long.toString(pid));
        // --privileged: every capability berth itself may have (a host's bounding set can lack some)
        Set<Capability> caps = o.privileged() ? Status.of("self").bounding() : status.bounding();
        ContainerSpec.ProcessSpec process = new ContainerSpec.ProcessSpec(o.command(), env, cwd, user.uid(),
                user.gid(), user.additionalGids(), caps, !o.privileged() && status.noNewPrivs(), Defaults.RLIMITS,
                o.tty(), o.interactive(),
                Environment.get(env, "PATH").orElse(Defaults.PATH), seccomp(dir, n, caps));
        List<Path> procs = s.cgroups().stream().map(c -> Path.of(c).resolve("cgroup.procs")).toList();
        Monitor m = Monitor.start(HelperBinary.ensure(helperDir), HelperProtocol.encodeExec(s.id(), pid, procs, process),
                ContainerPlan.stdio(RunOptions.builder().stdin(o.stdin()).stdout(o.stdout()).stderr(o.stderr()).build()),
                "berth-exec-" + s.id().substring(0, 12));
        return new RunningExec(what, m);
    }

    /**
     * Waits until the container's command runs (the helper's monitor marks it): before that its PID 1 is
     * still setting up, with the host's mounts and every capability, and must not be joined.
     */
    private static void awaitStarted(Path dir, String n) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!java.nio.file.Files.exists(dir.resolve(ContainerStore.STARTED))) {
            if (!ContainerStore.isRunning(dir)) {
                throw new ContainerException(1, "container " + n + " is not running");
            }
            if (System.nanoTime() > deadline) {
                throw new ContainerException(1, "container " + n + " has not started its command in 10 s "
                        + "(a container started by an older berth: restart it)");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerException("exec " + n + ": interrupted");
            }
        }
    }

    /**
     * The container's own profile (as its run.json keeps it) for the exec's capabilities, as docker exec
     * applies it. Not read from PID 1's status: an exec right after the start can come before PID 1 has
     * installed its filter.
     */
    private static Optional<SeccompFilter> seccomp(Path dir, String n, Set<Capability> caps) {
        return RunConfig.read(dir, "container " + n).map(RunConfig::seccomp).orElse(Seccomp.BUILTIN).filter(caps);
    }

    /**
     * What the container's PID 1 runs with, from {@code /proc/PID/status}: its bounding set (the
     * container's capabilities, whichever user PID 1 runs as) and {@code no_new_privs}; an exec gets the same.
     */
    private record Status(Set<Capability> bounding, boolean noNewPrivs) {
        static Status of(String pid) {
            List<String> lines;
            try {
                lines = java.nio.file.Files.readAllLines(Path.of("/proc", pid, "status"));
            } catch (java.io.IOException e) {
                throw new ContainerException(1, "the container's PID 1 (" + pid + ") is gone: " + e.getMessage());
            }
            String bnd = field(lines, "CapBnd:", pid);
            return new Status(Capability.of(Long.parseUnsignedLong(bnd, 16)), field(lines, "NoNewPrivs:", pid)
                    .equals("1"));
        }

        private static String field(List<String> lines, String name, String pid) {
            return lines.stream().filter(l -> l.startsWith(name)).map(l -> l.substring(name.length()).strip())
                    .findFirst().orElseThrow(() -> new ContainerException("/proc/" + pid + "/status has no " + name));
        }
    }
}
