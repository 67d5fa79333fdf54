package dev.berth.registry;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.util.List;

/**
 * What a pull did.
 *
 * @param reference the name the image now has in the store
 * @param digest what the reference resolved to in the registry (an index's digest for a multi-platform
 *     image): the digest to pin with {@code name@digest}
 * @param image what the store now names {@code reference}: the single-platform manifest, or the index when
 *     every platform was pulled
 * @param platform the image's platform (with every platform pulled: the entry for the requested or this
 *     machine's platform, else the index's first image)
 * @param platforms the platforms now in the store under {@code reference}, in the index's order
 * @param updated whether the store changed (a blob was downloaded or the name now points elsewhere)
 * @param bytesDownloaded bytes received for blobs
 * @param source the host the image came from (a mirror, or the registry)
 */
public record PullResult(Reference reference, Digest digest, Descriptor image, Platform platform,
                         List<Platform> platforms, boolean updated, long bytesDownloaded, String source) {
    public PullResult {
        platforms = List.copyOf(platforms);
    }
}
