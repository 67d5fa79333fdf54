package dev.berth.layers.testing;

import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Document;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Assembles images from layer writers, for tests in every module. */
public final class TestImages {
    private TestImages() {}

    /**
     * Writes the layers into the store, then a config (linux/amd64, the given container config) and an
     * OCI manifest, tags it as {@code name} and returns the manifest's descriptor.
     */
    public static Descriptor store(ImageStore store, String name, List<LayerWriter> layers,
                                   dev.berth.layers.ContainerConfig config) {
        try {
            ImageConfig c = ImageConfig.empty(Platform.parse("linux/amd64")).withContainerConfig(config)
                    .withCreated(Optional.of("1970-01-01T00:00:01Z"));
            List<Descriptor> blobs = new ArrayList<>();
            int i = 0;
            for (LayerWriter w : layers) {
                LayerWriter.Result r = w.write(store, Compression.defaultGzip(), false);
                blobs.add(r.blob());
                c = c.withLayer(r.diffId(), ImageConfig.History.of(Optional.empty(), "layer " + i++, Optional.empty()));
            }
            Document<ImageConfig> configDoc = Document.of(c, MediaType.OCI_CONFIG);
            store.put(configDoc);
            Document<Manifest> manifest = Document.of(
                    Manifest.of(MediaType.OCI_MANIFEST, configDoc.descriptor(), blobs, Map.of()), MediaType.OCI_MANIFEST);
            Descriptor d = store.put(manifest);
            store.tag(Reference.parse(name), d);
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Digest sha(String s) {
        return Digest.sha256(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
