package dev.berth.layers;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import com.github.luben.zstd.util.Native;
import dev.berth.layers.internal.ParallelGzipOutputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * How a layer's tar stream is compressed. Output depends only on the kind, the level and the berth
 * version, never on the number of threads, so the same layer always gets the same digest.
 */
public sealed interface Compression permits Compression.None, Compression.Gzip, Compression.Zstd {

    /** The three layer compressions the OCI spec names. */
    enum Kind { NONE, GZIP, ZSTD }

    Kind kind();

    /** Wraps {@code out}; closing the result finishes the compressed stream and closes {@code out}. */
    OutputStream compress(OutputStream out) throws IOException;

    /** This compression as {@link #parse} reads it: {@code none}, {@code gzip:LEVEL} or {@code zstd:LEVEL}. */
    default String spec() {
        return switch (this) {
            case None n -> "none";
            case Gzip g -> "gzip:" + g.level();
            case Zstd z -> "zstd:" + z.level();
        };
    }

    /**
     * Starts loading what {@link #compress} will need on another core, and returns at once: for a caller
     * that will write a layer and first has other work to do (walking the files that go into it). Without
     * it, the first block of a layer waits for the loading: about 60 ms for gzip (the system's zlib, bound
     * through the Foreign Function API), about 10 ms for zstd (its native library).
     */
    default void prepare() {
    }

    /** No compression: the blob is the tar itself and its digest is the diff_id. */
    record None() implements Compression {
        @Override
        public Kind kind() {
            return Kind.NONE;
        }

        @Override
        public OutputStream compress(OutputStream out) {
            return out;
        }
    }

    /**
     * gzip in independent blocks of 512 KiB to 1 MiB cut between tar entries (as pigz does, with content
     * defined cuts), compressed on {@code threads} threads; each block is primed with the previous block's
     * last 32 KiB, so the ratio stays close to single-stream gzip. The header has no name, mtime 0 and OS
     * byte 255 (unknown), as Go's gzip writes it. A layer written again can copy its unchanged blocks
     * ({@link GzipBlocks}).
     */
    record Gzip(int level, int threads) implements Compression {
        public Gzip {
            if (level < 1 || level > 9) {
                throw new LayersException("gzip level must be 1 to 9, not " + level);
            }
            if (threads < 1) {
                throw new LayersException("gzip threads must be at least 1, not " + threads);
            }
        }

        @Override
        public Kind kind() {
            return Kind.GZIP;
        }

        @Override
        public OutputStream compress(OutputStream out) {
            return new ParallelGzipOutputStream(out, level, threads);
        }

        @Override
        public void prepare() {
            ParallelGzipOutputStream.prepare();
        }
    }

    /**
     * zstd. Always in zstd's multi-threaded mode (with at least one worker), whose output does not depend
     * on the worker count.
     */
    record Zstd(int level, int threads) implements Compression {
        public Zstd {
            if (level < 1 || level > 19) {
                throw new LayersException("zstd level must be 1 to 19, not " + level);
            }
            if (threads < 1) {
                throw new LayersException("zstd threads must be at least 1, not " + threads);
            }
        }

        @Override
        public Kind kind() {
            return Kind.ZSTD;
        }

        @Override
        public void prepare() {
            Thread.ofPlatform().daemon(true).name("berth-zstd-load").start(Native::load);
        }

        @Override
        public OutputStream compress(OutputStream out) throws IOException {
            ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(out);
            z.setLevel(level);
            z.setWorkers(threads);
            z.setChecksum(false);
            return z;
        }
    }

    /** gzip level 6 on all cores: berth's default. */
    static Compression defaultGzip() {
        return new Gzip(6, cores());
    }

    /** Parses {@code gzip}, {@code gzip:LEVEL}, {@code zstd}, {@code zstd:LEVEL} or {@code none}. */
    static Compression parse(String text) {
        String[] parts = text.toLowerCase(Locale.ROOT).split(":", 2);
        try {
            return switch (parts[0]) {
                case "gzip" -> new Gzip(parts.length > 1 ? Integer.parseInt(parts[1]) : 6, cores());
                case "zstd" -> new Zstd(parts.length > 1 ? Integer.parseInt(parts[1]) : 3, cores());
                case "none", "uncompressed" -> {
                    if (parts.length > 1) {
                        throw new LayersException("compression none takes no level");
                    }
                    yield new None();
                }
                default -> throw new LayersException("unknown compression \"" + text + "\": use gzip, zstd or none");
            };
        } catch (NumberFormatException e) {
            throw new LayersException("invalid compression level in \"" + text + "\"");
        }
    }

    private static int cores() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Wraps {@code in} in the decompressor its first bytes call for (gzip, zstd, or none for a plain tar).
     * Concatenated gzip members are read as one stream.
     */
    public static InputStream decompress(InputStream in) throws IOException {
        BufferedInputStream b = in instanceof BufferedInputStream bis ? bis : new BufferedInputStream(in, 1 << 16);
        return switch (detect(b)) {
            case GZIP -> new GZIPInputStream(b, 1 << 16);
            case ZSTD -> new ZstdInputStreamNoFinalizer(b).setContinuous(false);
            case NONE -> b;
        };
    }

    /** Peeks at the magic bytes of a buffered stream without consuming them. */
    static Kind detect(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return Kind.GZIP;
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return Kind.ZSTD;
        }
        return Kind.NONE;
    }
}
