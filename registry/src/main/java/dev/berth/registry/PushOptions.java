package dev.berth.registry;

import dev.berth.layers.Reference;
import java.util.List;

/**
 * How to push.
 *
 * @param mountFrom repositories that may hold the image's blobs (e.g. the base image a build started
 *     from); those on the destination's registry are tried as cross-repository mount sources, in addition
 *     to the repositories berth remembers pulling each blob from or pushing it to
 * @param progress where events go
 */
public record PushOptions(List<Reference> mountFrom, Progress progress) {
    public PushOptions {
        mountFrom = List.copyOf(mountFrom);
    }

    public static PushOptions defaults() {
        return new PushOptions(List.of(), Progress.NONE);
    }

    public PushOptions withProgress(Progress value) {
        return new PushOptions(mountFrom, value);
    }

    public PushOptions withMountFrom(List<Reference> value) {
        return new PushOptions(value, progress);
    }
}
