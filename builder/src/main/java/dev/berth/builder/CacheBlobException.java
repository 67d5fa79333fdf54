package dev.berth.builder;

import dev.berth.layers.Digest;

/**
 * A layer a cache named could not be had (gone from the registry, corrupt): the build starts again without
 * that cache entry, so the step it would have given is built instead. Never reaches the caller of a build.
 */
final class CacheBlobException extends RuntimeException {
    private final Digest blob;

    CacheBlobException(Digest blob, String message, Throwable cause) {
        super(message, cause);
        this.blob = blob;
    }

    Digest blob() {
        return blob;
    }
}
