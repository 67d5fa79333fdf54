package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.util.Optional;

/**
 * Brings an image that a build needs (a FROM or a {@code COPY --from} image) into the local store when it
 * is not there yet: the registry module's puller, wired by the command line. The builder asks only for
 * images the store lacks.
 */
@FunctionalInterface
public interface BaseImages {
    /** No source but the store: a missing image is an error that tells the user to pull it. */
    BaseImages NONE = (ref, platform, store) -> Optional.empty();

    /**
     * Fetches {@code ref} into {@code store} and returns the descriptor of what it stored (a manifest or
     * an index); empty when this source cannot provide it.
     */
    Optional<Descriptor> fetch(Reference ref, Platform platform, ImageStore store);
}
