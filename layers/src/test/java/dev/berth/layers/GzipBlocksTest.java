package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A layer written again from its previous blob is the layer written from nothing. */
class GzipBlocksTest {
    @TempDir
    Path tmp;

    private Path tree() throws IOException {
        Path root = tmp.resolve("tree");
        Random r = new Random(3);
        for (int i = 0; i < 400; i++) {
            StringBuilder s = new StringBuilder();
            for (int l = 0; l < 200; l++) {
                s.append("value ").append(r.nextInt(5000)).append(' ').append(Long.toHexString(r.nextLong())).append('\n');
            }
            Path f = root.resolve("d" + (i / 40)).resolve("f" + i + ".txt");
            Files.createDirectories(f.getParent());
            Files.writeString(f, s, StandardCharsets.UTF_8);
        }
        return root;
    }

    private static LayerWriter.Result write(ImageStore store, Path tree, Optional<GzipBlocks> blocks) throws IOException {
        return LayerWriter.create().addTree(tree, new LayerPath("src"), LayerEntry.Attributes.of(0755, 0, 0))
                .write(store, new Compression.Gzip(6, 2), false, blocks);
    }

    @Test
    void aLayerWrittenAgainAfterAChangeIsTheLayerWrittenAnew() throws IOException {
        Path tree = tree();
        Path indexes = tmp.resolve("indexes");
        try (ImageStore store = ImageStore.open(tmp.resolve("store"))) {
            LayerWriter.Result first = write(store, tree, Optional.of(new GzipBlocks(indexes, Optional.empty())));
            assertThat(write(store, tree, Optional.empty()).blob()).isEqualTo(first.blob());
            assertThat(indexes.resolve("sha256-" + first.blob().digest().hex())).isRegularFile();

            Files.writeString(tree.resolve("d5/f200.txt"), "changed\n", java.nio.file.StandardOpenOption.APPEND);
            LayerWriter.Result again = write(store, tree,
                    Optional.of(new GzipBlocks(indexes, Optional.of(first.blob().digest()))));
            LayerWriter.Result anew;
            try (ImageStore other = ImageStore.open(tmp.resolve("other"))) {
                anew = write(other, tree, Optional.empty());
            }
            assertThat(again.blob()).isEqualTo(anew.blob());
            assertThat(again.diffId()).isEqualTo(anew.diffId()).isNotEqualTo(first.diffId());
            try (InputStream in = Compression.decompress(store.open(again.blob(), "layer"))) {
                assertThat(Digest.of(Digest.sha256Hasher().digest(in.readAllBytes()))).isEqualTo(again.diffId());
            }
        }
    }
}
