package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Reference;
import java.util.List;

/**
 * Layers a build took from a cache without downloading them: the image refers to them, the store does not
 * hold them yet. Whoever needs their bytes (a later step, an output) asks for them here; a push can mount
 * them from the repositories that hold them instead.
 */
public interface LazyBlobs {
    LazyBlobs NONE = new LazyBlobs() {
        @Override
        public List<Reference> repositories() {
            return List.of();
        }

        @Override
        public boolean ensure(ImageStore store, Descriptor blob) {
            return store.has(blob);
        }
    };

    /** Registry repositories that hold blobs of this build the store lacks (cross-repository mount sources). */
    List<Reference> repositories();

    /**
     * Brings {@code blob} into {@code store} (verified against its digest) when the store lacks it and it is
     * known here; returns whether the store has it now.
     *
     * @throws CacheBlobException when the cache named the blob but could not give it (gone, corrupt)
     */
    boolean ensure(ImageStore store, Descriptor blob);

    /**
     * Brings every blob of {@code blobs} the store lacks into it; one that is known nowhere is a
     * {@link BuildException} naming it.
     */
    default void ensureAll(ImageStore store, java.util.Collection<Descriptor> blobs) {
        for (Descriptor d : blobs) {
            if (!ensure(store, d)) {
                throw new BuildException("blob " + d.digest() + " is not in the store");
            }
        }
    }
}
