package dev.berth.layers;

import java.util.List;

/**
 * An image of Docker's schema 2 as the same image with OCI's media types ({@code berth pull --oci}): the
 * config and layers are the same bytes; only the manifest is new, so its digest is another. skopeo's and
 * umoci's {@code oci:} transports read only OCI types from a layout's index.
 */
public final class OciTypes {
    private OciTypes() {}

    /** The descriptor of {@code image} with OCI's types, written into {@code store}; itself when it has them. */
    public static Descriptor convert(ImageStore store, Image image) {
        if (!image.manifest().mediaType().isDocker()) {
            return image.descriptor();
        }
        Manifest m = image.manifest().value();
        Descriptor config = m.config().withMediaType(MediaType.OCI_CONFIG);
        List<Descriptor> layers = m.layers().stream().map(Descriptor::withOciLayerType).toList();
        return store.put(Document.of(Manifest.of(MediaType.OCI_MANIFEST, config, layers, m.annotations()),
                MediaType.OCI_MANIFEST));
    }
}
