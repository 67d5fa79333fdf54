package dev.berth.layers;

import java.util.List;

/**
 * One single-platform image, wherever it lives: its manifest and config (each with its exact bytes) and
 * a source for its layer blobs. The store, archives and registries all produce and consume this.
 */
public record Image(Document<Manifest> manifest, Document<ImageConfig> config, BlobSource blobs) {

    public Image {
        if (manifest.value().layers().size() != config.value().rootfs().diffIds().size()) {
            throw new LayersException("image " + manifest.digest() + " has " + manifest.value().layers().size()
                    + " layers but its config lists " + config.value().rootfs().diffIds().size() + " diff_ids");
        }
    }

    /** The manifest's digest: what a registry and {@code name@digest} call the image. */
    public Digest digest() {
        return manifest.digest();
    }

    /** The config's digest: docker's image id. */
    public Digest id() {
        return config.digest();
    }

    /** The layer blobs, base first. */
    public List<Descriptor> layers() {
        return manifest.value().layers();
    }

    /** The uncompressed layer digests, base first, one per layer. */
    public List<Digest> diffIds() {
        return config.value().rootfs().diffIds();
    }

    public Platform platform() {
        return config.value().platform();
    }

    /** The bytes the image takes as stored: config plus compressed layers (not counting the manifest). */
    public long size() {
        return config.size() + layers().stream().mapToLong(Descriptor::size).sum();
    }

    /** The manifest's descriptor, with the type it was stored as. */
    public Descriptor descriptor() {
        return manifest.descriptor();
    }
}
