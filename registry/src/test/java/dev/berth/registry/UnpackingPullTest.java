package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.ProxiedRegistry;
import dev.berth.registry.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A pull with a {@link LayerUnpacker} against the real distribution registry: every layer it downloads is
 * handed to the unpacker beside its download and kept once stored; an unpacker's failure costs the
 * unpacking and never the pull, and the layer's own check still refuses a hostile layer. Blobs are fetched
 * largest first.
 */
class UnpackingPullTest extends ProxiedRegistry {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    private RegistryClient client() {
        return Fixtures.anonymous(Fixtures.config(tmp).concurrency(1).build());
    }

    /** Records what it is given: each layer's uncompressed digest, and which results were kept or dropped. */
    static final class Recording implements LayerUnpacker {
        final Map<Digest, Digest> unpacked = new ConcurrentHashMap<>();
        final List<Digest> kept = new CopyOnWriteArrayList<>();
        final List<Digest> discarded = new CopyOnWriteArrayList<>();
        /** Fails after reading this many bytes of a blob; negative: never. */
        volatile long failAfter = -1;

        @Override
        public Unpacked unpack(Descriptor layer, InputStream blob) throws IOException {
            if (failAfter >= 0) {
                blob.readNBytes((int) failAfter);
                throw new IOException("no space left on device");
            }
            DigestInputStream tar = new DigestInputStream(Compression.decompress(blob), Digest.sha256Hasher());
            tar.transferTo(OutputStream.nullOutputStream());
            blob.transferTo(OutputStream.nullOutputStream());
            unpacked.put(layer.digest(), Digest.of(tar.getMessageDigest().digest()));
            return new Unpacked() {
                @Override
                public void keep() {
                    kept.add(layer.digest());
                }

                @Override
                public void discard() {
                    discarded.add(layer.digest());
                }
            };
        }
    }

    @Test
    void everyLayerIsUnpackedBesideItsDownloadAndKeptOnceStored() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("unpacked:1");
            TestImages.create(source, local, AMD64, 3, 200_000, 900_000, 50_000);
            client.push(source, local, ref("unpacked:1"), PushOptions.defaults());
            Recording unpacker = new Recording();
            client.pull(target, ref("unpacked:1"), PullOptions.defaults().withUnpacker(unpacker));

            Image image = target.image(ref("unpacked:1"), AMD64);
            List<Digest> layers = image.layers().stream().map(Descriptor::digest).toList();
            assertThat(unpacker.kept).containsExactlyInAnyOrderElementsOf(layers);
            assertThat(unpacker.discarded).isEmpty();
            for (int i = 0; i < layers.size(); i++) {
                assertThat(unpacker.unpacked.get(layers.get(i))).isEqualTo(image.diffIds().get(i));
            }
            // largest first, the config (smallest) last
            List<Long> sizes = proxy.requests("GET", ".*/blobs/sha256:.*").stream()
                    .map(s -> s.path().substring(s.path().lastIndexOf(':') + 1))
                    .map(hex -> sizeOf(image, hex)).toList();
            assertThat(sizes).hasSize(4).isSortedAccordingTo(java.util.Comparator.reverseOrder());

            // a second pull downloads nothing and unpacks nothing
            Recording again = new Recording();
            client.pull(target, ref("unpacked:1"), PullOptions.defaults().withUnpacker(again));
            assertThat(again.unpacked).isEmpty();
        }
    }

    private static long sizeOf(Image image, String hex) {
        if (image.manifest().value().config().digest().hex().equals(hex)) {
            return image.manifest().value().config().size();
        }
        return image.layers().stream().filter(l -> l.digest().hex().equals(hex)).findFirst().orElseThrow().size();
    }

    @Test
    void anUnpackerThatFailsCostsTheUnpackingNotThePull() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("full:1");
            TestImages.create(source, local, AMD64, 4, 300_000, 20_000);
            client.push(source, local, ref("full:1"), PushOptions.defaults());
            Recording unpacker = new Recording();
            unpacker.failAfter = 10_000;
            client.pull(target, ref("full:1"), PullOptions.defaults().withUnpacker(unpacker));

            Image image = target.image(ref("full:1"), AMD64);
            for (Descriptor l : image.layers()) {
                try (InputStream in = target.open(l, "test")) {
                    in.transferTo(OutputStream.nullOutputStream()); // stored, verified
                }
            }
            assertThat(unpacker.kept).isEmpty();
            assertThat(dev.berth.layers.StoreVerify.verify(target, done -> { })).isEmpty();
        }
    }

    @Test
    void aHostileLayerIsRefusedByTheLayersOwnCheckWhateverTheUnpackerSays() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("hostile:1");
            TestImages.createHostile(source, local, AMD64);
            client.push(source, local, ref("hostile:1"), PushOptions.defaults());
            Recording unpacker = new Recording();
            unpacker.failAfter = 0;
            assertThatThrownBy(() -> client.pull(target, ref("hostile:1"), PullOptions.defaults().withUnpacker(unpacker)))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("entry link/etc/shadow is written through the symlink link");
            assertThat(target.entries()).isEmpty();
            assertThat(unpacker.kept).isEmpty();
        }
    }
}
