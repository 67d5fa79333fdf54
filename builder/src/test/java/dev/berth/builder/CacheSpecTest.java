package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --cache-to/--cache-from} as buildx spells them, the cache's format (and what a reader refuses), and
 * a layout cache between two homes without a registry.
 */
class CacheSpecTest {
    @TempDir
    Path tmp;

    @Test
    void parsesBuildxSpellings() {
        assertThat(CacheSpec.parseTo("type=registry,ref=reg.example/app:cache,mode=max", "gzip:1"))
                .isEqualTo(new CacheSpec.Registry(Reference.parse("reg.example/app:cache"), CacheSpec.Mode.MAX));
        assertThat(CacheSpec.parseFrom("reg.example/app:cache"))
                .isEqualTo(new CacheSpec.Registry(Reference.parse("reg.example/app:cache"), CacheSpec.Mode.MIN));
        assertThat(CacheSpec.parseTo("type=local,dest=/c,compression=gzip", "gzip:1"))
                .isEqualTo(new CacheSpec.Local(Path.of("/c"), CacheSpec.Mode.MIN, "latest"));
        assertThat(CacheSpec.parseFrom("type=local,src=/c,tag=main"))
                .isEqualTo(new CacheSpec.Local(Path.of("/c"), CacheSpec.Mode.MIN, "main"));
        assertThat(CacheSpec.parseTo("type=inline", "gzip:1")).isEqualTo(new CacheSpec.Inline());
        assertThat(CacheSpec.parseTo("type=registry,ref=r/a:c,ignore-error=true", "gzip:1"))
                .isInstanceOf(CacheSpec.Registry.class);
    }

    @Test
    void badValuesAreOneLineErrorsNamingTheOption() {
        assertThatThrownBy(() -> CacheSpec.parseTo("type=s3,bucket=x", "gzip:1"))
                .hasMessage("--cache-to type=s3,bucket=x: unknown type \"s3\" (use registry, local or inline)");
        assertThatThrownBy(() -> CacheSpec.parseTo("type=registry", "gzip:1"))
                .hasMessage("--cache-to type=registry: ref= is missing");
        assertThatThrownBy(() -> CacheSpec.parseTo("type=registry,ref=r/a:c,mode=all", "gzip:1"))
                .hasMessage("--cache-to type=registry,ref=r/a:c,mode=all: mode must be min or max, not \"all\"");
        assertThatThrownBy(() -> CacheSpec.parseFrom("type=local,dest=/c"))
                .hasMessage("--cache-from type=local,dest=/c: src= is missing");
        assertThatThrownBy(() -> CacheSpec.parseFrom("type=inline"))
                .hasMessageStartingWith("--cache-from type=inline: type=inline is for --cache-to");
        assertThatThrownBy(() -> CacheSpec.parseTo("type=inline,mode=max", "gzip:1"))
                .hasMessageContaining("mode=min");
        assertThatThrownBy(() -> CacheSpec.parseTo("type=registry,ref=r/a:c,compression=zstd", "gzip:1"))
                .hasMessage("--cache-to type=registry,ref=r/a:c,compression=zstd: the cache keeps the build's "
                        + "layers, which are gzip:1; build with --compression zstd to cache zstd layers");
        assertThatThrownBy(() -> CacheSpec.parseTo("type=registry,ref=r/a:c,colour=blue", "gzip:1"))
                .hasMessage("--cache-to type=registry,ref=r/a:c,colour=blue: unknown key \"colour\"");
        assertThatThrownBy(() -> CacheSpec.parseFrom("no spaces/in names")).hasMessageStartingWith("--cache-from no spaces/in names: ");
    }

    @Test
    void aReaderRefusesANewerFormatAndADocumentThatDoesNotAddUp() {
        try (ImageStore store = ImageStore.open(tmp.resolve("store"), tmp.resolve("tmp"))) {
            Digest diffId = Digest.sha256("layer".getBytes(StandardCharsets.UTF_8));
            Descriptor layer = Descriptor.of(dev.berth.layers.MediaType.OCI_LAYER_GZIP, diffId, 5);
            String key = "a".repeat(64);
            CacheArtifact.Written w = CacheArtifact.write(store, List.of(new CacheArtifact.Entry(key,
                    new BuildCache.Result(Optional.of(diffId), Optional.of(layer), List.of()))));
            CacheArtifact.Read read = CacheArtifact.read(store.readBytes(w.artifact(), "a"), d -> store.readBytes(d, "b"), "c");
            assertThat(read).isEqualTo(new CacheArtifact.Read.Entries(List.of(new CacheArtifact.Entry(key,
                    new BuildCache.Result(Optional.of(diffId), Optional.of(layer), List.of())))));
            CacheArtifact.Read fallback = CacheArtifact.read(store.readBytes(w.fallback(), "a"), d -> store.readBytes(d, "b"), "c");
            assertThat(fallback).isEqualTo(read);

            byte[] newer = Json.writePlain(Map.of("version", 2, "layers", List.of(), "entries", List.of()));
            assertThatThrownBy(() -> CacheArtifact.read(manifestWithKeys(store, newer), d -> store.readBytes(d, "b"), "cache x"))
                    .hasMessage("cache x: written by a newer berth (cache format 2; this one reads 1)");
            byte[] short_ = Json.writePlain(Map.of("version", 1, "layers", List.of(), "entries",
                    List.of(Map.of("key", key, "layer", 3))));
            assertThatThrownBy(() -> CacheArtifact.read(manifestWithKeys(store, short_), d -> store.readBytes(d, "b"), "cache x"))
                    .hasMessage("cache x: entry aaaaaaaaaaaa names layer 3 of 0");
        }
    }

    private static byte[] manifestWithKeys(ImageStore store, byte[] keys) {
        Descriptor config = Descriptor.of(CacheArtifact.KEYS_TYPE, store.put(keys).digest(), keys.length);
        dev.berth.layers.Manifest m = new dev.berth.layers.Manifest(2, Optional.of(dev.berth.layers.MediaType.OCI_MANIFEST),
                Optional.of(CacheArtifact.ARTIFACT_TYPE), config, List.of(), Optional.empty(), Map.of(), Map.of());
        return Json.write(m);
    }

    @Test
    void aLayoutCacheServesAnotherHomeAndAMissingOneIsAWarning() throws Exception {
        BuildFixture one = new BuildFixture(tmp.resolve("one"));
        one.file("app/a.txt", "a");
        one.file("b.txt", "b");
        one.dockerfile("FROM scratch", "COPY app /app", "WORKDIR /w", "COPY b.txt /");
        Path dir = tmp.resolve("cache");
        BuildResult first = one.build(r -> r.sourceDateEpoch(Instant.ofEpochSecond(1)).cacheTo("type=local,dest=" + dir));
        assertThat(one.events).noneMatch(e -> e instanceof BuildEvent.Warning);

        BuildFixture two = new BuildFixture(tmp.resolve("two"));
        two.file("app/a.txt", "a");
        two.file("b.txt", "b");
        two.dockerfile("FROM scratch", "COPY app /app", "WORKDIR /w", "COPY b.txt /");
        BuildResult second = two.build(r -> r.sourceDateEpoch(Instant.ofEpochSecond(1)).cacheFrom("type=local,src=" + dir)
                .cacheFrom("type=local,src=" + tmp.resolve("nothing")));
        assertThat(second.steps().stream().skip(1).allMatch(BuildEvent.StepDone::cached)).isTrue();
        assertThat(second.digest()).isEqualTo(first.digest());
        assertThat(two.events).filteredOn(e -> e instanceof BuildEvent.Warning)
                .extracting(e -> ((BuildEvent.Warning) e).message())
                .containsExactly("--cache-from " + tmp.resolve("nothing") + ": no cache in that directory; building without it");
    }
}
