package dev.berth.runtime;

import dev.berth.layers.Image;
import dev.berth.layers.Reference;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code berth start} of a container that ended: its state, the options it was run with ({@link RunConfig})
 * and its image (by its name while that still names the image it ran, else by name and digest).
 */
record ContainerRestart(String what, RunOptions options, ContainerState state, Supplier<ContainerImage> image) {

    static ContainerRestart prepare(ContainerStore containers, ImageResolver images, String n,
                                    Optional<DetachOptions> detach, boolean attachStdin) {
        return prepare(containers, images, n, detach, attachStdin, false);
    }

    /** {@link #prepare}; with {@code running} a container that runs is taken too (to read its files). */
    static ContainerRestart prepare(ContainerStore containers, ImageResolver images, String n,
                                    Optional<DetachOptions> detach, boolean attachStdin, boolean running) {
        Path dir = containers.find(n).orElseThrow(() -> new ContainerException("no such container: " + n));
        ContainerState s = containers.read(dir).orElseThrow(() -> new ContainerException(1, "container " + n
                + " is still starting"));
        String what = "start " + s.name();
        if (!running && ContainerStore.isRunning(dir)) {
            throw new ContainerException(1, "container " + s.name() + " is running");
        }
        Map<?, ?> config = RunConfig.read(dir, what).orElseThrow(() -> new ContainerException(what
                + ": it has no run configuration (a build's container, or one of an older berth): run a new one"));
        RunOptions o = RunConfig.options(config, s.name(), detach, attachStdin);
        Optional<dev.berth.layers.Platform> platform = RunConfig.platform(config);
        Supplier<ContainerImage> image = () -> ContainerImage.of(ContainerRuntime.reference(s.image()),
                image(images, s, platform, what));
        return new ContainerRestart(what, o, s, image);
    }

    /** {@link #image(ImageResolver, ContainerState, Optional, String)} for this machine's platform. */
    static Image image(ImageResolver images, ContainerState s, String what) {
        return image(images, s, Optional.empty(), what);
    }

    /**
     * The image a container ran: by its name while that still names it (for the platform it ran, when
     * the name is of several), else by name and digest.
     */
    static Image image(ImageResolver images, ContainerState s, Optional<dev.berth.layers.Platform> platform,
                       String what) {
        Reference byName = ContainerRuntime.reference(s.image());
        Optional<Image> found = images.find(byName).filter(i -> i.digest().toString().equals(s.imageId()))
                .or(() -> platform.flatMap(p -> images.find(byName, p))
                        .filter(i -> i.digest().toString().equals(s.imageId())))
                .or(() -> images.find(ContainerRuntime.reference(byName.name() + "@" + s.imageId())));
        return found.orElseThrow(() -> new ContainerException(what + ": its image " + s.image() + " ("
                + s.imageId() + ") is no longer in the store"));
    }
}
