package dev.berth.runtime;

import java.nio.file.Path;

/** Where one of the container's standard streams goes (or, for stdin, comes from). */
public sealed interface Stdio {
    /** berth's own descriptor: the user's terminal or whatever berth's caller connected. */
    record Inherit() implements Stdio {}

    /** {@code /dev/null}. */
    record Null() implements Stdio {}

    /** A file: read for stdin; for output created and truncated, or appended to. */
    record File(Path path, boolean append) implements Stdio {}

    /**
     * A pipe the caller reads, from {@link RunningContainer#output()}: for stdout, or for stderr together
     * with stdout (then both arrive on the one pipe, in the order they were written). The caller must read
     * it to its end, or the container blocks once the pipe is full.
     */
    record Pipe() implements Stdio {}

    Stdio INHERIT = new Inherit();
    Stdio PIPE = new Pipe();
    Stdio NULL = new Null();

    static Stdio file(Path path) {
        return new File(path, false);
    }

    static Stdio appendTo(Path path) {
        return new File(path, true);
    }
}
