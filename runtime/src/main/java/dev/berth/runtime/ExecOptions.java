package dev.berth.runtime;

import java.util.List;
import java.util.Optional;

/**
 * {@code berth exec}: a command in a running container, as {@code docker exec} runs one.
 *
 * @param user {@code -u}; empty: the container's user
 * @param workdir {@code -w}; empty: the container's working directory
 * @param env {@code -e} values, over the container's environment
 * @param privileged {@code --privileged}: every capability, and no {@code no_new_privs}
 */
public record ExecOptions(List<String> command, Optional<String> user, Optional<String> workdir, List<String> env,
                          boolean tty, boolean interactive, boolean privileged, Stdio stdin, Stdio stdout,
                          Stdio stderr) {
    public ExecOptions {
        command = List.copyOf(command);
        env = List.copyOf(env);
        if (command.isEmpty()) {
            throw new ContainerException("exec needs a command");
        }
    }

    /** The command with berth's own streams, stdin only with {@code interactive} (as docker exec). */
    public static ExecOptions of(List<String> command, Optional<String> user, Optional<String> workdir,
                                 List<String> env, boolean tty, boolean interactive, boolean privileged) {
        return new ExecOptions(command, user, workdir, env, tty, interactive, privileged,
                interactive ? Stdio.INHERIT : Stdio.NULL, Stdio.INHERIT, Stdio.INHERIT);
    }
}
