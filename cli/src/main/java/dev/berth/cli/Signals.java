package dev.berth.cli;

import dev.berth.runtime.RunningContainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Forwards the signals berth itself receives to its container. Installed before the container starts, so
 * none is lost to the JVM's default action (which would exit and take the container along); one that
 * arrives before the container exists is delivered as soon as it does. The JVM lets an application handle
 * INT, TERM, HUP and USR1; QUIT and USR2 belong to the JVM (thread dumps, thread suspension), so they
 * reach a container only when sent to its monitor process, which forwards all six.
 */
final class Signals {
    private static final Map<String, Integer> FORWARDED = Map.of("INT", 2, "TERM", 15, "HUP", 1, "USR1", 10);

    private java.util.function.IntPredicate container;
    private final List<Integer> pending = new ArrayList<>();

    private Signals() {}

    @SuppressWarnings("removal")
    static Signals install() {
        Signals s = new Signals();
        for (Map.Entry<String, Integer> e : FORWARDED.entrySet()) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(e.getKey()), sig -> s.deliver(e.getValue()));
            } catch (IllegalArgumentException reservedByTheJvm) {
                // e.g. with -Xrs; the signal then keeps its default action
            }
        }
        return s;
    }

    private synchronized void deliver(int signal) {
        if (container == null) {
            pending.add(signal);
        } else {
            container.test(signal);
        }
    }

    synchronized void forwardTo(RunningContainer c) {
        forwardTo(c::signal);
    }

    /** Forwards to {@code target} (a container's or an exec'd process's monitor). */
    synchronized void forwardTo(java.util.function.IntPredicate target) {
        container = target;
        pending.forEach(target::test);
        pending.clear();
    }
}
