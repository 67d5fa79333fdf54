package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.testing.TestImages;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** berth's store, layers and archives against tools no one here wrote: skopeo and umoci. */
class InteropTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    @TempDir
    Path tmp;
    Path skopeo;
    Path umoci;

    @BeforeEach
    void tools() {
        skopeo = Tools.require("skopeo");
        umoci = Tools.require("umoci");
        Tools.requireRoot(); // umoci unpack keeps ownership only as root; the comparisons include owners
    }

    private Path sourceTree() {
        Path src = tmp.resolve("src");
        Trees.file(src, "bin/app", "#!/bin/sh\necho hello\n", 0755);
        Trees.file(src, "etc/app/app.conf", "port=8080\n", 0640);
        Trees.file(src, "etc/app/secret", "s3cr3t", 0600);
        Trees.dir(src, "var/empty", 0700);
        Trees.dir(src, "tmp", 01777);
        Trees.symlink(src, "etc/app/current", "app.conf");
        Trees.symlink(src, "usr/bin/app", "/bin/app");
        Trees.file(src, "share/" + "n".repeat(120) + ".txt", "long", 0644);
        Trees.file(src, "share/ünïcode", "ü", 0644);
        return src;
    }

    private ImageStore store() {
        return ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"));
    }

    @Test
    void skopeoReadsTheStoreAndUmociUnpacksTheSameTree() throws IOException {
        Path src = sourceTree();
        try (ImageStore store = store()) {
            Descriptor d = TestImages.store(store, "example.com/team/app:1.0",
                    List.of(LayerWriter.create().addTree(src, LayerPath.ROOT, Attributes.DEFAULT)), ContainerConfig.EMPTY);
            String layout = "oci:" + tmp.resolve("store") + ":example.com/team/app:1.0";
            JsonNode info = Json.mapper().readTree(Tools.run(skopeo.toString(), "inspect", layout).ok().stdout());
            assertThat(info.get("Digest").asText()).isEqualTo(d.digest().toString());
            assertThat(info.get("Layers")).hasSize(1);
            Tools.run(umoci.toString(), "unpack", "--image", tmp.resolve("store") + ":example.com/team/app:1.0",
                    tmp.resolve("bundle").toString()).ok();
            assertThat(Trees.describe(tmp.resolve("bundle/rootfs"), false)).isEqualTo(Trees.describe(src, false));
            // and skopeo copies it out of the store, keeping the digest
            Tools.run(skopeo.toString(), "copy", layout, "oci:" + tmp.resolve("copy") + ":x").ok();
            JsonNode copied = Json.mapper().readTree(Tools.run(skopeo.toString(), "inspect",
                    "oci:" + tmp.resolve("copy") + ":x").ok().stdout());
            assertThat(copied.get("Digest").asText()).isEqualTo(d.digest().toString());
        }
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesMeanTheSameToUmociAndBerth() throws IOException {
        try (ImageStore store = store()) {
            LayerWriter base = LayerWriter.create()
                    .add(new LayerEntry.Content(LayerPath.of("etc/keep"), "k".getBytes(), Attributes.DEFAULT))
                    .add(new LayerEntry.Content(LayerPath.of("etc/remove-me"), "r".getBytes(), Attributes.DEFAULT))
                    .add(new LayerEntry.Content(LayerPath.of("opt/data/old/a"), "a".getBytes(), Attributes.DEFAULT))
                    .add(new LayerEntry.Content(LayerPath.of("opt/data/b"), "b".getBytes(), Attributes.DEFAULT));
            LayerWriter top = LayerWriter.create()
                    .add(new LayerEntry.Whiteout(LayerPath.of("etc/remove-me")))
                    .add(new LayerEntry.Directory(LayerPath.of("opt/data"), Attributes.of(0750, 0, 0)))
                    .add(new LayerEntry.OpaqueWhiteout(LayerPath.of("opt/data")))
                    .add(new LayerEntry.Content(LayerPath.of("opt/data/new"), "n".getBytes(), Attributes.DEFAULT));
            TestImages.store(store, "layered", List.of(base, top), ContainerConfig.EMPTY);
            Tools.run(umoci.toString(), "unpack", "--image", tmp.resolve("store") + ":docker.io/library/layered:latest",
                    tmp.resolve("bundle").toString()).ok();
            LayerExtractor.unpack(store.image(Reference.parse("layered"), AMD64), tmp.resolve("mine"));
            Map<String, String> theirs = Trees.describe(tmp.resolve("bundle/rootfs"), true);
            assertThat(Trees.describe(tmp.resolve("mine"), true)).isEqualTo(theirs);
            assertThat(theirs).containsOnlyKeys("etc", "etc/keep", "opt", "opt/data", "opt/data/new");
        }
    }

    @Test
    void imagesSkopeoWroteLoadIntoBerthAndExtractAsUmociDoes() throws IOException {
        // an image made by umoci (two layers: the second deletes a file and replaces a directory)
        Path layout = tmp.resolve("umoci-layout");
        Tools.run(umoci.toString(), "init", "--layout", layout.toString()).ok();
        Tools.run(umoci.toString(), "new", "--image", layout + ":v0").ok();
        Path b1 = tmp.resolve("b1");
        Tools.run(umoci.toString(), "unpack", "--image", layout + ":v0", b1.toString()).ok();
        Trees.file(b1.resolve("rootfs"), "etc/gone", "g", 0644);
        Trees.file(b1.resolve("rootfs"), "etc/stays", "s", 0644);
        Trees.file(b1.resolve("rootfs"), "srv/dir/old", "o", 0644);
        Trees.symlink(b1.resolve("rootfs"), "srv/link", "dir/old");
        Tools.run(umoci.toString(), "repack", "--image", layout + ":v1", b1.toString()).ok();
        Path b2 = tmp.resolve("b2");
        Tools.run(umoci.toString(), "unpack", "--image", layout + ":v1", b2.toString()).ok();
        Files.delete(b2.resolve("rootfs/etc/gone"));
        LayerExtractor.deleteTree(b2.resolve("rootfs/srv/dir"));
        Trees.file(b2.resolve("rootfs"), "srv/dir/new", "n", 0600);
        Tools.run(umoci.toString(), "repack", "--image", layout + ":v2", b2.toString()).ok();
        Path expected = tmp.resolve("expected");
        Tools.run(umoci.toString(), "unpack", "--image", layout + ":v2", expected.toString()).ok();
        Map<String, String> want = Trees.describe(expected.resolve("rootfs"), true);
        assertThat(want).doesNotContainKey("etc/gone").containsKey("srv/dir/new").doesNotContainKey("srv/dir/old");

        Path dockerArchive = tmp.resolve("docker.tar");
        Path ociArchive = tmp.resolve("oci.tar");
        Tools.run(skopeo.toString(), "copy", "oci:" + layout + ":v2", "docker-archive:" + dockerArchive + ":peer/app:v2").ok();
        Tools.run(skopeo.toString(), "copy", "oci:" + layout + ":v2", "oci-archive:" + ociArchive + ":peer/app:oci").ok();
        try (ImageStore store = store()) {
            List<ImageArchive.Loaded> fromDocker = ImageArchive.load(dockerArchive, store);
            assertThat(fromDocker).singleElement().satisfies(l ->
                    assertThat(l.name()).contains(Reference.parse("peer/app:v2")));
            // stored with OCI's types, so that skopeo's and umoci's oci: transports read it from the store
            Descriptor loaded = fromDocker.getFirst().descriptor();
            assertThat(loaded.mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
            String refName = store.entries().stream().filter(e -> e.digest().equals(loaded.digest())).findFirst()
                    .orElseThrow().annotation(Descriptor.REF_NAME).orElseThrow();
            JsonNode viaSkopeo = Json.mapper().readTree(Tools.run(skopeo.toString(), "inspect",
                    "oci:" + tmp.resolve("store") + ":" + refName).ok().stdout());
            assertThat(viaSkopeo.get("Digest").asText()).isEqualTo(loaded.digest().toString());
            Tools.run(umoci.toString(), "unpack", "--image", tmp.resolve("store") + ":" + refName,
                    tmp.resolve("umoci-of-loaded").toString()).ok();
            assertThat(Trees.describe(tmp.resolve("umoci-of-loaded/rootfs"), true)).isEqualTo(want);
            List<ImageArchive.Loaded> fromOci = ImageArchive.load(ociArchive, store);
            assertThat(fromOci).singleElement().satisfies(l ->
                    assertThat(l.name()).contains(Reference.parse("peer/app:oci")));
            LayerExtractor.unpack(store.image(Reference.parse("peer/app:v2"), AMD64), tmp.resolve("from-docker"));
            LayerExtractor.unpack(store.image(Reference.parse("peer/app:oci"), AMD64), tmp.resolve("from-oci"));
            assertThat(Trees.describe(tmp.resolve("from-docker"), true)).isEqualTo(want);
            assertThat(Trees.describe(tmp.resolve("from-oci"), true)).isEqualTo(want);
            // umoci's layout directory, copied blob by blob into berth's store, is the same image
            ImageStore peer = ImageStore.open(layout);
            Descriptor v2 = peer.entries().stream()
                    .filter(e -> e.annotation(Descriptor.REF_NAME).equals(java.util.Optional.of("v2"))).findFirst().orElseThrow();
            store.copyFrom(peer, v2);
            store.tag(Reference.parse("peer/app:layout"), v2.withAnnotations(Map.of()));
            LayerExtractor.unpack(store.image(Reference.parse("peer/app:layout"), AMD64), tmp.resolve("from-layout"));
            assertThat(Trees.describe(tmp.resolve("from-layout"), true)).isEqualTo(want);
        }
    }

    @Test
    void legacyDockerArchivesWithLayerTarDirectoriesLoad() throws IOException {
        // Docker before 25 saved one directory per layer (<v1 id>/layer.tar, json, VERSION), linked
        // repeated layers with symlinks, and named the config <hex>.json.
        byte[] base = new dev.berth.layers.testing.Tars().dir("etc").file("etc/os-release", "ID=test\n")
                .file("bin/tool", "#!/bin/sh\n", 0755).bytes();
        byte[] top = new dev.berth.layers.testing.Tars().file("etc/.wh.os-release", "").file("app", "app").bytes();
        Digest d1 = Digest.sha256(base);
        Digest d2 = Digest.sha256(top);
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/app\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + d1 + "\",\"" + d2 + "\",\"" + d1 + "\"]}}";
        String configName = Digest.sha256(config.getBytes()).hex() + ".json";
        String id1 = "a".repeat(64);
        String id2 = "b".repeat(64);
        String id3 = "c".repeat(64);
        byte[] archive = new dev.berth.layers.testing.Tars()
                .dir(id1).file(id1 + "/VERSION", "1.0").file(id1 + "/json", "{}")
                .file(id1 + "/layer.tar", base)
                .dir(id2).file(id2 + "/VERSION", "1.0")
                .file(id2 + "/layer.tar", top)
                .dir(id3).symlink(id3 + "/layer.tar", "../" + id1 + "/layer.tar")
                .file(configName, config)
                .file("manifest.json", "[{\"Config\":\"" + configName + "\",\"RepoTags\":[\"legacy/app:1\"],"
                        + "\"Layers\":[\"" + id1 + "/layer.tar\",\"" + id2 + "/layer.tar\",\"" + id3 + "/layer.tar\"]}]")
                .file("repositories", "{\"legacy/app\":{\"1\":\"" + id3 + "\"}}")
                .bytes();
        Path file = tmp.resolve("legacy.tar");
        Files.write(file, archive);
        try (ImageStore store = store()) {
            assertThat(ImageArchive.load(file, store)).singleElement()
                    .satisfies(l -> assertThat(l.name()).contains(Reference.parse("legacy/app:1")));
            Image image = store.image(Reference.parse("legacy/app:1"), AMD64);
            assertThat(image.diffIds()).containsExactly(d1, d2, d1);
            assertThat(image.layers().getFirst().mediaType()).as("OCI types, as for every docker-archive")
                    .isEqualTo(MediaType.OCI_LAYER);
            assertThat(image.config().bytes()).isEqualTo(config.getBytes());
            LayerExtractor.unpack(image, tmp.resolve("legacy-root"));
            assertThat(Trees.describe(tmp.resolve("legacy-root"), false).keySet())
                    .containsExactly("app", "bin", "bin/tool", "etc", "etc/os-release");
        }
    }

    @Test
    void archivesBerthWritesAreReadBySkopeoBothWays() throws IOException {
        Path src = sourceTree();
        try (ImageStore store = store()) {
            Descriptor d = TestImages.store(store, "team/app:2",
                    List.of(LayerWriter.create().addTree(src, LayerPath.ROOT, Attributes.DEFAULT)), ContainerConfig.EMPTY);
            TestImages.store(store, "other:1", List.of(LayerWriter.create()
                    .add(new LayerEntry.Content(LayerPath.of("x"), "x".getBytes(), Attributes.DEFAULT))), ContainerConfig.EMPTY);
            Path archive = tmp.resolve("save.tar");
            try (OutputStream out = Files.newOutputStream(archive)) {
                ImageArchive.write(store, List.of(Reference.parse("team/app:2"), Reference.parse("other:1")), AMD64, out);
            }
            // docker-archive view
            JsonNode viaDocker = Json.mapper().readTree(Tools.run(skopeo.toString(), "inspect",
                    "docker-archive:" + archive + ":team/app:2").ok().stdout());
            assertThat(viaDocker.get("Layers")).hasSize(1);
            Tools.run(skopeo.toString(), "copy", "docker-archive:" + archive + ":team/app:2",
                    "oci:" + tmp.resolve("d") + ":x").ok();
            Tools.run(umoci.toString(), "unpack", "--image", tmp.resolve("d") + ":x", tmp.resolve("db").toString()).ok();
            assertThat(Trees.describe(tmp.resolve("db/rootfs"), false)).isEqualTo(Trees.describe(src, false));
            // OCI archive view keeps the digest
            JsonNode viaOci = Json.mapper().readTree(Tools.run(skopeo.toString(), "inspect",
                    "oci-archive:" + archive + ":docker.io/team/app:2").ok().stdout());
            assertThat(viaOci.get("Digest").asText()).isEqualTo(d.digest().toString());
            // and berth reads it back
            try (ImageStore other = ImageStore.open(tmp.resolve("store2"), tmp.resolve("tmp2"))) {
                assertThat(ImageArchive.load(archive, other)).extracting(l -> l.name().orElseThrow().familiar())
                        .containsExactlyInAnyOrder("team/app:2", "other:1");
                assertThat(other.resolve(Reference.parse("team/app:2")).orElseThrow().digest()).isEqualTo(d.digest());
            }
            // the same images give the same archive
            Path again = tmp.resolve("again.tar");
            try (OutputStream out = Files.newOutputStream(again)) {
                ImageArchive.write(store, List.of(Reference.parse("team/app:2"), Reference.parse("other:1")), AMD64, out);
            }
            assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(archive));
        }
    }
}
