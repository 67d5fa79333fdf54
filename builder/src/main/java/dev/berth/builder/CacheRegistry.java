package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.MediaType;
import dev.berth.layers.Reference;
import java.util.Optional;

/**
 * A registry as a build cache sees it ({@code --cache-to/--cache-from type=registry}): the registry module's
 * client, wired by the command line with the credentials, mirrors and TLS settings of push and pull. Every
 * method throws (any runtime exception, one line) on a fault; the builder turns that into a warning.
 */
public interface CacheRegistry {
    /** No registry: a registry cache is a warning and a miss. */
    CacheRegistry NONE = new CacheRegistry() {
        @Override
        public Optional<Fetched> manifest(Reference ref) {
            throw new BuildException("this builder has no registry (Builder.withCacheRegistry)");
        }

        @Override
        public void fetch(Reference repository, Descriptor blob, ImageStore store) {
            throw new BuildException("this builder has no registry (Builder.withCacheRegistry)");
        }

        @Override
        public void push(ImageStore store, Descriptor artifact, Descriptor fallback, Reference target, LazyBlobs lazy) {
            throw new BuildException("this builder has no registry (Builder.withCacheRegistry)");
        }
    };

    /** A manifest or index as the registry serves it. */
    record Fetched(MediaType mediaType, byte[] bytes) {}

    /** What {@code ref} names (a cache artifact, an image manifest or an index); empty when it names nothing. */
    Optional<Fetched> manifest(Reference ref);

    /** Downloads a blob of {@code repository} into {@code store}, verified against its digest. */
    void fetch(Reference repository, Descriptor blob, ImageStore store);

    /**
     * Pushes the manifest {@code artifact} of {@code store} as {@code target}: blobs the repository has are
     * skipped, blobs another repository of the registry has are mounted, blobs the store lacks come from
     * {@code lazy}. A registry that refuses the artifact's manifest (an artifact type it does not know) gets
     * {@code fallback}, a plain image manifest of the same blobs.
     */
    void push(ImageStore store, Descriptor artifact, Descriptor fallback, Reference target, LazyBlobs lazy);
}
