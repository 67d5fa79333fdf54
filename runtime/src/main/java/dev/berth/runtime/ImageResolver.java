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

    /** Images in the local store, for {@code platform}. */
    static ImageResolver store(ImageStore store, Platform platform) {
        return ref -> store.resolve(ref).map(d -> store.image(d, platform, ref.familiar()));
    }

    /**
     * This resolver; when it lacks an image, {@code fetch} it (e.g. pull it into the store) and ask again.
     * {@code fetch} throws when the image cannot be had.
     */
    default ImageResolver orFetch(Consumer<Reference> fetch) {
        return ref -> {
            Optional<Image> found = find(ref);
            if (found.isPresent()) {
                return found;
            }
            fetch.accept(ref);
            return find(ref);
        };
    }
}
