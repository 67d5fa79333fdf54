package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Reference;
import dev.berth.registry.PushOptions;
import dev.berth.registry.PushResult;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth push [-q] NAME [DESTINATION]}: an image from the store to a registry. */
@Command(name = "push", description = "Upload an image from the local store to a registry.")
final class PushCommand implements Callable<Integer> {
    @Option(names = {"-q", "--quiet"}, description = "Print only the pushed image's name when done.")
    boolean quiet;

    @Parameters(index = "0", paramLabel = "NAME", description = "The image in the store.")
    String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "DESTINATION",
            description = "Where to push it (default: NAME): [registry/]repository[:tag].")
    String destination;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Reference source = Reference.parse(name);
        push(spec, source, destination == null ? source : Reference.parse(destination), quiet);
        return 0;
    }

    /** Pushes {@code source} of the store to {@code dest}, printing as docker push does (or only the name). */
    static PushResult push(CommandLine.Model.CommandSpec spec, Reference source, Reference dest, boolean quiet) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PushOptions options = PushOptions.defaults();
        if (!quiet) {
            options = options.withProgress(new ProgressPrinter(out, err, ProgressPrinter.terminal(), ProgressPrinter.Mode.PUSH));
            out.println("The push refers to repository [" + dest.name() + "]");
            out.flush();
        }
        BerthHome home = BerthHome.fromEnvironment();
        try (RegistryClient registry = RegistryClient.create(RegistryConfig.fromEnvironment());
             ImageStore store = home.openStore()) {
            PushResult r = registry.push(store, source, dest, options);
            if (!quiet) {
                out.println(dest.tag().orElse(r.digest().toString()) + ": digest: " + r.digest() + " size: " + r.size());
            } else {
                out.println(dest);
            }
            out.flush();
            return r;
        }
    }
}
