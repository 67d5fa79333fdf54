package dev.berth.layers;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where an image's blobs can be read: the local store, an archive, a registry. The stream returned for a
 * descriptor yields exactly the blob's bytes and fails at its end when they do not match the descriptor's
 * digest and size.
 */
@FunctionalInterface
public interface BlobSource {
    InputStream open(Descriptor descriptor) throws IOException;
}
