package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth bundle}: an OCI runtime bundle (config.json + rootfs) that runc or crun run unchanged. */
@Command(name = "bundle", description = "Write an OCI runtime bundle (config.json and rootfs) of an image.",
        sortOptions = false)
final class BundleCommand implements Callable<Integer>, ContainerOptions.TakesCommand {
    @Mixin
    ContainerOptions container;

    // -h is the host name here, as in docker run, so only the long form asks for help.
    @Option(names = "--help", usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image.")
    String image;

    @Parameters(index = "1", paramLabel = "DIR", description = "The bundle directory (new or empty).",
            preprocessor = ContainerOptions.RestIsCommand.class)
    Path dir;

    @Parameters(index = "2..*", paramLabel = "COMMAND", description = "The command (default: the image's).")
    List<String> command = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void command(List<String> args) {
        command = new ArrayList<>(args);
    }

    @Override
    public Integer call() {
        Path written;
        try {
            written = ImagePulls.runtime(spec.commandLine().getErr(), image)
                    .bundle(image, dir, container.toBuilder(command).build());
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
        spec.commandLine().getOut().println(written);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
