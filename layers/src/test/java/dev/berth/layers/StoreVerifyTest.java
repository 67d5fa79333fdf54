package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth verify}: a changed or missing blob named with its image; {@code --repair} of a garbage index. */
class StoreVerifyTest {
    @TempDir
    Path tmp;

    private ImageStore store() throws Exception {
        Files.createDirectories(tmp.resolve("tmp"));
        return ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"));
    }

    private static LayerWriter layer(String name, int bytes) {
        return LayerWriter.create().add(new LayerEntry.Content(LayerPath.of(name), new byte[bytes],
                Attributes.DEFAULT.withMode(0644)));
    }

    @Test
    void aChangedBlobIsNamedWithItsImage() throws Exception {
        try (ImageStore store = store()) {
            TestImages.store(store, "good:1", List.of(layer("a", 100)), ContainerConfig.EMPTY);
            Descriptor bad = TestImages.store(store, "bad:1", List.of(layer("b", 200)), ContainerConfig.EMPTY);
            List<String> lines = new ArrayList<>();
            assertThat(StoreVerify.verify(store, lines::add)).isEmpty();
            assertThat(lines).hasSize(2).allMatch(l -> l.startsWith("ok "));

            Descriptor layer = store.image(bad, Platform.parse("linux/amd64"), "bad:1").layers().getFirst();
            Path file = store.blobPath(layer.digest());
            file.toFile().setWritable(true);
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 1;
            Files.write(file, bytes);
            lines.clear();
            List<StoreVerify.Problem> problems = StoreVerify.verify(store, lines::add);
            assertThat(problems).singleElement().satisfies(p -> {
                assertThat(p.image()).isEqualTo("docker.io/library/bad:1");
                assertThat(p.blob()).isEqualTo(layer.digest().toString());
                assertThat(p.what()).startsWith("its content has digest sha256:");
            });
            assertThat(lines).contains("ok docker.io/library/good:1 (3 blobs)");
            Files.delete(file);
            assertThat(StoreVerify.verify(store, l -> { })).singleElement()
                    .satisfies(p -> assertThat(p.what()).isEqualTo("missing"));
        }
    }

    @Test
    void aGarbageIndexIsNamedAndRepairedFromTheBlobs() throws Exception {
        Descriptor one;
        try (ImageStore store = store()) {
            one = TestImages.store(store, "one:1", List.of(layer("a", 10)), ContainerConfig.EMPTY);
            TestImages.store(store, "two:1", List.of(layer("b", 20)), ContainerConfig.EMPTY);
        }
        Files.writeString(tmp.resolve("store/index.json"), "{garbage");
        try (ImageStore store = store()) {
            assertThatThrownBy(store::entries).hasMessageContaining("index.json: invalid JSON")
                    .hasMessageContaining("berth verify --repair");
        }
        StoreVerify.Repair r = StoreVerify.repair(tmp.resolve("store"));
        assertThat(r.images()).isEqualTo(2);
        assertThat(Files.readString(r.oldIndex())).isEqualTo("{garbage");
        assertThat(r.lost()).singleElement().asString().contains("names of the 2 images");
        try (ImageStore store = store()) {
            assertThat(store.entries()).extracting(Descriptor::digest).contains(one.digest()).hasSize(2);
            assertThat(StoreVerify.verify(store, l -> { })).isEmpty();
            store.image(one, Platform.parse("linux/amd64"), "one"); // readable again
        }
    }
}
