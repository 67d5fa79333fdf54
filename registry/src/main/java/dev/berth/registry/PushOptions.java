package dev.berth.registry;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Reference;
import java.util.List;
import java.util.Optional;

/**
 * How to push.
 *
 * @param mountFrom repositories that may hold the image's blobs (e.g. the base image a build started
 *     from); those on the destination's registry are tried as cross-repository mount sources, in addition
 *     to the repositories berth remembers pulling each blob from or pushing it to
 * @param progress where events go
 * @param missing blobs the image names that the store does not hold (layers a build cache gave without
 *     downloading them): such a blob is skipped when the repository has it, mounted when another may, and
 *     otherwise brought into the store by this before it is uploaded. Without it, such a blob is an error
 *     before anything is sent.
 */
public record PushOptions(List<Reference> mountFrom, Progress progress, Optional<MissingBlobs> missing) {
    /** Brings a blob the store lacks into it (verified); returns whether it could. */
    @FunctionalInterface
    public interface MissingBlobs {
        boolean fetch(Descriptor blob);
    }

    public PushOptions {
        mountFrom = List.copyOf(mountFrom);
    }

    public static PushOptions defaults() {
        return new PushOptions(List.of(), Progress.NONE, Optional.empty());
    }

    public PushOptions withProgress(Progress value) {
        return new PushOptions(mountFrom, value, missing);
    }

    public PushOptions withMountFrom(List<Reference> value) {
        return new PushOptions(value, progress, missing);
    }

    public PushOptions withMissing(MissingBlobs value) {
        return new PushOptions(mountFrom, progress, Optional.of(value));
    }
}
