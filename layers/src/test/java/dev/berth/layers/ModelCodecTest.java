package dev.berth.layers;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The streaming codec against data binding, its oracle: on every document of the corpus (configs, manifests
 * and indexes as Docker Hub, buildkit, buildah and berth write them, with unknown fields, nulls, coercible
 * scalars and deep extras), both read the same record and write the same bytes.
 */
class ModelCodecTest {
    private static final Path CORPUS = Path.of("src/test/resources/json-model");

    static Stream<Path> corpus() throws IOException {
        try (Stream<Path> files = Files.list(CORPUS)) {
            List<Path> all = files.sorted().toList();
            assertThat(all).hasSizeGreaterThanOrEqualTo(9);
            return all.stream();
        }
    }

    private static Class<?> typeOf(String json) {
        if (json.contains("\"rootfs\"")) {
            return ImageConfig.class;
        }
        return json.contains("\"manifests\"") ? ImageIndex.class : Manifest.class;
    }

    @ParameterizedTest
    @MethodSource("corpus")
    void readsAndWritesAsDataBindingDoes(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Class<?> type = typeOf(new String(bytes, UTF_8));
        Object streamed = Json.read(bytes, type, file.getFileName().toString());
        Object bound = Json.readBound(bytes, type);
        assertThat(streamed).isEqualTo(bound);
        // the same record gives the same bytes (data binding reads unknown fields into a hash map, so the
        // records' extra maps may differ in order, which equality ignores and writing does not)
        assertThat(new String(Json.write(streamed), UTF_8)).isEqualTo(new String(Json.writeBound(streamed), UTF_8));
        assertThat(new String(Json.write(bound), UTF_8)).isEqualTo(new String(Json.writeBound(bound), UTF_8));
        // and the bytes are stable (null values in untyped maps are dropped by the first write)
        byte[] once = Json.write(streamed);
        assertThat(Json.write(Json.read(once, type, "again"))).isEqualTo(once);
        // the nested records on their own
        if (streamed instanceof ImageConfig c) {
            ContainerConfig cc = c.containerConfig();
            assertThat(new String(Json.write(cc), UTF_8)).isEqualTo(new String(Json.writeBound(cc), UTF_8));
            assertThat(Json.write(Json.read(Json.write(cc), ContainerConfig.class, "config"))).isEqualTo(Json.write(cc));
        }
        List<Descriptor> descriptors = streamed instanceof Manifest m ? m.layers()
                : streamed instanceof ImageIndex i ? i.manifests() : List.of();
        for (Descriptor d : descriptors) {
            assertThat(Json.write(d)).isEqualTo(Json.writeBound(d));
            assertThat(Json.readBound(Json.write(d), Descriptor.class)).isEqualTo(d);
            if (d.platform().isPresent()) {
                assertThat(Json.write(d.platform().get())).isEqualTo(Json.writeBound(d.platform().get()));
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aNullDocumentIsAnError() {
        // data binding returns null for it; berth's callers expect a record
        assertThatThrownBy(() -> Json.read("null".getBytes(UTF_8), Manifest.class, "m"))
                .isInstanceOf(LayersException.class).hasMessage("m: invalid JSON: manifest must be a JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{", "[]", "\"text\"", "{\"schemaVersion\":2,\"manifests\":[]} {}",
        "{\"schemaVersion\":1,\"manifests\":[]}", "{\"schemaVersion\":2,\"manifests\":{}}",
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:abc\",\"size\":1}]}",
        "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:" + "0000000000000000000000000000000000000000000000000000000000000000\"}]}",
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:"
                + "0000000000000000000000000000000000000000000000000000000000000000\",\"size\":\"big\"}]}",
        "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":[1]}}",
    })
    void rejectsWhatDataBindingRejects(String json) {
        byte[] bytes = json.getBytes(UTF_8);
        assertThatThrownBy(() -> Json.readBound(bytes, ImageIndex.class)).isNotNull();
        assertThatThrownBy(() -> Json.read(bytes, ImageIndex.class, "index.json"))
                .isInstanceOf(LayersException.class).hasMessageStartingWith("index.json: ");
    }
}
