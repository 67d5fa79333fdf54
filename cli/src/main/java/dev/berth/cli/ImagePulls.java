package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.PullOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RegistryException;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.ImageResolver;
import java.io.PrintWriter;
import java.util.Optional;

/**
 * What {@code run} and {@code bundle} do with an image that is not in the store: pull it, as
 * {@code docker run} does, with the progress on standard error (standard output is the container's).
 */
final class ImagePulls {
    private ImagePulls() {}

    /**
     * The runtime over berth's home for the image the user named, pulling the images its store lacks. As
     * in docker, {@code image} may also be at least four hex digits of the id or digest of an image in the
     * store (an unnamed one, say, loaded from an archive that names none).
     */
    static ContainerRuntime runtime(PrintWriter err, String image) {
        return runtime(err, image, Optional.empty());
    }

    /**
     * The same, for {@code platform} ({@code run --platform}) or else this machine's: from an index, its
     * entry for that platform; an image for another platform than the one asked for is an error naming both.
     * An image of another architecture runs under QEMU user emulation (the runtime checks for it).
     */
    static ContainerRuntime runtime(PrintWriter err, String image, Optional<Platform> platform) {
        BerthHome home = BerthHome.fromEnvironment();
        ImageStore store = home.openStore();
        Platform wanted = platform.orElse(Platform.host());
        ImageResolver local = ImageResolver.store(store, wanted);
        ImageResolver named = ref -> matching(local.find(ref).or(() -> byId(store, image, ref, wanted)), platform, ref);
        return ContainerRuntime.open(home).withImageResolver(named
                .orFetch(ref -> {
                    err.println("Unable to find image '" + ref.familiar() + "' locally");
                    err.flush();
                    // a store of its own, closed once pulled: a writer's claim on the store would hold off
                    // `berth prune` for as long as the container runs
                    try (ImageStore target = home.openStore();
                         RegistryClient registry = RegistryClient.create(RegistryConfig.fromEnvironment())) {
                        registry.pull(target, ref, SnapshotUnpacking.into(PullOptions.defaults().withPlatform(wanted)
                                .withProgress(new ProgressPrinter(err, err, ProgressPrinter.terminal(),
                                        ProgressPrinter.Mode.PULL)), home));
                    } catch (RegistryException e) {
                        throw new ContainerException("image " + ref.familiar() + " is not in the local store and "
                                + "cannot be pulled: " + e.getMessage(), e);
                    }
                }));
    }

    private static Optional<Image> matching(Optional<Image> found, Optional<Platform> wanted, Reference ref) {
        found.ifPresent(i -> wanted.filter(w -> !i.platform().satisfies(w)).ifPresent(w -> {
            throw new ContainerException("image " + ref.familiar() + " is for " + i.platform() + ", not " + w);
        }));
        return found;
    }

    /** The image {@code arg} names by a prefix of its id or digest, when it is what {@code ref} was parsed from. */
    private static Optional<Image> byId(ImageStore store, String arg, Reference ref, Platform wanted) {
        if (!arg.matches("(sha256:)?[0-9a-f]{4,64}") || !Stores.parseQuietly(arg).map(ref::equals).orElse(false)) {
            return Optional.empty();
        }
        try {
            Stores.find(store, arg);
        } catch (LayersException notThere) {
            return Optional.empty();
        }
        Stores.Entry e = Stores.findOne(store, arg); // several images with that prefix: an error saying so
        return Optional.of(store.image(e.descriptor(), wanted, arg));
    }
}
