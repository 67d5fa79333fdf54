package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.testing.Tars;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile layers are refused when they enter the store (berth load of a docker-archive or an OCI archive),
 * with the entry's name, and nothing is named or kept for them; a sound layer with the same kinds of
 * entries used rightly loads.
 */
class LayerCheckTest {
    @TempDir
    Path tmp;

    private static byte[] layer(Tars t) {
        return t.bytes();
    }

    /** A docker-archive of one image whose layers are these tars. */
    private Path dockerArchive(List<byte[]> layers) throws Exception {
        StringBuilder diffIds = new StringBuilder();
        StringBuilder names = new StringBuilder();
        Tars archive = new Tars();
        for (int i = 0; i < layers.size(); i++) {
            diffIds.append(i == 0 ? "" : ",").append('"').append(Digest.sha256(layers.get(i))).append('"');
            names.append(i == 0 ? "" : ",").append("\"l").append(i).append(".tar\"");
            archive.file("l" + i + ".tar", layers.get(i));
        }
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                + diffIds + "]}}";
        archive.file("config.json", config).file("manifest.json", "[{\"Config\":\"config.json\",\"RepoTags\":"
                + "[\"hostile/app:1\"],\"Layers\":[" + names + "]}]");
        Path file = tmp.resolve("a" + System.nanoTime() + ".tar");
        Files.write(file, archive.bytes());
        return file;
    }

    private void refused(byte[] layer, String message) throws Exception {
        Path archive = dockerArchive(List.of(new Tars().file("ok", "fine").bytes(), layer));
        try (ImageStore store = ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"))) {
            Files.createDirectories(tmp.resolve("tmp"));
            int blobs = blobCount();
            assertThatThrownBy(() -> ImageArchive.load(archive, store)).isInstanceOf(LayersException.class)
                    .hasMessageContaining(message);
            assertThat(store.entries()).as("nothing named").isEmpty();
            assertThat(blobCount()).as("nothing stored").isEqualTo(blobs);
        }
    }

    private int blobCount() throws Exception {
        Path dir = tmp.resolve("store/blobs/sha256");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var s = Files.list(dir)) {
            return (int) s.count();
        }
    }

    @Test
    void namesThatLeaveTheRootAreRefused() throws Exception {
        refused(layer(new Tars().file("../../escape", "x")), "entry ../../escape leads out of the root");
        refused(layer(new Tars().file("a/../../b", "x")), "entry a/../../b leads out of the root");
        refused(layer(new Tars().file("/etc/passwd", "x")), "entry /etc/passwd has an absolute name");
    }

    @Test
    void writesThroughASymlinkAndHardLinksOutAreRefused() throws Exception {
        refused(layer(new Tars().symlink("link", "/").file("link/etc/shadow", "x")),
                "entry link/etc/shadow is written through the symlink link");
        refused(layer(new Tars().hardlink("h", "../../etc/shadow")), "hard link h to ../../etc/shadow leads out");
        refused(layer(new Tars().symlink("l", "/etc").hardlink("h", "l/shadow")),
                "hard link h to l/shadow is written through the symlink l");
    }

    @Test
    void anEntryClaimingMoreThanTheLayerHoldsIsRefused() throws Exception {
        byte[] tar = new Tars().file("big", "small").bytes();
        // the size field (offset 124, 12 bytes) as base-256: 8 GiB; then the header's checksum again
        java.util.Arrays.fill(tar, 124, 136, (byte) 0);
        tar[124] = (byte) 0x80;
        long size = 8L << 30;
        for (int i = 0; i < 8; i++) {
            tar[135 - i] = (byte) (size >>> (8 * i));
        }
        java.util.Arrays.fill(tar, 148, 156, (byte) ' ');
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += tar[i] & 0xff;
        }
        byte[] octal = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(octal, 0, tar, 148, 8);
        refused(tar, "entry big claims 8589934592 bytes, more than the layer holds");
    }

    /** As Go's archive/tar: umoci 0.4's insert ends a layer right after its last entry's content. */
    @Test
    void aLayerEndingRightAfterItsLastContentLoadsAndOneCutInsideContentIsRefused() throws Exception {
        byte[] whole = new Tars().file("a", "first").file("msg", "made by umoci\n").bytes();
        byte[] unpadded = java.util.Arrays.copyOf(whole, 3 * 512 + 14);
        try (ImageStore store = ImageStore.open(tmp.resolve("other-store"), tmp.resolve("tmp"))) {
            Files.createDirectories(tmp.resolve("tmp"));
            assertThat(ImageArchive.load(dockerArchive(List.of(unpadded)), store)).hasSize(1);
        }
        LayerExtractor.extract(new java.io.ByteArrayInputStream(unpadded), Files.createDirectories(tmp.resolve("x")),
                LayerExtractor.Whiteouts.APPLY);
        assertThat(tmp.resolve("x/msg")).hasContent("made by umoci");
        assertThat(tmp.resolve("x/a")).hasContent("first");
        refused(java.util.Arrays.copyOf(whole, 3 * 512 + 8), "entry msg claims 14 bytes, more than the layer holds");
    }

    @Test
    void anOciArchiveWithAHostileLayerIsRefusedToo() throws Exception {
        byte[] hostile = new Tars().symlink("link", "/").file("link/etc/shadow", "x").bytes();
        Path layout = tmp.resolve("layout");
        try (ImageStore oci = ImageStore.open(layout)) {
            Descriptor layer = Descriptor.of(MediaType.OCI_LAYER, Digest.sha256(hostile), hostile.length);
            oci.put(new java.io.ByteArrayInputStream(hostile), java.util.Optional.of(layer.digest()),
                    java.util.OptionalLong.of(hostile.length));
            ImageConfig c = ImageConfig.empty(Platform.parse("linux/amd64")).withLayer(Digest.sha256(hostile),
                    ImageConfig.History.of(java.util.Optional.empty(), "x", java.util.Optional.empty()));
            Document<ImageConfig> config = Document.of(c, MediaType.OCI_CONFIG);
            oci.put(config);
            Descriptor m = oci.put(Document.of(Manifest.of(MediaType.OCI_MANIFEST, config.descriptor(), List.of(layer),
                    java.util.Map.of()), MediaType.OCI_MANIFEST));
            oci.tag(Reference.parse("hostile/oci:1"), m);
        }
        Path archive = tmp.resolve("oci.tar");
        dev.berth.layers.testing.Tools.run("tar", "-C", layout.toString(), "--exclude", ".berth-tmp", "-cf",
                archive.toString(), ".").ok();
        try (ImageStore store = ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"))) {
            Files.createDirectories(tmp.resolve("tmp"));
            assertThatThrownBy(() -> ImageArchive.load(archive, store)).isInstanceOf(LayersException.class)
                    .hasMessageContaining("entry link/etc/shadow is written through the symlink link");
            assertThat(store.entries()).isEmpty();
            assertThat(blobCount()).isZero();
        }
    }

    @Test
    void aSoundLayerWithSymlinksAndHardLinksLoads() throws Exception {
        byte[] good = new Tars().dir("etc").file("etc/a", "a").symlink("etc/link", "/etc/a").hardlink("etc/b", "etc/a")
                .symlink("up", "../..").bytes();
        try (ImageStore store = ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"))) {
            Files.createDirectories(tmp.resolve("tmp"));
            assertThat(ImageArchive.load(dockerArchive(List.of(good)), store)).hasSize(1);
        }
    }
}
