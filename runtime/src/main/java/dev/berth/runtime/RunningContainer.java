package dev.berth.runtime;

import dev.berth.runtime.internal.Monitor;
import java.util.OptionalLong;

/**
 * A started container. {@link #await} blocks until it exits, then removes its cgroups and, with
 * {@code --rm}, everything else of it; it is safe to call from several threads and more than once.
 */
public final class RunningContainer {
    final ContainerRuntime runtime;
    final String what;
    final ContainerStore.Slot slot;
    final ContainerState state;
    final Monitor monitor;
    final Cgroups.ContainerCgroup cgroup;
    private RunResult result;
    private ContainerException failure;

    RunningContainer(ContainerRuntime runtime, String what, ContainerStore.Slot slot, ContainerState state,
                     Monitor monitor, Cgroups.ContainerCgroup cgroup) {
        this.runtime = runtime;
        this.what = what;
        this.slot = slot;
        this.state = state;
        this.monitor = monitor;
        this.cgroup = cgroup;
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

    /** Waits for the container to exit and cleans up; throws when it failed before its command ran. */
    public RunResult await() {
        Monitor.Outcome outcome = monitor.await();
        synchronized (this) {
            if (result == null && failure == null) {
                try {
                    result = runtime.finish(this, outcome);
                } catch (ContainerException e) {
                    failure = e;
                }
            }
            if (failure != null) {
                throw failure;
            }
            return result;
        }
    }
}
