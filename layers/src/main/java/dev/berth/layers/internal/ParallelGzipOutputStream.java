package dev.berth.layers.internal;

import dev.berth.layers.Digest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A gzip stream compressed in blocks on several threads, as pigz does it, whose blocks a later stream can
 * copy instead of compressing them again ({@link GzipBlockSource}).
 *
 * <p>Blocks are cut where the content says, not at fixed offsets, so that a change in one file changes
 * the blocks around it and no others: a block ends at the start of a tar entry ({@link #entryAt}) once it
 * holds at least {@link #MIN_BLOCK} bytes and the entry's name fingerprint picks it (one name in
 * {@link #CUT_ONE_IN}), or at {@link #MAX_BLOCK} bytes (inside an entry) when no entry start did. With no
 * entry starts given the blocks are simply {@link #MAX_BLOCK} bytes.
 *
 * <p>Why the output is reproducible: block boundaries depend only on the input (bytes and entry starts),
 * every block is deflated by a fresh deflater primed with the previous block's last 32 KiB and ends with
 * a sync flush, and the stream ends with an empty final block. So a block's compressed bytes are a function
 * of its dictionary, its bytes, the level and the deflate implementation ({@link #compressor}); they depend
 * neither on the thread count nor on scheduling, nor on whether they were compressed or copied.
 *
 * <p>With more than one thread the caller only cuts blocks: threads compress (or copy) them, and one more
 * thread takes them in order and checksums them (CRC-32 for the trailer, SHA-256 for {@link #inputDigest})
 * and writes them to {@code out}, so a layer's hashing is not all on the caller's thread. Memory is
 * bounded: at most {@code 2 * threads} blocks are in flight, and block arrays are reused.
 */
public final class ParallelGzipOutputStream extends OutputStream implements TarWriter.Boundaries {
    static final int MIN_BLOCK = 512 * 1024;
    static final int MAX_BLOCK = 1024 * 1024;
    static final int CUT_ONE_IN = 16;
    static final int DICTIONARY = 32 * 1024;
    /** Room for a compressed block: deflate's output is at most a little larger than its input. */
    static final int OUT_CAPACITY = MAX_BLOCK + MAX_BLOCK / 8 + 1024;
    /** Header: magic, deflate, no flags, mtime 0, no extra flags, OS 255 (unknown). */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    /** The end of the deflate stream: an empty final block with fixed codes (every block before ends flushed). */
    private static final byte[] END = {3, 0};
    private static final ThreadLocal<Deflaters> DEFLATERS = ThreadLocal.withInitial(Deflaters::new);

    private final OutputStream out;
    private final int level;
    private final int maxInFlight;
    private final ExecutorService pool;
    /** Writes blocks in order (with more than one thread): the only user of {@code out} until close. */
    private final ExecutorService writer;
    private final GzipBlockSource source;
    /** Whether blocks are keyed and listed for an index ({@link #blocks}). */
    private final boolean indexed;
    /** Blocks handed to the writer; each gives its array back once written. */
    private final ArrayDeque<Future<byte[]>> inFlight = new ArrayDeque<>();
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
    /** Arrays for compressed blocks, taken by the compressing threads and given back once written. */
    private final ConcurrentLinkedQueue<byte[]> outputs = new ConcurrentLinkedQueue<>();
    private final CRC32 crc = new CRC32();
    private final MessageDigest inputHash = Digest.sha256Hasher();
    private volatile boolean failed;
    private final EntryStarts starts = new EntryStarts();
    private final List<GzipIndex.Block> written = new ArrayList<>();
    private byte[] block = new byte[MAX_BLOCK];
    private int filled;
    /** The last 32 KiB of the block before the one being filled (a copy), or null for the first block. */
    private byte[] dictionary;
    private long total;
    private long offset = HEADER.length;
    private int copied;
    private boolean closed;

    /** A stream that keeps no list of its blocks: the same bytes, without the hashing an index needs. */
    public ParallelGzipOutputStream(OutputStream out, int level, int threads) {
        this(out, level, threads, Optional.empty(), false);
    }

    /**
     * A stream that lists its blocks for an index ({@link #blocks}) and takes the compressed bytes of a
     * block from {@code source} when it has the block (and was made by the same {@link #compressor}); it
     * closes the source when it is closed.
     */
    public ParallelGzipOutputStream(OutputStream out, int level, int threads, Optional<GzipBlockSource> source) {
        this(out, level, threads, source, true);
    }

    private ParallelGzipOutputStream(OutputStream out, int level, int threads, Optional<GzipBlockSource> source,
                                     boolean indexed) {
        this.out = out;
        this.level = level;
        this.indexed = indexed;
        this.maxInFlight = 2 * threads;
        this.source = source.filter(s -> s.index().compressor().equals(compressor(level))).orElse(null);
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> daemon(r, "berth-gzip")) : null;
        this.writer = threads > 1 ? Executors.newSingleThreadExecutor(r -> daemon(r, "berth-gzip-write")) : null;
        try {
            out.write(HEADER);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Loads the system's zlib on a daemon thread (see {@link dev.berth.layers.Compression#prepare()}). */
    public static void prepare() {
        Thread.ofPlatform().daemon(true).name("berth-zlib-load").start(SystemZlib::available);
    }

    /**
     * What a block's compressed bytes depend on besides its dictionary and bytes: the deflate
     * implementation, the level and how blocks are cut. Blocks of another compressor are never copied.
     */
    public static String compressor(int level) {
        String deflate = SystemZlib.version().map(v -> "zlib " + v)
                .orElse("java.util.zip " + Runtime.version().feature());
        return deflate + " level " + level + " blocks " + MIN_BLOCK + ".." + MAX_BLOCK + " cut 1/" + CUT_ONE_IN;
    }

    /** The stream's blocks in order, once it is closed (none for a stream made without an index). */
    public List<GzipIndex.Block> blocks() {
        return List.copyOf(written);
    }

    /** How many blocks were copied from the source rather than compressed, once the stream is closed. */
    public int copiedBlocks() {
        return copied;
    }

    /** The SHA-256 of all the bytes written to the stream (a layer's diff_id), once it is closed. */
    public Digest inputDigest() {
        if (!closed) {
            throw new IllegalStateException("the stream is not closed");
        }
        return Digest.of(inputHash.digest());
    }

    /** How many bytes were written to the stream. */
    public long inputSize() {
        return total;
    }

    @Override
    public void entryAt(long at, int fingerprint) {
        starts.add(at, fingerprint);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        while (true) {
            entryStartsHere();
            if (len == 0) {
                return;
            }
            int n = Math.min(len, MAX_BLOCK - filled);
            if (!starts.isEmpty()) {
                n = (int) Math.min(n, starts.nextOffset() - total);
            }
            System.arraycopy(b, off, block, filled, n);
            filled += n;
            total += n;
            off += n;
            len -= n;
            if (filled == MAX_BLOCK) {
                submit();
            }
        }
    }

    /** Takes the entry starts at the current offset (and any behind it): the block may end here. */
    private void entryStartsHere() throws IOException {
        while (!starts.isEmpty() && starts.nextOffset() <= total) {
            boolean here = starts.nextOffset() == total;
            int fingerprint = starts.remove();
            if (here && filled >= MIN_BLOCK && picks(fingerprint)) {
                submit();
            }
        }
    }

    /** Whether an entry's name fingerprint makes it a place to cut: the top bits of a multiplicative hash. */
    static boolean picks(int fingerprint) {
        return (fingerprint * 0x9E3779B1) >>> (32 - Integer.numberOfTrailingZeros(CUT_ONE_IN)) == 0;
    }

    private void submit() throws IOException {
        if (filled == 0) {
            return;
        }
        byte[] data = block;
        int length = filled;
        byte[] primer = dictionary;
        // Copied now, so the block itself can be filled again as soon as it is compressed.
        dictionary = Arrays.copyOfRange(data, length - Math.min(DICTIONARY, length), length);
        if (pool == null) {
            write(data, length, compress(data, length, primer));
            spare.push(data);
        } else {
            Future<Compressed> compressed = pool.submit(() -> compress(data, length, primer));
            inFlight.add(writer.submit(() -> {
                if (!failed) {
                    try {
                        write(data, length, compressed.get());
                    } catch (Exception e) {
                        failed = true; // the blocks after it must not be written in its place
                        throw e;
                    }
                }
                return data;
            }));
            while (inFlight.size() >= maxInFlight) {
                drainOne();
            }
        }
        block = spare.isEmpty() ? new byte[MAX_BLOCK] : spare.pop();
        filled = 0;
    }

    /** Waits for the oldest block in flight to be written, and takes its array back. */
    private void drainOne() throws IOException {
        Future<byte[]> oldest = inFlight.removeFirst();
        try {
            spare.push(oldest.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("gzip compression interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof ExecutionException inner ? inner.getCause() : e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("gzip compression failed: " + cause, cause);
        }
    }

    /** Checksums a block's input and writes its compressed bytes: for one block at a time, in order. */
    private void write(byte[] data, int length, Compressed c) throws IOException {
        crc.update(data, 0, length);
        inputHash.update(data, 0, length);
        out.write(c.bytes(), 0, c.length());
        if (indexed) {
            written.add(new GzipIndex.Block(c.key(), offset, c.length(), c.check()));
        }
        offset += c.length();
        if (c.copied()) {
            copied++;
        }
        outputs.offer(c.bytes());
    }

    /** A compressed block: the first {@code length} bytes of {@code bytes}, with its key and checksum (if indexed). */
    private record Compressed(byte[] bytes, int length, GzipIndex.Key key, int check, boolean copied) {}

    /** A block's compressed bytes: copied from the source when it has them intact, else deflated. */
    private Compressed compress(byte[] data, int length, byte[] dictionary) throws IOException {
        GzipIndex.Key key = indexed ? GzipIndex.Key.of(dictionary, data, length) : null;
        byte[] buf = outputs.poll();
        if (buf == null) {
            buf = new byte[OUT_CAPACITY];
        }
        if (source != null) {
            Optional<GzipIndex.Block> known = source.index().find(key);
            if (known.isPresent() && source.read(known.get(), buf)) {
                return new Compressed(buf, known.get().length(), key, known.get().check(), true);
            }
        }
        int n = SystemZlib.available() ? SystemZlib.deflate(data, length, dictionary, level, buf)
                : jdkDeflate(data, length, dictionary, level, buf);
        return new Compressed(buf, n, key, indexed ? GzipIndex.check(buf, n) : 0, false);
    }

    /** The same deflate with the JDK's bundled zlib: where the system's cannot be loaded, and in tests. */
    static int jdkDeflate(byte[] data, int length, byte[] dictionary, int level, byte[] out) {
        Deflater deflater = DEFLATERS.get().get(level);
        if (dictionary != null) {
            deflater.setDictionary(dictionary);
        }
        deflater.setInput(data, 0, length);
        int len = 0;
        while (true) {
            int room = out.length - len;
            int n = deflater.deflate(out, len, room, Deflater.SYNC_FLUSH);
            len += n;
            if (n < room) {
                break; // room left: the flush is complete
            }
            if (len == out.length) {
                throw new IllegalStateException("a compressed block is larger than " + out.length + " bytes");
            }
        }
        deflater.reset();
        return len;
    }

    @Override
    public void flush() throws IOException {
        // Flushing mid-block would change the block boundaries and thus the output; only the sink is flushed.
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            submit();
            while (!inFlight.isEmpty()) {
                drainOne();
            }
            long c = crc.getValue();
            out.write(END);
            out.write(new byte[] {
                (byte) c, (byte) (c >> 8), (byte) (c >> 16), (byte) (c >> 24),
                (byte) total, (byte) (total >> 8), (byte) (total >> 16), (byte) (total >> 24)});
            out.close();
        } finally {
            if (pool != null) {
                pool.shutdownNow();
                writer.shutdownNow();
            }
            if (source != null) {
                source.close();
            }
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
    }

    /** One reusable raw deflater per level per thread. */
    private static final class Deflaters {
        private final Deflater[] byLevel = new Deflater[10];

        Deflater get(int level) {
            Deflater d = byLevel[level];
            if (d == null) {
                d = new Deflater(level, true);
                byLevel[level] = d;
            }
            return d;
        }
    }
}
