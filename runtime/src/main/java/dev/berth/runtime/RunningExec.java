package dev.berth.runtime;

import dev.berth.runtime.internal.Monitor;

/** A process started in a running container by {@code berth exec}. */
public final class RunningExec {
    private final String what;
    private final Monitor monitor;

    RunningExec(String what, Monitor monitor) {
        this.what = what;
        this.monitor = monitor;
    }

    /** Forwards a signal to the process (through the helper's monitor); false when it already ended. */
    public boolean signal(int signal) {
        return monitor.signal(signal);
    }

    /**
     * Waits for the process to end: its docker exit code (its status, or 128+N for signal N); a failure
     * before the command ran is a {@link ContainerException} with docker's code (125, 126, 127).
     */
    public int await() {
        Monitor.Outcome o = monitor.await();
        if (o.error().isPresent()) {
            throw new ContainerException(o.error().get().code(), what + ": " + o.error().get().message());
        }
        return o.dockerCode();
    }
}
