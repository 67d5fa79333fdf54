package dev.berth.layers;

import dev.berth.layers.testing.TestImages;
import java.nio.file.Path;
import java.util.List;

/**
 * A second process for store tests: writes {@code count} images tagged {@code PREFIX-i} into the store at
 * {@code args[0]}, each with a fresh layer of about {@code size} bytes.
 */
public final class StoreWriterMain {
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        String prefix = args[1];
        int count = Integer.parseInt(args[2]);
        int size = Integer.parseInt(args[3]);
        try (ImageStore store = ImageStore.open(root, root.resolveSibling("tmp"))) {
            for (int i = 0; i < count; i++) {
                byte[] data = (prefix + i + "-").repeat(Math.max(1, size / 8)).getBytes();
                LayerWriter w = LayerWriter.create().add(new LayerEntry.Content(LayerPath.of("f"), data,
                        LayerEntry.Attributes.DEFAULT));
                TestImages.store(store, "test/" + prefix + ":" + i, List.of(w), ContainerConfig.EMPTY);
            }
        }
    }
}
