package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.registry.PullOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RegistryException;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.ImageResolver;
import java.io.PrintWriter;

/**
 * What {@code run} and {@code bundle} do with an image that is not in the store: pull it, as
 * {@code docker run} does, with the progress on standard error (standard output is the container's).
 */
final class ImagePulls {
    private ImagePulls() {}

    /** The runtime over berth's home, pulling the images its store lacks. */
    static ContainerRuntime runtime(PrintWriter err) {
        BerthHome home = BerthHome.fromEnvironment();
        ImageStore store = home.openStore();
        return ContainerRuntime.open(home).withImageResolver(ImageResolver.store(store, Platform.host())
                .orFetch(ref -> {
                    err.println("Unable to find image '" + ref.familiar() + "' locally");
                    err.flush();
                    // a store of its own, closed once pulled: a writer's claim on the store would hold off
                    // `berth prune` for as long as the container runs
                    try (ImageStore target = home.openStore();
                         RegistryClient registry = RegistryClient.create(RegistryConfig.fromEnvironment())) {
                        registry.pull(target, ref, PullOptions.defaults()
                                .withProgress(new ProgressPrinter(err, err, ProgressPrinter.terminal(),
                                        ProgressPrinter.Mode.PULL)));
                    } catch (RegistryException e) {
                        throw new ContainerException("image " + ref.familiar() + " is not in the local store and "
                                + "cannot be pulled: " + e.getMessage(), e);
                    }
                }));
    }
}
