package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Reference;

/** Pushes an image of the store to a registry ({@code --push}); the registry module provides it. */
@FunctionalInterface
public interface ImagePusher {
    /**
     * Pushes the manifest {@code image} and its blobs from {@code store} as {@code target}. A build calls it
     * after naming the image {@code target} in the store, so a pusher may push by that name.
     */
    void push(ImageStore store, Descriptor image, Reference target);

    /**
     * The same for an image some of whose layers a cache gave without downloading them ({@code lazy}): a
     * pusher that can mount them from the repositories that hold them overrides this; this one brings
     * them into the store first.
     */
    default void push(ImageStore store, Descriptor image, Reference target, LazyBlobs lazy) {
        for (Descriptor d : store.reachable(java.util.List.of(image))) {
            lazy.ensure(store, d); // a blob known nowhere (a foreign layer) is the pusher's to judge
        }
        push(store, image, target);
    }
}
