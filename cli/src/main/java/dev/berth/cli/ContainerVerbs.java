package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerLogs;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.SignalNames;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The verbs that act on containers other berths started: stop, kill, wait, logs, port, and the exit command. */
final class ContainerVerbs {
    private ContainerVerbs() {}

    static ContainerRuntime runtime() {
        try {
            return ContainerRuntime.open(BerthHome.fromEnvironment());
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
    }

    /** Runs {@code action} for each container, reporting each failure as {@code berth: VERB NAME: why} (exit 1). */
    static int each(CommandLine.Model.CommandSpec spec, String verb, List<String> names, Action action) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int code = 0;
        for (String n : names) {
            try {
                action.run(n, out);
            } catch (ContainerException e) {
                err.println("berth: " + verb + " " + n + ": " + e.getMessage());
                code = 1;
            }
        }
        out.flush();
        err.flush();
        return code;
    }

    @FunctionalInterface
    interface Action {
        void run(String name, PrintWriter out);
    }

    /**
     * A verb over one or more containers: each is acted on in turn, each failure reported as
     * {@code berth: VERB NAME: why} and the rest still done (exit 1 if any failed).
     */
    abstract static class EachContainer implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "CONTAINER", description = "Container names or ids.")
        List<String> names;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        /** Checks the options before any container is touched. */
        void check() {}

        /** Acts on one container, printing what docker prints for it. */
        abstract void act(ContainerRuntime rt, String name, PrintWriter out);

        @Override
        public Integer call() {
            check();
            ContainerRuntime rt = runtime();
            return each(spec, spec.name(), names, (n, out) -> act(rt, n, out));
        }
    }

    /** {@code berth stop}: the stop signal, then SIGKILL after the timeout; prints each name. */
    @Command(name = "stop", description = "Stop running containers (their STOPSIGNAL, then SIGKILL).")
    static final class Stop extends EachContainer {
        @Option(names = {"-t", "--time"}, paramLabel = "SECONDS", defaultValue = "10",
                description = "Seconds to wait before SIGKILL (default 10).")
        int seconds;

        @Override
        void check() {
            if (seconds < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "-t must not be negative");
            }
        }

        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            rt.control().stop(n, Duration.ofSeconds(seconds));
            out.println(n);
        }
    }

    /** {@code berth kill}: a signal (SIGKILL by default) to each container's PID 1. */
    @Command(name = "kill", description = "Send a signal to running containers (SIGKILL by default).")
    static final class Kill extends EachContainer {
        @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", defaultValue = "KILL",
                description = "The signal, by name or number (default KILL).")
        String signal;

        private int sig;

        @Override
        void check() {
            try {
                sig = SignalNames.parse(signal);
            } catch (ContainerException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }

        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            rt.control().kill(n, sig);
            out.println(n);
        }
    }

    /** {@code berth wait}: blocks until each container has ended and prints its exit code. */
    @Command(name = "wait", description = "Wait for containers to end; print their exit codes.")
    static final class Wait extends EachContainer {
        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            out.println(rt.control().waitFor(n));
        }
    }

    /** {@code berth pause}: the cgroup freezer. */
    @Command(name = "pause", description = "Freeze every process of running containers (cgroup freezer).")
    static final class Pause extends EachContainer {
        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            rt.control().pause(n, true);
            out.println(n);
        }
    }

    /** {@code berth unpause}. */
    @Command(name = "unpause", description = "Thaw paused containers.")
    static final class Unpause extends EachContainer {
        @Override
        void act(ContainerRuntime rt, String n, PrintWriter out) {
            rt.control().pause(n, false);
            out.println(n);
        }
    }

    @Command(name = "port", description = "List a running container's published ports (or where one goes).")
    static final class Port implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container's name or id.")
        String name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "PORT[/PROTO]",
                description = "Only this container port (tcp unless /udp).")
        String port;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            List<dev.berth.runtime.PortMapping> ports;
            try {
                ports = runtime().control().ports(name);
            } catch (ContainerException e) {
                throw new ContainerFailure(e);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (port == null) {
                ports.forEach(p -> out.println(p.containerPort() + "/" + p.protocol() + " -> " + p.host()));
            } else {
                String[] w = port.split("/", 2);
                String proto = w.length > 1 ? w[1] : "tcp";
                List<String> hosts = ports.stream().filter(p -> w[0].equals(Integer.toString(p.containerPort()))
                        && p.protocol().equals(proto)).map(dev.berth.runtime.PortMapping::host).toList();
                if (hosts.isEmpty()) {
                    throw new ContainerFailure(new ContainerException(1, "no public port '" + w[0] + "/" + proto
                            + "' published for " + name));
                }
                hosts.forEach(out::println);
            }
            out.flush();
            return 0;
        }
    }

    /** {@code berth logs}: a detached container's output, as docker logs prints it. */
    @Command(name = "logs", description = "Show the output of a container run with -d.")
    static final class Logs implements Callable<Integer> {
        @Option(names = {"-f", "--follow"}, description = "Keep printing what it writes until it ends.")
        boolean follow;

        @Option(names = {"-n", "--tail"}, paramLabel = "N", description = "Only the last N lines (all by default).")
        String tail;

        @Option(names = "--since", paramLabel = "TIME",
                description = "Only lines since TIME: RFC 3339 (2026-01-02T15:04:05Z), Unix seconds, or a "
                        + "duration before now (10m, 1h30m).")
        String since;

        @Option(names = {"-t", "--timestamps"}, description = "Prefix each line with its time.")
        boolean timestamps;

        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container name or id.")
        String name;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            OptionalInt n = OptionalInt.empty();
            if (tail != null && !tail.equals("all")) {
                try {
                    n = OptionalInt.of(Integer.parseInt(tail));
                } catch (NumberFormatException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "invalid --tail \"" + tail
                            + "\": a number of lines, or all");
                }
            }
            Optional<Instant> from = Optional.empty();
            if (since != null) {
                try {
                    from = Optional.of(Times.parseSince(since, Instant.now()));
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            try {
                runtime().control().logs(name, new ContainerLogs.Query(follow, n, from, timestamps), System.out, System.err);
            } catch (ContainerException e) {
                throw new ContainerFailure(new ContainerException(e.exitCode(), "logs " + name + ": " + e.getMessage()));
            }
            return 0;
        }
    }

    /**
     * {@code berth container-cleanup}, not for users: the command a detached container's monitor runs when
     * the container has ended, which records its exit (and removes it after {@code --rm}).
     */
    @Command(name = "container-cleanup", hidden = true, description = "Record the exit of ended containers.")
    static final class Cleanup implements Callable<Integer> {
        @Override
        public Integer call() {
            if (!java.nio.file.Files.isDirectory(BerthHome.fromEnvironment().containers())) {
                return 0; // the home is gone (a throw-away one): nothing to record, nothing to create
            }
            runtime().recover();
            return 0;
        }
    }
}
