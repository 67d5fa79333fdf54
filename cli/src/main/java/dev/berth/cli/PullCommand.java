package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PullResult;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth pull [--platform os/arch[/variant] | --all-platforms] [-q] NAME}: an image (or a whole
 * multi-platform index) from a registry into the store.
 */
@Command(name = "pull", description = "Download an image from a registry into the local store.")
final class PullCommand implements Callable<Integer> {
    @Option(names = "--platform", paramLabel = "os/arch[/variant]",
            description = "The platform to pull from a multi-platform image (default: this machine's).")
    String platform;

    @Option(names = {"-a", "--all-platforms"}, description = "Store a multi-platform image whole: every platform's"
            + " manifest, config and layers, and the index under NAME (skopeo's copy --all).")
    boolean allPlatforms;

    @Option(names = {"-q", "--quiet"}, description = "Print only the image's name when done.")
    boolean quiet;

    @Option(names = "--oci", description = "Store an image of Docker's media types with OCI's (same config and"
            + " layers, a new manifest digest), so that skopeo's and umoci's oci: transports read it from the store.")
    boolean oci;

    @Parameters(paramLabel = "NAME", description = "The image: [registry/]repository[:tag|@digest].")
    String name;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Reference ref = Reference.parse(name);
        if (oci && ref.digest().isPresent()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--oci changes the manifest's digest: pull "
                    + name + " by a tag to convert it");
        }
        if (allPlatforms && (platform != null || oci)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--all-platforms stores the index as it is:"
                    + " give it without " + (platform != null ? "--platform" : "--oci"));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PullOptions options = PullOptions.defaults().withAllPlatforms(allPlatforms);
        if (platform != null) {
            options = options.withPlatform(Platform.parse(platform));
        }
        if (!quiet) {
            options = options.withProgress(new ProgressPrinter(out, err, ProgressPrinter.terminal(), ProgressPrinter.Mode.PULL));
            // as docker: the repository's path, without the registry
            out.println(ref.tag().orElseGet(() -> ref.digest().map(Object::toString).orElse("latest")) + ": Pulling from "
                    + ref.repository());
            out.flush();
        }
        BerthHome home = BerthHome.fromEnvironment();
        try (RegistryClient registry = RegistryClient.create(RegistryConfig.fromEnvironment());
             ImageStore store = home.openStore()) {
            PullResult r = registry.pull(store, ref, SnapshotUnpacking.into(options, home));
            if (oci) {
                dev.berth.layers.Image image = store.image(r.image(), r.platform(), ref.familiar());
                dev.berth.layers.Descriptor converted = dev.berth.layers.OciTypes.convert(store, image);
                if (!converted.digest().equals(image.digest())) {
                    store.tag(ref, converted);
                    if (!quiet) {
                        out.println("Stored with OCI media types as " + converted.digest());
                    }
                }
            }
            if (!quiet) {
                if (allPlatforms) {
                    out.println("Platforms: " + String.join(", ", r.platforms().stream().map(Object::toString).toList()));
                }
                out.println("Digest: " + r.digest());
                out.println("Status: " + (r.updated() ? "Downloaded newer image for " : "Image is up to date for ")
                        + ref.familiar());
            }
            out.println(ref);
            out.flush();
        }
        return 0;
    }
}
