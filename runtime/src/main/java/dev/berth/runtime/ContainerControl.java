package dev.berth.runtime;

import dev.berth.runtime.internal.Linux;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What berth does to a container another berth process started, detached or not: signals to its PID 1
 * ({@code kill}, {@code stop}), waiting for its end ({@code wait}) and reading its log ({@code logs}).
 * The state it leaves is recorded as {@link ContainerCleanup#recover} records any ended container's.
 */
public final class ContainerControl {
    private final ContainerStore containers;
    private final ContainerCleanup cleanup;
    private final Path lib;

    ContainerControl(ContainerStore containers, ContainerCleanup cleanup, Path lib) {
        this.containers = containers;
        this.cleanup = cleanup;
        this.lib = lib;
    }

    private Path find(String n) {
        return containers.find(n).orElseThrow(() -> new ContainerException("no such container: " + n));
    }

    private ContainerState state(Path dir, String n) {
        return containers.read(dir).orElseThrow(() -> new ContainerException("container " + n + " is still starting"));
    }

    /** Freezes ({@code pause}) or thaws a running container's processes in its cgroup's freezer. */
    public void pause(String n, boolean pause) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        if (!ContainerStore.isRunning(dir)) {
            throw new ContainerException(1, "container " + n + " is not running");
        }
        ContainerCgroup cg = s.cgroup();
        if (cg.frozen() == pause) {
            throw new ContainerException(1, "container " + n + (pause ? " is already paused" : " is not paused"));
        }
        cg.freeze(pause, "container " + n);
    }

    /** Thaws a paused container after a signal, so that its processes can take it (as docker does). */
    private static void thawAfterSignal(ContainerState s, String n) {
        ContainerCgroup cg = s.cgroup();
        if (cg.frozen()) {
            cg.freeze(false, "container " + n);
        }
    }

    /** The container as {@code inspect} shows it (see {@link ContainerInspect}); empty when there is none. */
    public java.util.Optional<java.util.Map<String, Object>> inspect(String n) {
        java.util.Optional<Path> dir = containers.find(n);
        if (dir.isEmpty()) {
            return java.util.Optional.empty();
        }
        cleanup.recover(); // an ended container's exit, recorded
        return containers.read(dir.get()).map(s -> ContainerInspect.of(dir.get(), s, ContainerStore.isRunning(dir.get())));
    }

    /** What a running container's processes use now (see {@link ContainerStats}). */
    public ContainerStats stats(String n) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        if (!ContainerStore.isRunning(dir) || s.pid().isEmpty()) {
            throw new ContainerException(1, "container " + n + " is not running");
        }
        return ContainerStats.of(s);
    }

    /** Whether the container runs now. */
    public boolean running(String n) {
        return ContainerStore.isRunning(find(n));
    }

    /** The ports published to the container while it runs; none once it ended. */
    public List<PortMapping> ports(String n) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        return ContainerStore.isRunning(dir) ? s.ports() : List.of();
    }

    /** Sends {@code signal} to the container's PID 1; a container that is not running is an error. */
    public void kill(String n, int signal) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        if (!ContainerStore.isRunning(dir) || s.pid().isEmpty()) {
            throw new ContainerException("container " + n + " is not running");
        }
        try {
            Linux.kill(s.pid().getAsLong(), signal);
            thawAfterSignal(s, n);
        } catch (IOException e) {
            throw new ContainerException("cannot signal container " + n + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops a running container as docker does: its stop signal ({@code STOPSIGNAL}, else SIGTERM), then
     * SIGKILL when it has not ended after {@code timeout}. A container that is not running is left as it is.
     * Returns whether it had to be killed.
     */
    public boolean stop(String n, Duration timeout) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        if (!ContainerStore.isRunning(dir)) {
            return false;
        }
        boolean killed = false;
        try {
            if (s.pid().isPresent()) {
                Linux.kill(s.pid().getAsLong(), s.stopSignal());
                thawAfterSignal(s, n);
            }
            if (!waitUntilEnded(dir, timeout)) {
                killed = true;
                if (s.pid().isPresent()) {
                    Linux.kill(s.pid().getAsLong(), Linux.SIGKILL);
                }
                if (!waitUntilEnded(dir, Duration.ofSeconds(10))) {
                    throw new ContainerException("container " + n + " did not stop after SIGKILL");
                }
            }
        } catch (IOException e) {
            throw new ContainerException("cannot stop container " + n + ": " + e.getMessage(), e);
        }
        settle(dir);
        return killed;
    }

    /** Waits for the container to end; its exit code (137 for one whose monitor was killed). */
    public int waitFor(String n) {
        Path dir = find(n);
        state(dir, n);
        waitUntilEnded(dir, Duration.ofDays(3650));
        settle(dir);
        if (!Files.exists(dir)) {
            throw new ContainerException("container " + n + " was removed when it ended (--rm)");
        }
        ContainerState s = state(dir, n);
        return s.exitCode().orElse(128 + Linux.SIGKILL);
    }

    /**
     * {@code berth attach}: this process's streams (its terminal, raw, for a container with a tty) to a
     * running detached container, through its keeper's attach socket: the output as it comes, and stdin to
     * the container's stdin or tty when it was run with -i and {@code stdin} is set. Returns the container's
     * exit code once it ended, or empty when the user detached (^P^Q).
     */
    public java.util.OptionalInt attach(String n, boolean stdin) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        if (!ContainerStore.isRunning(dir)) {
            throw new ContainerException(1, "container " + n + " is not running: start it with berth start -a");
        }
        if (!s.detached()) {
            throw new ContainerException(1, "container " + n + " runs in the foreground of the berth that started it;"
                    + " only one run with -d can be attached to");
        }
        Path status = null;
        try {
            Path tmp = Files.createDirectories(lib.resolveSibling("tmp")); // not the directory: --rm removes it
            status = dev.berth.layers.TempDirs.createFile(tmp, "attach-", "");
            List<String> cmd = new java.util.ArrayList<>(List.of(
                    dev.berth.runtime.internal.HelperBinary.ensure(lib).toString(), "--attach", dir.toString(),
                    status.toString()));
            if (!stdin) {
                cmd.add("--no-stdin");
            }
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            int code = p.waitFor();
            String how = Files.readString(status).strip();
            if (code != 0) {
                throw new ContainerException(1, "attach " + n + ": the attach client failed (" + code + ")");
            }
            if (how.equals("detached")) {
                return java.util.OptionalInt.empty();
            }
            if (how.startsWith("exited ")) { // as docker: once attach returns, the container is stopped
                waitUntilEnded(dir, Duration.ofSeconds(30));
                settle(dir);
                return java.util.OptionalInt.of(Integer.parseInt(how.substring(7)));
            }
            return java.util.OptionalInt.of(waitFor(n)); // ended between our look and the connection
        } catch (IOException e) {
            throw new ContainerException(1, "attach " + n + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException(1, "attach " + n + ": interrupted");
        } finally {
            if (status != null) {
                try {
                    Files.deleteIfExists(status);
                } catch (IOException ignored) {
                    // prune empties tmp/
                }
            }
        }
    }

    /** Writes the container's log (see {@link ContainerLogs}). */
    public void logs(String n, ContainerLogs.Query query, OutputStream out, OutputStream err) {
        Path dir = find(n);
        ContainerState s = state(dir, n);
        if (!s.detached()) {
            throw new ContainerException("container " + n + " has no log: its output went to the berth that ran it "
                    + "(only a container run with -d has one)");
        }
        try {
            ContainerLogs.write(dir, query, out, err, () -> ContainerStore.isRunning(dir));
        } catch (IOException e) {
            throw new ContainerException("cannot read the log of container " + n + ": " + e.getMessage(), e);
        }
    }

    private static boolean waitUntilEnded(Path dir, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (ContainerStore.isRunning(dir)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Records an ended container's exit, or waits (a few seconds at most) for the process that is recording
     * it: the berth that ran it, or a detached container's exit command.
     */
    private void settle(Path dir) {
        for (int i = 0; i < 500 && Files.exists(dir.resolve(ContainerStore.RUNNING)); i++) {
            cleanup.recover();
            if (!Files.exists(dir.resolve(ContainerStore.RUNNING))) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
