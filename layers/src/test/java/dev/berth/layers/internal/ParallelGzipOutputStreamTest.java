package dev.berth.layers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.Digest;
import dev.berth.layers.testing.Tools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blocks cut between tar entries, and copied from an earlier blob: the output must be the bytes that
 * compressing everything gives, whatever was copied, and always a valid gzip stream of the input.
 */
class ParallelGzipOutputStreamTest {
    private static final int LEVEL = 6;

    @TempDir
    Path tmp;

    /** A tar of {@code files} text-like files of about 12 KB, the {@code changed}th with other content. */
    private static byte[] tar(int files, int changed, String change, TarWriter.Boundaries boundaries,
                              java.io.OutputStream out) throws IOException {
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        java.io.OutputStream both = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                copy.write(b, off, len);
                out.write(b, off, len);
            }
        };
        TarWriter tar = new TarWriter(both, boundaries);
        Random r = new Random(7);
        for (int i = 0; i < files; i++) {
            StringBuilder s = new StringBuilder();
            int lines = 150 + r.nextInt(150);
            for (int l = 0; l < lines; l++) {
                s.append("line ").append(r.nextInt(1000)).append(" of file ").append(i).append(' ')
                        .append(Long.toHexString(r.nextLong())).append('\n');
            }
            if (i == changed) {
                s.append(change);
            }
            byte[] content = s.toString().getBytes(StandardCharsets.UTF_8);
            tar.entry(new TarWriter.Header("src/dir" + (i / 50) + "/file" + i + ".txt", (byte) '0', 0644, 0, 0,
                    content.length, 1, "", 0, 0, Map.of()));
            tar.write(content, 0, content.length);
            tar.endEntry();
        }
        tar.finish();
        return copy.toByteArray();
    }

    private record Written(byte[] gzip, byte[] tar, List<GzipIndex.Block> blocks, int copied, Digest input) {}

    private static Written write(int changed, String change, int threads, Optional<GzipBlockSource> source)
            throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ParallelGzipOutputStream gz = new ParallelGzipOutputStream(sink, LEVEL, threads, source);
        byte[] tar = tar(600, changed, change, gz, gz);
        gz.close();
        assertThat(gz.inputSize()).isEqualTo(tar.length);
        return new Written(sink.toByteArray(), tar, gz.blocks(), gz.copiedBlocks(), gz.inputDigest());
    }

    private static byte[] gunzip(byte[] gzip) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
            return in.readAllBytes();
        }
    }

    /** Writes a blob and its index to files; returns the source they make. */
    private Optional<GzipBlockSource> saved(Written w, String compressor) throws IOException {
        Digest d = Digest.sha256(w.gzip());
        Path blob = Files.write(tmp.resolve(d.hex()), w.gzip());
        Path index = tmp.resolve(d.hex() + ".index");
        GzipIndex.write(index, d, compressor, w.blocks());
        return GzipIndex.read(index, d).flatMap(i -> GzipBlockSource.open(blob, i));
    }

    @Test
    void theOutputIsGzipOfTheInputWhateverTheThreads() throws Exception {
        Written one = write(-1, "", 1, Optional.empty());
        Written three = write(-1, "", 3, Optional.empty());
        assertThat(three.gzip()).isEqualTo(one.gzip());
        assertThat(gunzip(one.gzip())).isEqualTo(one.tar());
        assertThat(one.input()).isEqualTo(three.input()).isEqualTo(Digest.sha256(one.tar()));
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        ParallelGzipOutputStream unindexed = new ParallelGzipOutputStream(plain, LEVEL, 2);
        tar(600, -1, "", unindexed, unindexed);
        unindexed.close();
        assertThat(plain.toByteArray()).isEqualTo(one.gzip());
        assertThat(unindexed.blocks()).isEmpty();
        // blocks are cut between entries: fewer blocks than fixed 1 MiB ones would need, never more than 1 MiB
        assertThat(one.blocks().size()).isGreaterThan(one.tar().length / ParallelGzipOutputStream.MAX_BLOCK);
        assertThat(one.blocks().size()).isLessThanOrEqualTo(one.tar().length / ParallelGzipOutputStream.MIN_BLOCK + 1);
        Path file = Files.write(tmp.resolve("layer.tar.gz"), one.gzip());
        Process gzip = new ProcessBuilder(Tools.require("gzip").toString(), "-t", file.toString())
                .redirectErrorStream(true).start();
        assertThat(new String(gzip.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
        assertThat(gzip.waitFor()).isZero();
    }

    @Test
    void anEmptyStreamIsValidGzip() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        new ParallelGzipOutputStream(sink, LEVEL, 2).close();
        assertThat(gunzip(sink.toByteArray())).isEmpty();
    }

    @Test
    void copiedBlocksGiveTheBytesThatCompressingGives() throws Exception {
        Written before = write(-1, "", 2, Optional.empty());
        Optional<GzipBlockSource> source = saved(before, ParallelGzipOutputStream.compressor(LEVEL));
        assertThat(source).isPresent();
        for (String change : new String[] {"one more line\n", "x".repeat(40_000)}) {
            Written fresh = write(300, change, 2, Optional.empty());
            Written reused = write(300, change, 2, saved(before, ParallelGzipOutputStream.compressor(LEVEL)));
            assertThat(reused.gzip()).isEqualTo(fresh.gzip());
            assertThat(gunzip(reused.gzip())).isEqualTo(reused.tar());
            // the changed file's block and at most its neighbours are compressed again
            assertThat(reused.copied()).as(change.length() + " bytes more")
                    .isGreaterThanOrEqualTo(reused.blocks().size() - 3);
            List<GzipIndex.Key> keys = new ArrayList<>(before.blocks().stream().map(GzipIndex.Block::key).toList());
            assertThat(reused.blocks().stream().filter(b -> !keys.contains(b.key())).count())
                    .isBetween(1L, 3L);
        }
    }

    @Test
    void anIndexOfAnotherCompressorIsNotUsed() throws Exception {
        Written before = write(-1, "", 2, Optional.empty());
        Written reused = write(300, "changed\n", 2, saved(before, "zlib 0.9 level " + LEVEL));
        assertThat(reused.copied()).isZero();
        assertThat(reused.gzip()).isEqualTo(write(300, "changed\n", 2, Optional.empty()).gzip());
    }

    @Test
    void aDamagedOrShortPreviousBlobIsCompressedAgain() throws Exception {
        Written before = write(-1, "", 2, Optional.empty());
        Written fresh = write(300, "changed\n", 2, Optional.empty());
        Digest d = Digest.sha256(before.gzip());
        Path index = tmp.resolve("index");
        GzipIndex.write(index, d, ParallelGzipOutputStream.compressor(LEVEL), before.blocks());
        GzipIndex read = GzipIndex.read(index, d).orElseThrow();

        byte[] damaged = before.gzip().clone();
        for (int i = 10; i < damaged.length; i += 4096) {
            damaged[i] ^= 0x55; // every block hit
        }
        Path bad = Files.write(tmp.resolve("damaged"), damaged);
        Written fromDamaged = write(300, "changed\n", 1, GzipBlockSource.open(bad, read));
        assertThat(fromDamaged.copied()).isZero();
        assertThat(fromDamaged.gzip()).isEqualTo(fresh.gzip());

        Path shortBlob = Files.write(tmp.resolve("short"), java.util.Arrays.copyOf(before.gzip(), before.gzip().length / 2));
        Written fromShort = write(300, "changed\n", 2, GzipBlockSource.open(shortBlob, read));
        assertThat(fromShort.copied()).isPositive().isLessThan(fromShort.blocks().size() - 2);
        assertThat(fromShort.gzip()).isEqualTo(fresh.gzip());
        assertThat(gunzip(fromShort.gzip())).isEqualTo(fromShort.tar());

        assertThat(GzipBlockSource.open(tmp.resolve("missing"), read)).isEmpty();
    }

    @Test
    void anIndexIsReadOnlyWholeAndForItsBlob() throws Exception {
        Written w = write(-1, "", 2, Optional.empty());
        Digest d = Digest.sha256(w.gzip());
        Path index = tmp.resolve("index");
        GzipIndex.write(index, d, "some compressor", w.blocks());
        assertThat(GzipIndex.read(index, d).orElseThrow().blocks()).isEqualTo(w.blocks());
        assertThat(GzipIndex.read(index, d).orElseThrow().compressor()).isEqualTo("some compressor");
        assertThat(GzipIndex.read(index, Digest.sha256(new byte[1]))).isEmpty();
        byte[] bytes = Files.readAllBytes(index);
        bytes[bytes.length / 2] ^= 1;
        Files.write(index, bytes);
        assertThat(GzipIndex.read(index, d)).isEmpty();
        Files.write(index, java.util.Arrays.copyOf(bytes, 20));
        assertThat(GzipIndex.read(index, d)).isEmpty();
        assertThat(GzipIndex.read(tmp.resolve("none"), d)).isEmpty();
    }
}
