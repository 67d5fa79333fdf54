package dev.berth.layers;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageStoreTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    @TempDir
    Path tmp;

    private ImageStore open() {
        return ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"));
    }

    private static LayerWriter layer(String name, String content) {
        return LayerWriter.create().add(new LayerEntry.Content(LayerPath.of(name), content.getBytes(UTF_8), Attributes.DEFAULT));
    }

    @Test
    void createsAnOciLayoutAndNamesImagesByFullReference() throws IOException {
        try (ImageStore store = open()) {
            Descriptor d = TestImages.store(store, "app:1", List.of(layer("a", "x")), ContainerConfig.EMPTY);
            assertThat(tmp.resolve("store/oci-layout")).hasContent("{\"imageLayoutVersion\":\"1.0.0\"}");
            assertThat(store.entries()).singleElement().satisfies(e -> {
                assertThat(e.annotations()).containsEntry(Descriptor.REF_NAME, "docker.io/library/app:1")
                        .containsEntry(Descriptor.CONTAINERD_NAME, "docker.io/library/app:1");
                assertThat(e.digest()).isEqualTo(d.digest());
            });
            Image image = store.image(Reference.parse("app:1"), AMD64);
            assertThat(image.digest()).isEqualTo(d.digest());
            assertThat(image.layers()).hasSize(1);
            assertThat(store.resolve(Reference.parse("docker.io/library/app@" + d.digest()))).isPresent();
            // re-tagging replaces, untagging removes only the name
            TestImages.store(store, "app:1", List.of(layer("b", "y")), ContainerConfig.EMPTY);
            assertThat(store.entries()).hasSize(1);
            assertThat(store.untag(Reference.parse("app:1"))).isTrue();
            assertThat(store.untag(Reference.parse("app:1"))).isFalse();
            assertThat(store.has(d.digest())).isTrue();
            assertThatThrownBy(() -> store.image(Reference.parse("app:1"), AMD64))
                    .hasMessage("image app:1 is not in the store");
        }
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestIsRejectedOnWriteAndOnRead() throws IOException {
        try (ImageStore store = open()) {
            Digest wrong = Digest.sha256("other".getBytes(UTF_8));
            assertThatThrownBy(() -> store.put(new java.io.ByteArrayInputStream("data".getBytes(UTF_8)),
                    Optional.of(wrong), OptionalLong.of(4)))
                    .hasMessageContaining(wrong + ": content does not match its digest");
            assertThat(store.has(wrong)).isFalse();
            assertThat(Files.list(tmp.resolve("tmp")).toList()).isEmpty();

            Descriptor d = TestImages.store(store, "app:1", List.of(layer("a", "x")), ContainerConfig.EMPTY);
            Image image = store.image(Reference.parse("app:1"), AMD64);
            Descriptor layerBlob = image.layers().getFirst();
            Path file = store.blobPath(layerBlob.digest());
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 1;
            Files.write(file, bytes);
            assertThatThrownBy(() -> {
                try (InputStream in = image.blobs().open(layerBlob)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }).isInstanceOf(LayersException.class)
                    .hasMessage("app:1: blob " + layerBlob.digest() + " is corrupt: its content does not match its digest");
            // a truncated manifest
            Path manifest = store.blobPath(d.digest());
            Files.write(manifest, Arrays.copyOf(Files.readAllBytes(manifest), 10));
            assertThatThrownBy(() -> store.image(Reference.parse("app:1"), AMD64))
                    .hasMessageContaining("app:1: blob " + d.digest() + " has 10 bytes, expected");
        }
    }

    @Test
    void aLargeBlobFlushedWhileWrittenIsWholeAndAnAbandonedOneLeavesNothing() throws IOException {
        byte[] chunk = new byte[1 << 20];
        new java.util.Random(3).nextBytes(chunk);
        java.security.MessageDigest sha = Digest.hasher("sha256");
        try (ImageStore store = open()) {
            StoredBlob blob;
            try (ImageStore.BlobWriter w = store.newBlob()) {
                for (int i = 0; i < 40; i++) { // past two of the writer's background flushes
                    chunk[0] = (byte) i;
                    w.write(chunk, 0, chunk.length);
                    sha.update(chunk);
                }
                blob = w.commit(Optional.empty(), OptionalLong.of(40L << 20));
            }
            assertThat(blob.digest().hex()).isEqualTo(java.util.HexFormat.of().formatHex(sha.digest()));
            assertThat(Files.size(store.blobPath(blob.digest()))).isEqualTo(40L << 20);

            try (ImageStore.BlobWriter w = store.newBlob()) {
                for (int i = 0; i < 20; i++) {
                    w.write(chunk, 0, chunk.length);
                }
            } // closed without a commit
            assertThat(Files.list(tmp.resolve("tmp")).toList()).isEmpty();
            assertThat(Files.list(store.blobPath(blob.digest()).getParent()).toList()).hasSize(1);
        }
    }

    @Test
    void aMissingBlobNamesTheImageAndTheDigest() throws IOException {
        try (ImageStore store = open()) {
            TestImages.store(store, "app:1", List.of(layer("a", "x")), ContainerConfig.EMPTY);
            Image image = store.image(Reference.parse("app:1"), AMD64);
            Files.delete(store.blobPath(image.id()));
            assertThatThrownBy(() -> store.image(Reference.parse("app:1"), AMD64))
                    .hasMessage("app:1: blob " + image.id() + " is missing from the store");
        }
    }

    @Test
    void aManifestWhoseBytesDoNotMatchItsDigest() throws IOException {
        try (ImageStore store = open()) {
            Descriptor d = TestImages.store(store, "app:1", List.of(layer("a", "x")), ContainerConfig.EMPTY);
            Path file = store.blobPath(d.digest());
            String json = Files.readString(file).replace("\"schemaVersion\":2", "\"schemaVersion\":2 ");
            Files.writeString(file, json.substring(0, (int) d.size()));
            assertThatThrownBy(() -> store.image(Reference.parse("app:1"), AMD64))
                    .hasMessage("app:1: blob " + d.digest() + " is corrupt: its content does not match its digest");
        }
    }

    @Test
    void unknownLayerMediaTypeIsAClearError() throws IOException {
        try (ImageStore store = open()) {
            Document<ImageConfig> config = Document.of(ImageConfig.empty(AMD64)
                    .withLayer(TestImages.sha("x"), ImageConfig.History.of(Optional.empty(), "x", Optional.empty())),
                    MediaType.OCI_CONFIG);
            store.put(config);
            StoredBlob blob = store.put("not a layer".getBytes(UTF_8));
            Document<Manifest> m = Document.of(Manifest.of(MediaType.OCI_MANIFEST, config.descriptor(),
                    List.of(blob.as(MediaType.of("application/x-strange"))), Map.of()), MediaType.OCI_MANIFEST);
            store.tag(Reference.parse("odd"), store.put(m));
            assertThatThrownBy(() -> store.image(Reference.parse("odd"), AMD64))
                    .hasMessage("odd:latest: layer " + blob.digest() + " has unsupported media type application/x-strange");
        }
    }

    @Test
    void aBrokenIndexJsonIsAClearErrorAndEmptyToo() throws IOException {
        try (ImageStore store = open()) {
            Files.writeString(tmp.resolve("store/index.json"), "not json");
            assertThatThrownBy(store::entries).isInstanceOf(LayersException.class)
                    .hasMessageStartingWith("image store " + tmp.resolve("store/index.json") + ": invalid JSON");
            Files.writeString(tmp.resolve("store/index.json"), "");
            assertThatThrownBy(store::entries)
                    .hasMessage("image store " + tmp.resolve("store/index.json") + ": empty file, expected JSON"
                            + " (berth verify --repair rebuilds it from the store's blobs)");
            // nothing was changed by the failed reads
            assertThat(tmp.resolve("store/index.json")).isEmptyFile();
        }
    }

    @Test
    void twoProcessesWritingAtOnceBothSucceed() throws Exception {
        try (ImageStore store = open()) {
            store.entries();
        }
        Path root = tmp.resolve("store");
        Process a = Jvm.start(StoreWriterMain.class, root.toString(), "a", "15", "1000");
        Process b = Jvm.start(StoreWriterMain.class, root.toString(), "b", "15", "1000");
        assertThat(a.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(b.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(a.exitValue()).isZero();
        assertThat(b.exitValue()).isZero();
        try (ImageStore store = open()) {
            assertThat(store.entries()).hasSize(30);
            for (int i = 0; i < 15; i++) {
                assertThat(store.image(Reference.parse("test/a:" + i), AMD64).layers()).hasSize(1);
                assertThat(store.image(Reference.parse("test/b:" + i), AMD64).layers()).hasSize(1);
            }
        }
    }

    @Test
    void killedWritersLeaveAReadableStoreAndLaterWritesComplete() throws Exception {
        Path root = tmp.resolve("store");
        try (ImageStore store = open()) {
            store.entries();
        }
        for (int round = 0; round < 4; round++) {
            Process p = Jvm.start(StoreWriterMain.class, root.toString(), "k" + round, "1000", "200000");
            Thread.sleep(700 + 300L * round);
            p.destroyForcibly().waitFor();
            try (ImageStore store = open()) {
                for (Descriptor d : store.entries()) {
                    Reference ref = Reference.parse(d.annotation(Descriptor.REF_NAME).orElseThrow());
                    Image image = store.image(ref, AMD64);
                    try (InputStream in = image.blobs().open(image.layers().getFirst())) {
                        in.transferTo(OutputStream.nullOutputStream());
                    }
                }
            }
        }
        Process finish = Jvm.start(StoreWriterMain.class, root.toString(), "k0", "3", "200000");
        assertThat(finish.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(finish.exitValue()).isZero();
        try (ImageStore store = open()) {
            assertThat(store.image(Reference.parse("test/k0:2"), AMD64).layers()).hasSize(1);
            store.prune();
            assertThat(Files.list(tmp.resolve("tmp")).toList()).isEmpty();
        }
    }

    @Test
    void pruneRemovesOnlyUnreferencedBlobs() throws IOException {
        try (ImageStore store = open()) {
            TestImages.store(store, "keep", List.of(layer("shared", "s"), layer("k", "k")), ContainerConfig.EMPTY);
            TestImages.store(store, "drop", List.of(layer("shared", "s"), layer("d", "d")), ContainerConfig.EMPTY);
            Image keep = store.image(Reference.parse("keep"), AMD64);
            Image drop = store.image(Reference.parse("drop"), AMD64);
            StoredBlob stray = store.put("stray".getBytes(UTF_8));
            store.untag(Reference.parse("drop"));
            ImageStore.PruneResult r = store.prune();
            // drop's manifest, config and its own layer, and the stray blob
            assertThat(r.blobs()).isEqualTo(4);
            assertThat(store.has(stray.digest())).isFalse();
            assertThat(store.has(drop.digest())).isFalse();
            assertThat(store.has(drop.layers().get(1).digest())).isFalse();
            assertThat(store.has(drop.layers().get(0).digest())).isTrue(); // shared with keep
            assertThat(store.image(Reference.parse("keep"), AMD64).digest()).isEqualTo(keep.digest());
            assertThat(store.prune().blobs()).isZero();
        }
    }
}
