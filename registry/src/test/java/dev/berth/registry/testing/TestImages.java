package dev.berth.registry.testing;

import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Images made for tests, in a store: layers of pseudo-random files (which do not compress, so blob sizes
 * are about the sizes asked for), a config and a manifest, named by a reference. Same seed, same digests.
 */
public final class TestImages {
    private TestImages() {}

    /**
     * Writes an image whose layers hold one file each of the given sizes, and names it {@code ref}.
     * {@code seed} varies the content. Returns the manifest's descriptor.
     */
    public static Descriptor create(ImageStore store, Reference ref, Platform platform, long seed, long... layerSizes) {
        Descriptor d = image(store, platform, seed, false, layerSizes);
        store.tag(ref, d);
        return d;
    }

    /** As {@link #create}, with Docker schema 2 media types. */
    public static Descriptor createDocker(ImageStore store, Reference ref, Platform platform, long seed, long... layerSizes) {
        Descriptor d = image(store, platform, seed, true, layerSizes);
        store.tag(ref, d);
        return d;
    }

    /**
     * Writes one image per platform plus, when asked, an attestation manifest with platform
     * {@code unknown/unknown} (as BuildKit adds), lists them in an OCI index and names it {@code ref}.
     */
    public static Descriptor createIndex(ImageStore store, Reference ref, List<Platform> platforms, boolean attestation,
                                         long seed, long layerSize) {
        List<Descriptor> entries = new ArrayList<>();
        int i = 0;
        for (Platform p : platforms) {
            Descriptor m = image(store, p, seed + 1000L * ++i, false, layerSize);
            entries.add(m.withPlatform(Optional.of(p)));
        }
        if (attestation) {
            Descriptor m = image(store, Platform.of("linux", "amd64", Optional.empty()), seed + 99_999, false, 1024);
            entries.add(m.withPlatform(Optional.of(Platform.of("unknown", "unknown", Optional.empty())))
                    .withAnnotation("vnd.docker.reference.type", "attestation-manifest")
                    .withAnnotation("vnd.docker.reference.digest", entries.getFirst().digest().toString()));
        }
        Document<ImageIndex> index = Document.of(ImageIndex.of(MediaType.OCI_INDEX, entries), MediaType.OCI_INDEX);
        Descriptor d = store.put(index);
        store.tag(ref, d);
        return d;
    }

    private static Descriptor image(ImageStore store, Platform platform, long seed, boolean docker, long... layerSizes) {
        try {
            ImageConfig config = ImageConfig.empty(platform);
            List<Descriptor> layers = new ArrayList<>();
            for (int i = 0; i < layerSizes.length; i++) {
                Path dir = Files.createTempDirectory("berth-test-layer-");
                try {
                    writeRandom(dir.resolve("data-" + i + ".bin"), layerSizes[i], seed * 31 + i);
                    Files.writeString(dir.resolve("layer.txt"), "layer " + i + " of " + platform + " seed " + seed + "\n",
                            StandardCharsets.UTF_8);
                    LayerWriter.Result r = LayerWriter.create().addTree(dir, LayerPath.ROOT, LayerEntry.Attributes.DEFAULT)
                            .write(store, new Compression.Gzip(1, 1), docker);
                    layers.add(r.blob());
                    config = config.withLayer(r.diffId(), ImageConfig.History.of(Optional.empty(),
                            "test layer " + i, Optional.empty()));
                } finally {
                    deleteTree(dir);
                }
            }
            MediaType configType = docker ? MediaType.DOCKER_CONFIG : MediaType.OCI_CONFIG;
            MediaType manifestType = docker ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST;
            Document<ImageConfig> c = Document.of(config, configType);
            Descriptor configDescriptor = store.put(c);
            Document<Manifest> m = Document.of(Manifest.of(manifestType, configDescriptor, layers, Map.of()), manifestType);
            return store.put(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An image of one hostile layer, a symlink {@code link -> /} and a file written through it
     * ({@code link/etc/shadow}), named {@code ref}; the store must accept it unchecked (a test's source).
     */
    public static Descriptor createHostile(ImageStore store, Reference ref, Platform platform) {
        byte[] hostile = new dev.berth.layers.testing.Tars().symlink("link", "/").file("link/etc/shadow", "x").bytes();
        Descriptor layer = Descriptor.of(MediaType.OCI_LAYER, dev.berth.layers.Digest.sha256(hostile), hostile.length);
        store.put(new java.io.ByteArrayInputStream(hostile), Optional.of(layer.digest()),
                java.util.OptionalLong.of(hostile.length));
        Document<ImageConfig> config = Document.of(ImageConfig.empty(platform).withLayer(layer.digest(),
                ImageConfig.History.of(Optional.empty(), "x", Optional.empty())), MediaType.OCI_CONFIG);
        store.put(config);
        Descriptor m = store.put(Document.of(Manifest.of(MediaType.OCI_MANIFEST, config.descriptor(), List.of(layer),
                Map.of()), MediaType.OCI_MANIFEST));
        store.tag(ref, m);
        return m;
    }

    /** A file of {@code size} pseudo-random bytes from {@code seed}. */
    public static void writeRandom(Path file, long size, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] buf = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            long left = size;
            while (left > 0) {
                random.nextBytes(buf);
                int n = (int) Math.min(buf.length, left);
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
