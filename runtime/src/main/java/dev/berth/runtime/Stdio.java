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

    Stdio INHERIT = new Inherit();
    Stdio NULL = new Null();

    static Stdio file(Path path) {
        return new File(path, false);
    }

    static Stdio appendTo(Path path) {
        return new File(path, true);
    }
}
