package dev.berth.registry;

import dev.berth.layers.Digest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Reference;

/**
 * What a push did.
 *
 * @param destination where the image now is
 * @param digest the digest of the pushed manifest or index
 * @param size its size in bytes
 * @param unchanged the registry had exactly this image under that name already, so nothing was sent
 * @param uploaded blobs sent
 * @param mounted blobs linked from another repository instead
 * @param existing blobs the repository had already
 * @param bytesUploaded bytes of blob data sent
 */
public record PushResult(Reference destination, Digest digest, long size, MediaType mediaType, boolean unchanged,
                         int uploaded, int mounted, int existing, long bytesUploaded) {}
