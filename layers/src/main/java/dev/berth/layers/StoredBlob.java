package dev.berth.layers;

/** A blob that is now in a store: its digest and size. */
public record StoredBlob(Digest digest, long size) {
    public Descriptor as(MediaType mediaType) {
        return Descriptor.of(mediaType, digest, size);
    }
}
