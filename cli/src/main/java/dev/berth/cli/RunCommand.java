package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.DetachOptions;
import dev.berth.runtime.RunOptions;
import dev.berth.runtime.RunResult;
import dev.berth.runtime.RunningContainer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth run}: runs an image's command in a new container and exits with its exit code (docker's:
 * the command's status, 128+N for signal N, 125 when berth failed, 126 not executable, 127 not found).
 * SIGINT, SIGTERM and SIGHUP sent to berth are forwarded to the container. An image that is not in the
 * store is pulled first.
 */
@Command(name = "run", description = "Run a command in a new container.", sortOptions = false)
final class RunCommand implements Callable<Integer>, ContainerOptions.TakesCommand {
    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Run the image for this platform "
            + "(from an index; another architecture runs under QEMU user emulation).")
    String platform;

    @Option(names = "--rm", description = "Remove the container when it exits.")
    boolean remove;

    @Option(names = "--name", paramLabel = "NAME", description = "Name the container (default: its short id).")
    String name;

    @Option(names = "--init", description = "Run an init as PID 1 that forwards signals and reaps zombies.")
    boolean init;

    @Option(names = {"-i", "--interactive"}, description = "Connect berth's stdin to the container.")
    boolean interactive;

    @Option(names = {"-d", "--detach"}, description = "Run in the background: print the container's id and "
            + "return; its output goes to its log (berth logs).")
    boolean detach;

    @Option(names = "--log-opt", paramLabel = "KEY=VALUE", description = "With -d: max-size=SIZE (rotate the log "
            + "past it), max-file=N (files kept).")
    List<String> logOpts = new ArrayList<>();

    @Option(names = "--restart", paramLabel = "POLICY", description = "Only \"no\": berth has no daemon to restart "
            + "containers (a systemd unit can: see the README).")
    String restart;

    @Option(names = {"-p", "--publish"}, paramLabel = "[IP:][HOSTPORT:]PORT[/PROTO]",
            description = "Publish a container port on the host (HOSTPORT empty or 0: any free one).")
    List<String> publish = new ArrayList<>();

    @Option(names = {"-P", "--publish-all"}, description = "Publish every port the image exposes, on free host ports.")
    boolean publishAll;

    @Mixin
    ContainerOptions container;

    // -h is the host name here, as in docker run, so only the long form asks for help.
    @Option(names = "--help", usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image, e.g. alpine:3.20.",
            preprocessor = ContainerOptions.RestIsCommand.class)
    String image;

    @Parameters(index = "1..*", paramLabel = "COMMAND", description = "The command and its arguments "
            + "(default: the image's ENTRYPOINT and CMD).")
    List<String> command = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void command(List<String> args) {
        command = new ArrayList<>(args);
    }

    @Override
    public Integer call() {
        RunResult result;
        try {
            RunOptions.Builder b = container.toBuilder(command).remove(remove).init(init).interactive(interactive);
            if (name != null) {
                b.name(name);
            }
            publish(b);
            if (restart != null && !restart.equals("no")) {
                throw new ContainerException("--restart " + restart + ": berth has no daemon to restart containers; "
                        + "run it from a systemd unit with Restart=" + (restart.startsWith("on-failure") ? "on-failure"
                        : "always") + " and ExecStart=berth run --rm ... (without -d) instead");
            }
            if (detach) {
                return detached(b);
            }
            if (!logOpts.isEmpty()) {
                throw new ContainerException("--log-opt needs -d (only a detached container has a log)");
            }
            Signals signals = Signals.install();
            Rootless.warn(spec.commandLine().getErr());
            ContainerRuntime runtime = ImagePulls.runtime(spec.commandLine().getErr(), image, platform());
            RunningContainer c = runtime.start(image, b.build());
            signals.forwardTo(c);
            result = c.await();
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
        if (result.oomKilled()) {
            spec.commandLine().getErr().println("berth: container " + result.name()
                    + " ran out of memory: the kernel's OOM killer killed it (--memory)");
            spec.commandLine().getErr().flush();
        }
        return result.exitCode();
    }

    private java.util.Optional<dev.berth.layers.Platform> platform() {
        if (platform == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(dev.berth.builder.Platforms.parse(platform, "--platform"));
        } catch (dev.berth.builder.BuildException e) {
            throw new ContainerException(e.getMessage());
        }
    }

    /** The monitor's exit command: this berth again, for this home, recording the container's end. */
    static List<String> exitCommand() {
        List<String> exit = new ArrayList<>(dev.berth.runtime.internal.JvmCommand.current());
        exit.add(1, "-Dberth.home=" + Stores.home().root()); // this home, however this berth was told of it
        exit.add(Berth.class.getName());
        exit.add("container-cleanup");
        return exit;
    }

    /** {@code -p} and {@code -P}; as docker, dropped with a warning for the host's network, whose ports are the host's. */
    private void publish(RunOptions.Builder b) {
        if (publish.isEmpty() && !publishAll) {
            return;
        }
        if (b.build().network().equals(dev.berth.runtime.NetworkMode.HOST)) {
            spec.commandLine().getErr().println("WARNING: Published ports are discarded when using host network mode");
            spec.commandLine().getErr().flush();
            return;
        }
        publish.forEach(p -> b.publish(dev.berth.runtime.PortMapping.parse(p)));
        b.publishAll(publishAll);
    }

    /**
     * {@code -d}: starts the container kept by the helper's monitor, whose exit command (this berth again,
     * {@code container-cleanup}) records its end; prints its id as docker does.
     */
    private int detached(RunOptions.Builder b) {
        b.detach(DetachOptions.parse(logOpts).withExitCommand(exitCommand()));
        Rootless.warn(spec.commandLine().getErr());
        RunningContainer c = ImagePulls.runtime(spec.commandLine().getErr(), image, platform()).start(image, b.build());
        spec.commandLine().getOut().println(c.id());
        spec.commandLine().getOut().flush();
        if (!c.detached()) { // it ended before it could be detached, or failed to start: as docker, say so
            RunResult r = c.await();
            return r.exitCode() >= 125 && r.exitCode() <= 127 ? r.exitCode() : 0;
        }
        c.release();
        return 0;
    }
}
