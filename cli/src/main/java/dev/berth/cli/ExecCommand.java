package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ExecOptions;
import dev.berth.runtime.RunningExec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth exec}: runs a command in a running container and exits with its exit code (docker's: 126
 * not executable, 127 not found, 125 when berth failed, 1 when the container is not running).
 */
@Command(name = "exec", description = "Run a command in a running container.", sortOptions = false)
final class ExecCommand implements Callable<Integer>, ContainerOptions.TakesCommand {
    @Option(names = {"-i", "--interactive"}, description = "Connect berth's stdin to the command.")
    boolean interactive;

    @Option(names = {"-t", "--tty"}, description = "Give the command a terminal (a pty of the container's).")
    boolean tty;

    @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]",
            description = "User and group (default: the container's), looked up in the container's /etc/passwd.")
    String user;

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory (default: the container's).")
    String workdir;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set an environment variable.")
    List<String> env = new ArrayList<>();

    @Option(names = "--privileged", description = "Every capability, and no no_new_privs.")
    boolean privileged;

    @Parameters(index = "0", paramLabel = "CONTAINER", description = "A running container's name or id.",
            preprocessor = ContainerOptions.RestIsCommand.class)
    String container;

    @Parameters(index = "1..*", paramLabel = "COMMAND", description = "The command and its arguments.")
    List<String> command = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void command(List<String> args) {
        command = new ArrayList<>(args);
    }

    @Override
    public Integer call() {
        if (command.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "exec needs a COMMAND after the container");
        }
        try {
            Signals signals = Signals.install();
            RunningExec e = ContainerVerbs.runtime().exec(container, ExecOptions.of(command, Optional.ofNullable(user),
                    Optional.ofNullable(workdir), env, tty, interactive, privileged));
            signals.forwardTo(e::signal);
            return e.await();
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
    }
}
