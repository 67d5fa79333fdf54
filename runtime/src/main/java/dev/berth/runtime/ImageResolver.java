package dev.berth.runtime;

import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the runtime gets images: by default the local store; a caller that can pull (the CLI, with the
 * registry module) adds that with {@link #orFetch}.
 */
@FunctionalInterface
public interface ImageResolver {

    /** The image for this machine's platform, or empty when this resolver does not have it. */
    Optional<Image> find(Reference reference);

    /**
     * The image of {@code reference} for {@code platform}, which may not be this machine's (a container
     * started again runs the image it ran); empty when this resolver cannot pick by platform or lacks it.
     */
    default Optional<Image> find(Reference reference, Platform platform) {
        return Optional.empty();
    }

    /** Images in the local store, for {@code platform} unless asked for another. */
    static ImageResolver store(ImageStore store, Platform platform) {
        return new ImageResolver() {
            @Override
            public Optional<Image> find(Reference ref) {
                return find(ref, platform);
            }

            @Override
            public Optional<Image> find(Reference ref, Platform p) {
                return store.resolve(ref).map(d -> store.image(d, p, ref.familiar()));
            }
        };
    }

    /**
     * This resolver; when it lacks an image, {@code fetch} it (e.g. pull it into the store) and ask again.
     * {@code fetch} throws when the image cannot be had.
     */
    default ImageResolver orFetch(Consumer<Reference> fetch) {
        ImageResolver self = this;
        return new ImageResolver() {
            @Override
            public Optional<Image> find(Reference ref) {
                Optional<Image> found = self.find(ref);
                if (found.isPresent()) {
                    return found;
                }
                fetch.accept(ref);
                return self.find(ref);
            }

            @Override
            public Optional<Image> find(Reference ref, Platform p) {
                return self.find(ref, p);
            }
        };
    }
}
