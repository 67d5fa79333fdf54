package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth cp}: docker's copy between a container and the host, in either direction; {@code -} for a
 * tar on stdin or stdout (see {@code ContainerCopy}).
 */
@Command(name = "cp", description = "Copy files between a container (running or not) and the host.")
final class CpCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "CONTAINER:PATH, a host path, or - (a tar on stdin).")
    String source;

    @Parameters(index = "1", paramLabel = "DEST", description = "CONTAINER:PATH, a host path, or - (a tar on stdout).")
    String dest;

    @Option(names = {"-L", "--follow-link"}, description = "Follow a symlink at SRC.")
    boolean follow;

    @Option(names = {"-a", "--archive"}, description = "Keep the files' owners (uid:gid), as the source has them.")
    boolean archive;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** CONTAINER:PATH, as docker tells it from a host path: a colon, and no leading / or . */
    record ContainerPath(String container, String path) {
        static java.util.Optional<ContainerPath> parse(String arg) {
            int colon = arg.indexOf(':');
            if (colon <= 0 || arg.startsWith("/") || arg.startsWith(".")) {
                return java.util.Optional.empty();
            }
            String path = arg.substring(colon + 1);
            return java.util.Optional.of(new ContainerPath(arg.substring(0, colon), path.isEmpty() ? "/" : path));
        }
    }

    @Override
    public Integer call() {
        var from = ContainerPath.parse(source);
        var to = ContainerPath.parse(dest);
        if (from.isPresent() == to.isPresent()) {
            throw new ContainerFailure(new ContainerException(1, from.isPresent()
                    ? "cp: copying between containers is not supported: copy to the host first"
                    : "cp: one of SRC and DEST must be CONTAINER:PATH (a host path with a colon: ./" + source + ")"));
        }
        try {
            if (from.isPresent()) {
                if (dest.equals("-") && System.console() != null) {
                    throw new ContainerException(1, "cp: refusing to write a tar to a terminal: redirect it");
                }
                OutputStream out = new java.io.BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
                ContainerVerbs.runtime().copy().fromContainer(from.get().container(), from.get().path(), dest, follow,
                        archive, out);
            } else {
                ContainerVerbs.runtime().copy().toContainer(source, new FileInputStream(FileDescriptor.in),
                        to.get().container(), to.get().path(), follow, archive);
            }
        } catch (ContainerException e) {
            throw new ContainerFailure(e.exitCode() == 125 ? new ContainerException(1, e.getMessage()) : e);
        }
        return 0;
    }
}
