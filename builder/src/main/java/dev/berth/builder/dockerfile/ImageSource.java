package dev.berth.builder.dockerfile;

import java.util.Objects;

/** What a FROM or a {@code COPY --from} refers to: an earlier stage, an image, or nothing at all. */
public sealed interface ImageSource {
    /** A stage of the same Dockerfile. */
    record FromStage(int index) implements ImageSource {}

    /** An image reference (resolved from the local store or a registry by the builder). */
    record External(String reference) implements ImageSource {
        public External {
            Objects.requireNonNull(reference, "reference");
        }
    }

    /** {@code FROM scratch}: an empty filesystem and an empty config. */
    record Scratch() implements ImageSource {}
}
