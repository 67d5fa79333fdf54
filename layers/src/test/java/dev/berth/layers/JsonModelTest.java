package dev.berth.layers;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JsonModelTest {

    @Test
    void manifestKeepsUnknownFieldsAndItsBytes() {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:"
                + "a".repeat(64) + "\",\"size\":7,\"x-extra\":1},\"layers\":[],\"vendor.field\":{\"k\":[1,2]}}";
        Document<Manifest> doc = Document.parse(json.getBytes(UTF_8), Manifest.class, MediaType.OCI_MANIFEST, "m");
        assertThat(doc.value().extra()).containsKey("vendor.field");
        assertThat(doc.value().config().extra()).containsEntry("x-extra", 1);
        assertThat(doc.digest()).isEqualTo(Digest.sha256(json.getBytes(UTF_8)));
        // a re-serialisation loses nothing
        Manifest again = Json.read(Json.write(doc.value()), Manifest.class, "again");
        assertThat(again).isEqualTo(doc.value());
        assertThat(new String(Json.write(doc.value()), UTF_8)).contains("\"vendor.field\":{\"k\":[1,2]}");
    }

    @Test
    void configDistinguishesNullAndEmptyCmd() {
        ImageConfig withEmpty = Json.read(
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                        .getBytes(UTF_8), ImageConfig.class, "c");
        assertThat(withEmpty.containerConfig().cmd()).contains(List.of());
        ImageConfig without = Json.read(
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":null},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                        .getBytes(UTF_8), ImageConfig.class, "c");
        assertThat(without.containerConfig().cmd()).isEmpty();
        assertThat(new String(Json.write(withEmpty), UTF_8)).contains("\"Cmd\":[]");
    }

    @Test
    void historyMustMatchLayers() {
        ImageConfig c = ImageConfig.empty(Platform.parse("linux/amd64"))
                .withLayer(Digest.sha256(new byte[0]), ImageConfig.History.of(Optional.empty(), "COPY a /", Optional.empty()))
                .withEmptyLayerHistory(ImageConfig.History.of(Optional.empty(), "ENV a=b", Optional.empty()));
        c.checkHistory();
        String json = new String(Json.write(c), UTF_8);
        assertThat(json).contains("\"empty_layer\":true").contains("\"diff_ids\":[\"sha256:");
        ImageConfig broken = c.withEmptyLayerHistory(ImageConfig.History.of(Optional.empty(), "x", Optional.empty()))
                .withLayer(Digest.sha256(new byte[1]), ImageConfig.History.of(Optional.empty(), "y", Optional.empty()));
        broken.checkHistory();
        ImageConfig wrong = new ImageConfig(c.created(), c.author(), c.architecture(), c.os(), c.osVersion(),
                c.osFeatures(), c.variant(), c.config(), new ImageConfig.RootFs("layers", List.of()), c.history(), c.extra());
        assertThatThrownBy(wrong::checkHistory).hasMessageContaining("1 history entries with layers but 0 diff_ids");
    }

    @Test
    void malformedJsonIsAClearError() {
        assertThatThrownBy(() -> Json.read("{".getBytes(UTF_8), ImageIndex.class, "index.json"))
                .isInstanceOf(LayersException.class).hasMessageStartingWith("index.json: invalid JSON");
        assertThatThrownBy(() -> Json.read(new byte[0], ImageIndex.class, "index.json"))
                .hasMessage("index.json: empty file, expected JSON");
    }

    @Test
    void digestsValidateThemselves() {
        assertThat(Digest.parse("sha256:" + "0".repeat(64)).algorithm()).isEqualTo("sha256");
        assertThat(Digest.parse("sha512:" + "f".repeat(128)).hex()).hasSize(128);
        assertThatThrownBy(() -> Digest.parse("sha256:abc")).hasMessageContaining("64 lowercase hex");
        assertThatThrownBy(() -> Digest.parse("sha256:" + "A".repeat(64))).hasMessageContaining("lowercase");
        assertThatThrownBy(() -> Digest.parse("md5:" + "0".repeat(32))).hasMessageContaining("sha256 and sha512");
        assertThatThrownBy(() -> Digest.parse("nocolon")).hasMessageContaining("algorithm:hex");
        assertThat(Digest.sha256(new byte[0]).toString())
                .isEqualTo("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    @Test
    void platformsParseAndMatch() {
        assertThat(Platform.parse("linux/arm64/v8")).hasToString("linux/arm64");
        assertThat(Platform.parse("x86_64")).hasToString("linux/amd64");
        assertThat(Platform.parse("linux/arm/v7").satisfies(Platform.parse("linux/arm/v7"))).isTrue();
        assertThat(Platform.parse("linux/arm/v6").satisfies(Platform.parse("linux/arm/v7"))).isFalse();
        assertThat(Platform.parse("linux/arm64").satisfies(Platform.parse("linux/arm64/v8"))).isTrue();
        assertThatThrownBy(() -> Platform.parse("linux//")).hasMessageContaining("os/arch[/variant]");
        // one part, as containerd reads it: an architecture on linux, or an os on this machine's architecture
        assertThat(Platform.parse("arm64")).hasToString("linux/arm64");
        assertThat(Platform.parse("linux")).isEqualTo(Platform.host());
        assertThatThrownBy(() -> Platform.parse("bogus"))
                .hasMessage("invalid platform \"bogus\": unknown operating system or architecture");
        assertThatThrownBy(() -> Platform.parse("linux/am d64")).hasMessageContaining("os/arch[/variant]");
        assertThatThrownBy(() -> Platform.parse("linux/arm/v7/x")).hasMessageContaining("os/arch[/variant]");
    }

    @Test
    void mediaTypesKnowTheirCompression() {
        assertThat(MediaType.DOCKER_LAYER_GZIP.layerCompression()).contains(Compression.Kind.GZIP);
        assertThat(MediaType.OCI_LAYER_ZSTD.layerCompression()).contains(Compression.Kind.ZSTD);
        assertThat(MediaType.of("application/x-unknown").isLayer()).isFalse();
        assertThatThrownBy(() -> MediaType.layer(Compression.Kind.ZSTD, true)).hasMessageContaining("OCI media types");
    }
}
