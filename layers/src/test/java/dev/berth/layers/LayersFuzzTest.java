package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.berth.layers.testing.Fuzzing;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Fuzz targets of the image model and the tar side. In the suite each replays its corpus
 * ({@code testdata/fuzz/<target>/}, one file per input); {@code bench/fuzz.sh} mutates them.
 *
 * <p>The contract checked: the parsers and the layer readers return or throw a {@link LayersException}
 * with a message, whatever the bytes; one small input allocates a bounded amount; an extracted layer writes
 * nothing outside its target directory.
 */
class LayersFuzzTest {
    /** Larger inputs are not run: the bounds below are for small inputs. */
    private static final int MAX_TEXT = 4 << 10;
    private static final int MAX_DOCUMENT = 64 << 10;
    private static final int MAX_TAR = 256 << 10;
    /** What one text input may allocate, whatever it holds. */
    private static final long TEXT_BOUND = 16L << 20;
    private static final long DOCUMENT_BOUND = 64L << 20;
    /** A layer's reader buffers a fixed amount (the read-ahead's chunks), beyond what the input holds. */
    private static final long TAR_BOUND = 128L << 20;

    private static Path scratch;

    @Test
    void everyTargetHasACorpus() throws Exception {
        List<String> targets = Fuzzing.targets(LayersFuzzTest.class);
        assertThat(targets).isNotEmpty();
        for (String t : targets) {
            assertThat(Fuzzing.corpus(LayersFuzzTest.class, t)).as("corpus of " + t).isNotEmpty();
        }
    }

    @FuzzTest(maxDuration = "10m")
    void reference(byte[] input) throws Exception {
        String text = text(input);
        Fuzzing.expect(LayersException.class, TEXT_BOUND, () -> {
            Reference r = Reference.parse(text);
            // the normalised form is a reference too, and the same one (the familiar form need not be: as
            // docker's, docker.io/lker.io/x shows as lker.io/x)
            assertThat(Reference.parse(r.toString())).isEqualTo(r);
            r.familiar();
            r.registryHost();
            r.manifestReference();
        });
        Fuzzing.expect(LayersException.class, TEXT_BOUND, () -> Reference.parseRepository(text));
    }

    @FuzzTest(maxDuration = "10m")
    void digest(byte[] input) throws Exception {
        String text = text(input);
        Fuzzing.expect(LayersException.class, TEXT_BOUND, () -> {
            Digest d = Digest.parse(text);
            assertThat(Digest.parse(d.toString())).isEqualTo(d);
        });
    }

    @FuzzTest(maxDuration = "10m")
    void platform(byte[] input) throws Exception {
        String text = text(input);
        Fuzzing.expect(LayersException.class, TEXT_BOUND, () -> {
            Platform p = Platform.parse(text);
            assertThat(Platform.parse(p.toString())).isEqualTo(p);
        });
    }

    @FuzzTest(maxDuration = "10m")
    void manifest(byte[] input) throws Exception {
        document(input, Manifest.class, m -> {
            m.config().digest();
            m.layers().forEach(Descriptor::digest);
        });
    }

    @FuzzTest(maxDuration = "10m")
    void index(byte[] input) throws Exception {
        document(input, ImageIndex.class, i -> i.manifests().forEach(Descriptor::digest));
    }

    @FuzzTest(maxDuration = "10m")
    void config(byte[] input) throws Exception {
        document(input, ImageConfig.class, c -> {
            c.rootfs().diffIds().forEach(Digest::hex);
            c.history().forEach(ImageConfig.History::createdBy);
        });
    }

    /** A layer entering the store: {@code berth load}'s entry check. */
    @FuzzTest(maxDuration = "10m")
    void layerCheck(byte[] input) throws Exception {
        if (input.length > MAX_TAR) {
            return;
        }
        Fuzzing.expect(LayersException.class, TAR_BOUND, () -> LayerCheck.check(new ByteArrayInputStream(input), "layer"));
    }

    /**
     * A layer extracted twice onto one directory (the second time over what the first wrote, as a layer over
     * its base), whiteouts applied or written for overlayfs; nothing may land beside the target.
     */
    @FuzzTest(maxDuration = "10m")
    void extract(byte[] input) throws Exception {
        if (input.length > MAX_TAR) {
            return;
        }
        Path box = Files.createTempDirectory(scratch(), "box");
        Path target = Files.createDirectory(box.resolve("target"));
        Path sentinel = Files.writeString(box.resolve("sentinel"), "beside the target");
        Files.setPosixFilePermissions(sentinel, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        LayerExtractor.Whiteouts mode = LayerExtractor.Whiteouts.values()[input.length % 2];
        try {
            Fuzzing.expect(LayersException.class, TAR_BOUND, () -> {
                LayerExtractor.extract(new ByteArrayInputStream(input), target, mode);
                LayerExtractor.extract(new ByteArrayInputStream(input), target, mode);
            });
            try (Stream<Path> beside = Files.list(box)) {
                assertThat(beside.toList()).as("what the layer left beside its target")
                        .containsExactlyInAnyOrder(target, sentinel);
            }
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sentinel,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS))).as("the mode of a file beside the target").isEqualTo("rw-------");
            assertThat(Files.readString(sentinel)).isEqualTo("beside the target");
        } finally {
            LayerExtractor.deleteTree(box);
        }
    }

    /** An image archive ({@code berth load}): OCI layout or docker-archive, into an empty store. */
    @FuzzTest(maxDuration = "10m")
    void archive(byte[] input) throws Exception {
        if (input.length > MAX_TAR) {
            return;
        }
        Path box = Files.createTempDirectory(scratch(), "archive");
        try {
            Path file = Files.write(box.resolve("image.tar"), input);
            Fuzzing.expect(LayersException.class, TAR_BOUND, () -> {
                try (ImageStore store = ImageStore.open(box.resolve("store"), box.resolve("tmp"))) {
                    ImageArchive.load(file, store);
                }
            });
        } finally {
            LayerExtractor.deleteTree(box);
        }
    }

    /**
     * A JSON document of the image model: read, its parts used, then written canonically; the canonical
     * bytes read and written again are the same bytes (the first writing drops nulls inside maps, by design).
     */
    private static <T> void document(byte[] input, Class<T> type, java.util.function.Consumer<T> use) throws Exception {
        if (input.length > MAX_DOCUMENT) {
            return;
        }
        Fuzzing.expect(LayersException.class, DOCUMENT_BOUND, () -> {
            T value = Json.read(input, type, "document");
            use.accept(value); // what callers read of it: no nulls inside
            byte[] written = Json.write(value);
            assertThat(Json.write(Json.read(written, type, "written document"))).isEqualTo(written);
        });
    }

    private static String text(byte[] input) {
        return new String(input, 0, Math.min(input.length, MAX_TEXT), StandardCharsets.UTF_8);
    }

    private static synchronized Path scratch() throws IOException {
        if (scratch == null) {
            scratch = Files.createTempDirectory("berth-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    LayerExtractor.deleteTree(scratch);
                } catch (IOException ignored) {
                    // a temp directory left behind
                }
            }));
        }
        return scratch;
    }
}
