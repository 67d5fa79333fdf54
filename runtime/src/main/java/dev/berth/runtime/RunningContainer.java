package dev.berth.runtime;

import dev.berth.runtime.internal.Monitor;
import java.util.OptionalLong;

/**
 * A started container. When it exits, its cgroups are removed and its state recorded (with {@code --rm},
 * everything of it is removed) on berth's monitor thread, whether or not anyone waits; {@link #await}
 * waits for that and may be called from several threads and more than once.
 */
public final class RunningContainer {
    final ContainerRuntime runtime;
    final String what;
    final ContainerStore.Slot slot;
    final ContainerState state;
    final Monitor monitor;
    final ContainerCgroup cgroup;
    final java.util.Optional<UpperCommit> commit;
    private final java.util.concurrent.CompletableFuture<RunResult> result;

    RunningContainer(ContainerRuntime runtime, String what, ContainerStore.Slot slot, ContainerState state,
                     Monitor monitor, ContainerCgroup cgroup, java.util.Optional<UpperCommit> commit) {
        this.runtime = runtime;
        this.what = what;
        this.slot = slot;
        this.state = state;
        this.monitor = monitor;
        this.cgroup = cgroup;
        this.commit = commit;
        // detached, the monitor's exit command records the end (this JVM may be long gone by then)
        this.result = monitor.outcome().thenApply(o -> monitor.isDetached()
                ? new RunResult(slot.id, slot.name, o.dockerCode(), o.signal(), false) : runtime.finish(this, o));
    }

    public String id() {
        return slot.id;
    }

    public String name() {
        return slot.name;
    }

    /** The host pid of the container's PID 1 (empty if it failed before it existed). */
    public OptionalLong pid() {
        return state.pid();
    }

    /** The pid of berth-helper's monitor process, which forwards signals to the container. */
    public long monitorPid() {
        return monitor.helperPid();
    }

    /**
     * Sends a signal to the container's PID 1 through the monitor (which is how {@code berth run} forwards
     * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2); false when the container already exited.
     */
    public boolean signal(int signal) {
        return monitor.signal(signal);
    }

    /**
     * What the container writes to {@link Stdio#PIPE} (its stdout, with its stderr when that is a pipe
     * too), until it exits; to be read to its end.
     */
    public java.io.InputStream output() {
        return monitor.output();
    }

    /** Waits for the container to exit and be cleaned up; throws when it failed before its command ran. */
    public RunResult await() {
        try {
            return result.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /**
     * For a detached container: this JVM stops watching it (what {@code berth run -d} does before it exits,
     * so that no thread of it waits on the monitor); {@link #await} no longer tells how it ends.
     */
    public void release() {
        monitor.release();
    }

    /** Whether the helper's monitor keeps the container without this JVM ({@code berth run -d}). */
    public boolean detached() {
        return monitor.isDetached();
    }

    /** Whether the container has exited and was cleaned up. */
    public boolean isDone() {
        return result.isDone();
    }
}
