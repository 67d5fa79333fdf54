package dev.berth.registry;

/**
 * Receives what a pull or push is doing, for a user interface to render (the CLI draws docker-like lines).
 * Called from several threads at once; implementations must be thread-safe and quick. Byte counts of a
 * transfer arrive at most about ten times a second per blob, plus once at its end.
 */
@FunctionalInterface
public interface Progress {
    void on(ProgressEvent event);

    /** Ignores every event. */
    Progress NONE = event -> { };
}
