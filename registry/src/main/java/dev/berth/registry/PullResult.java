package dev.berth.registry;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;

/**
 * What a pull did.
 *
 * @param reference the name the image now has in the store
 * @param digest what the reference resolved to in the registry (an index's digest for a multi-platform
 *     image): the digest to pin with {@code name@digest}
 * @param image the single-platform manifest now in the store under {@code reference}
 * @param platform the image's platform
 * @param updated whether the store changed (a blob was downloaded or the name now points elsewhere)
 * @param bytesDownloaded bytes received for blobs
 * @param source the host the image came from (a mirror, or the registry)
 */
public record PullResult(Reference reference, Digest digest, Descriptor image, Platform platform, boolean updated,
                         long bytesDownloaded, String source) {}
