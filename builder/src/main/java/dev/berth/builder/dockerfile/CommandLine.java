package dev.berth.builder.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** The command of RUN, CMD, ENTRYPOINT or HEALTHCHECK: exec form (a JSON array) or shell form (a string). */
public sealed interface CommandLine {
    /** {@code ["executable", "arg"]}: run as is, no shell and no variable expansion. */
    record Exec(List<String> args) implements CommandLine {
        public Exec {
            args = List.copyOf(args);
        }
    }

    /** {@code command text}: run by the stage's SHELL (default {@code /bin/sh -c}). */
    record ShellForm(String command) implements CommandLine {
        public ShellForm {
            Objects.requireNonNull(command, "command");
        }
    }

    /**
     * The process arguments: exec form as is; shell form appended to {@code shell} (docker's
     * {@code withShell}, e.g. {@code [/bin/sh, -c, "echo hi"]}).
     */
    default List<String> argv(List<String> shell) {
        return switch (this) {
            case Exec e -> e.args();
            case ShellForm s -> {
                List<String> out = new ArrayList<>(shell);
                out.add(s.command());
                yield List.copyOf(out);
            }
        };
    }

    default boolean isExec() {
        return this instanceof Exec;
    }
}
