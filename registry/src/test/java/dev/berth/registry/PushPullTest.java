package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push and pull against the real distribution registry, open (no auth). */
class PushPullTest {
    @TempDir
    static Path shared;
    static LocalRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        registry = LocalRegistry.open(shared.resolve("registry"));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private Reference ref(String nameAndTag) {
        return Reference.parse(registry.host() + "/" + nameAndTag);
    }

    @Test
    void pushedImagePullsBackWithTheSameDigests() throws Exception {
        Platform amd64 = Platform.parse("linux/amd64");
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            Reference local = Reference.parse("roundtrip:1");
            Descriptor made = TestImages.create(source, local, amd64, 1, 300_000, 2_000_000, 10);
            PushResult pushed = client.push(source, local, ref("roundtrip:1"), PushOptions.defaults());
            assertThat(pushed.digest()).isEqualTo(made.digest());
            assertThat(pushed.uploaded()).isEqualTo(4);
            assertThat(pushed.unchanged()).isFalse();

            PullResult pulled = client.pull(target, ref("roundtrip:1"), PullOptions.defaults().withPlatform(amd64));
            assertThat(pulled.digest()).isEqualTo(made.digest());
            assertThat(pulled.updated()).isTrue();
            Image image = target.image(ref("roundtrip:1"), amd64);
            Image original = source.image(local, amd64);
            assertThat(image.digest()).isEqualTo(original.digest());
            assertThat(image.layers()).isEqualTo(original.layers());
            for (Descriptor l : image.layers()) {
                try (InputStream in = target.open(l, "test")) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
            }
        }
    }

    @Test
    void unknownTagShowsTheRegistrysCode() {
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            assertThatThrownBy(() -> client.pull(target, ref("nothing/here:1"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessage("pull " + registry.host() + "/nothing/here:1: manifest unknown (MANIFEST_UNKNOWN)");
        }
    }
}
