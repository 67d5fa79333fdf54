package dev.berth.layers.tools;

import dev.berth.layers.Compression;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import java.nio.file.Path;

/**
 * Writes one layer from a directory into an OCI layout and prints its digest and diff_id (and, on
 * standard error, how long adding the tree and writing the layer took; the tree is walked as it is
 * written): the layer writer on its own, for
 * {@code bench/layers.sh}.
 *
 * <p>Usage: {@code java -cp berth.jar dev.berth.layers.tools.WriteLayer DIR LAYOUT [gzip|zstd|none]}
 */
public final class WriteLayer {
    private WriteLayer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: WriteLayer DIR LAYOUT [gzip[:LEVEL]|zstd[:LEVEL]|none]");
            System.exit(2);
        }
        dev.berth.layers.internal.WarmUp.inBackground(); // as berth does while it reads its command line
        Compression compression = Compression.parse(args.length > 2 ? args[2] : "gzip");
        compression.prepare(); // as a COPY does before it walks its sources
        try (ImageStore store = ImageStore.open(Path.of(args[1]))) {
            long start = System.nanoTime();
            LayerWriter writer = LayerWriter.create().addTree(Path.of(args[0]), LayerPath.ROOT,
                    LayerEntry.Attributes.DEFAULT);
            long added = System.nanoTime();
            LayerWriter.Result r = writer.write(store, compression, false);
            long written = System.nanoTime();
            System.out.println(r.blob().digest() + " " + r.blob().size() + " diff_id " + r.diffId() + " " + r.tarSize());
            System.err.printf("add %d ms, write %d ms%n", (added - start) / 1_000_000, (written - added) / 1_000_000);
        }
    }
}
