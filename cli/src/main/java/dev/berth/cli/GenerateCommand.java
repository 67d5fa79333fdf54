package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerInfo;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth generate systemd CONTAINER}: a systemd unit that runs the container (as it was run, on its
 * upper directory) in the foreground under systemd, which restarts it by its policy: what {@code --restart}
 * would ask of a daemon berth does not have. As podman's, it is printed, not installed.
 */
@Command(name = "generate", description = "Generate files for other tools: systemd units.",
        subcommands = GenerateCommand.Systemd.class)
final class GenerateCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "generate needs what to generate: systemd");
    }

    @Command(name = "systemd", description = "Print a systemd unit that runs a container and restarts it.")
    static final class Systemd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container's name or id.")
        String name;

        @Option(names = "--restart-policy", paramLabel = "POLICY", defaultValue = "on-failure",
                description = "systemd's Restart= (no, on-success, on-failure, on-abnormal, on-abort, always; "
                        + "default: ${DEFAULT-VALUE}).")
        String restart;

        @Option(names = {"-t", "--time"}, paramLabel = "SECONDS", defaultValue = "10",
                description = "Seconds berth stop waits before SIGKILL (default: ${DEFAULT-VALUE}).")
        int seconds;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (!List.of("no", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog", "always")
                    .contains(restart)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--restart-policy: unknown policy \""
                        + restart + "\"");
            }
            ContainerInfo c;
            try {
                var rt = ContainerVerbs.runtime();
                c = rt.list(true).stream().filter(i -> i.name().equals(name) || i.id().startsWith(name)).findFirst()
                        .orElseThrow(() -> new ContainerException(1, "no such container: " + name));
            } catch (ContainerException e) {
                throw new ContainerFailure(e);
            }
            // the launcher (which picks the start-up caches) when berth was started by it, else this JVM's command
            String launcher = System.getProperty("berth.launcher");
            List<String> berth = new java.util.ArrayList<>(launcher != null ? List.of("/usr/bin/env",
                    "BERTH_HOME=" + Stores.home().root(), launcher) : dev.berth.runtime.internal.JvmCommand.current());
            if (launcher == null) {
                berth.add(1, "-Dberth.home=" + Stores.home().root());
                berth.add(Berth.class.getName());
            }
            String cmd = berth.stream().map(Systemd::quote).collect(Collectors.joining(" "));
            String unit = "# container-" + c.name() + ".service, from berth generate systemd\n"
                    + "[Unit]\n"
                    + "Description=berth container " + c.name() + " (" + c.image() + ")\n"
                    + "Wants=network-online.target\n"
                    + "After=network-online.target\n\n"
                    + "[Service]\n"
                    + "Type=exec\n"
                    + "Restart=" + restart + "\n"
                    + "TimeoutStopSec=" + (seconds + 10) + "\n"
                    + "ExecStart=" + cmd + " start -a " + c.name() + "\n"
                    + "ExecStop=" + cmd + " stop -t " + seconds + " " + c.name() + "\n"
                    + "KillMode=mixed\n\n"
                    + "[Install]\n"
                    + "WantedBy=default.target\n";
            spec.commandLine().getOut().print(unit);
            spec.commandLine().getOut().flush();
            return 0;
        }

        /** A word of a systemd command line: quoted when it has to be. */
        private static String quote(String word) {
            return word.matches("[A-Za-z0-9_@%+=:,./-]+") ? word
                    : "\"" + word.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }
}
