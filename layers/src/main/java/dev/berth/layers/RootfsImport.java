package dev.berth.layers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@code docker import}: a root file system as a tar (plain or compressed) becomes a one-layer image.
 * The tar is extracted first, which checks every entry as a pulled layer's are checked (nothing lands
 * outside the root, no write through a symlink), and the layer is written from the result as berth
 * writes every layer: sorted, USTAR with PAX only where needed, with the owners, modes and times of the
 * tar (owners only when berth runs as root, as extraction can keep them only then).
 */
public final class RootfsImport {
    private RootfsImport() {}

    /**
     * Imports {@code tar} into {@code store} and returns the manifest's descriptor; nothing is named here.
     *
     * @param source what the history entry says it came from ({@code -} for standard input)
     */
    public static Descriptor run(ImageStore store, InputStream tar, String source, Platform platform,
                                 Compression compression) throws IOException {
        Path dir = TempDirs.create(store.tempDirectory(), "import-");
        try {
            Path root = java.nio.file.Files.createDirectory(dir.resolve("rootfs"));
            LayerExtractor.extract(tar, root, LayerExtractor.Whiteouts.APPLY);
            LayerWriter writer = LayerWriter.create();
            List<LayerEntry> entries = DiskTree.entries(root, DiskTree.Kind.PLAIN, Optional.empty(), w -> { });
            entries.forEach(writer::add);
            LayerWriter.Result layer = writer.write(store, compression, false);
            String now = Instant.now().toString();
            ImageConfig config = ImageConfig.empty(platform).withCreated(Optional.of(now))
                    .withLayer(layer.diffId(), ImageConfig.History.of(Optional.of(now), "", Optional.of("Imported from "
                            + source)));
            Document<ImageConfig> configDoc = Document.of(config, MediaType.OCI_CONFIG);
            store.put(configDoc);
            Document<Manifest> manifest = Document.of(Manifest.of(MediaType.OCI_MANIFEST, configDoc.descriptor(),
                    List.of(layer.blob()), java.util.Map.of()), MediaType.OCI_MANIFEST);
            return store.put(manifest);
        } finally {
            LayerExtractor.deleteTree(dir);
        }
    }
}
