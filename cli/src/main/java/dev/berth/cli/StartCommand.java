package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.DetachOptions;
import dev.berth.runtime.RunningContainer;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code berth start} and {@code berth restart}: a container that ended runs again, as it was run, on its
 * kept upper directory; detached (kept by the helper's monitor, as {@code run -d}), or with {@code -a} in the
 * foreground with its output on berth's streams and its exit code as berth's.
 */
final class StartCommand {
    private StartCommand() {}

    @Command(name = "start", description = "Start stopped containers again (as they were run, with their files).")
    static final class Start extends ContainerVerbs.EachContainer {
        @Option(names = {"-a", "--attach"}, description = "Stay attached: its output here, its exit code as berth's.")
        boolean attach;

        @Option(names = {"-i", "--interactive"}, description = "With -a: connect berth's stdin (if it was run with -i).")
        boolean interactive;

        @Override
        public Integer call() {
            if (!attach) {
                return super.call();
            }
            if (names.size() > 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "start -a attaches to one container at a time");
            }
            try {
                Signals signals = Signals.install();
                RunningContainer c = ContainerVerbs.runtime().restart(names.getFirst(), Optional.empty(), interactive);
                signals.forwardTo(c);
                return c.await().exitCode();
            } catch (ContainerException e) {
                throw new ContainerFailure(e);
            }
        }

        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            start(rt, n);
            out.println(n);
        }
    }

    @Command(name = "restart", description = "Stop containers (as berth stop does) and start them again.")
    static final class Restart extends ContainerVerbs.EachContainer {
        @Option(names = {"-t", "--time"}, paramLabel = "SECONDS", defaultValue = "10",
                description = "Seconds to wait after the stop signal before SIGKILL (default: ${DEFAULT-VALUE}).")
        int seconds;

        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            rt.control().stop(n, Duration.ofSeconds(Math.max(0, seconds)));
            start(rt, n);
            out.println(n);
        }
    }

    /** Starts one container detached; one that already runs is left as it is (as docker start does). */
    private static void start(ContainerRuntime rt, String n) {
        if (rt.control().running(n)) {
            return;
        }
        RunningContainer c = rt.restart(n, Optional.of(DetachOptions.DEFAULT.withExitCommand(RunCommand.exitCommand())),
                false);
        if (!c.detached()) { // it ended before it could be detached, or failed to start
            int code = c.await().exitCode();
            if (code >= 125 && code <= 127) {
                throw new ContainerException(code, "it failed to start (exit code " + code + ")");
            }
        } else {
            c.release();
        }
    }
}
