package dev.berth.layers.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A gzip stream compressed in fixed 512 KiB blocks on several threads, as pigz does it (pigz's blocks
 * are 128 KiB by default). Why larger: each block costs a fixed amount besides its bytes (priming the
 * deflater with the 32 KiB dictionary, handing the block to a thread and back), and with 128 KiB blocks
 * that was about 5% of a large layer's time; 512 KiB blocks still give a 2 MiB layer to two cores.
 *
 * <p>Why the output is reproducible: block boundaries depend only on the input, every block is deflated
 * with a fresh deflater primed with the previous block's last 32 KiB, and every block but the last ends
 * with a sync flush. So the bytes depend on the input, the level and zlib, and not on the thread count
 * or on scheduling. One thread compresses inline, with no pool.
 *
 * <p>Memory is bounded: at most {@code 2 * threads} blocks are in flight, and a block's array is filled
 * again once it is compressed.
 */
public final class ParallelGzipOutputStream extends OutputStream {
    static final int BLOCK = 512 * 1024;
    static final int DICTIONARY = 32 * 1024;
    /** Room for a compressed block: deflate's output is at most a little larger than its input. */
    static final int OUT_CAPACITY = BLOCK + BLOCK / 8 + 1024;
    /** Header: magic, deflate, no flags, mtime 0, no extra flags, OS 255 (unknown). */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    private static final ThreadLocal<Deflaters> DEFLATERS = ThreadLocal.withInitial(Deflaters::new);

    private final OutputStream out;
    private final int level;
    private final int maxInFlight;
    private final ExecutorService pool;
    private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
    /** Blocks whose compression is done, to be filled again: a large layer allocates a few, not one per block. */
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
    /** Arrays for compressed blocks, taken by the compressing threads and given back once written. */
    private final ConcurrentLinkedQueue<byte[]> outputs = new ConcurrentLinkedQueue<>();
    private final CRC32 crc = new CRC32();
    private byte[] block = new byte[BLOCK];
    private int filled;
    /** The last 32 KiB of the block before the one being filled (a copy), or null for the first block. */
    private byte[] dictionary;
    private long total;
    private boolean closed;

    public ParallelGzipOutputStream(OutputStream out, int level, int threads) {
        this.out = out;
        this.level = level;
        this.maxInFlight = 2 * threads;
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "berth-gzip");
            t.setDaemon(true);
            return t;
        }) : null;
        try {
            out.write(HEADER);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads the system's zlib on a daemon thread (see {@link dev.berth.layers.Compression#prepare()}). */
    public static void prepare() {
        Thread.ofPlatform().daemon(true).name("berth-zlib-load").start(SystemZlib::available);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        crc.update(b, off, len);
        total += len;
        while (len > 0) {
            int n = Math.min(len, BLOCK - filled);
            System.arraycopy(b, off, block, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == BLOCK) {
                submit(false);
            }
        }
    }

    private void submit(boolean last) throws IOException {
        byte[] data = filled == block.length ? block : Arrays.copyOf(block, filled);
        byte[] primer = dictionary;
        // Copied now, so the block itself can be filled again as soon as it is compressed.
        dictionary = Arrays.copyOfRange(data, data.length - Math.min(DICTIONARY, data.length), data.length);
        int lvl = level;
        if (pool == null) {
            write(deflate(data, primer, lvl, last));
            recycle(data);
        } else {
            inFlight.add(new Pending(pool.submit(() -> deflate(data, primer, lvl, last)), data));
            while (inFlight.size() >= maxInFlight) {
                drainOne();
            }
        }
        block = spare.isEmpty() ? new byte[BLOCK] : spare.pop();
        filled = 0;
    }

    private void drainOne() throws IOException {
        Pending p = inFlight.removeFirst();
        try {
            write(p.compressed().get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("gzip compression interrupted");
        } catch (ExecutionException e) {
            throw new IOException("gzip compression failed", e.getCause());
        }
        recycle(p.data());
    }

    private void recycle(byte[] data) {
        if (data.length == BLOCK) {
            spare.push(data);
        }
    }

    private void write(Compressed c) throws IOException {
        out.write(c.bytes(), 0, c.length());
        outputs.offer(c.bytes());
    }

    /** A block handed to the pool, and its compressed bytes to come. */
    private record Pending(Future<Compressed> compressed, byte[] data) {}

    /** A compressed block: the first {@code length} bytes of {@code bytes}. */
    private record Compressed(byte[] bytes, int length) {}

    private Compressed deflate(byte[] data, byte[] dictionary, int level, boolean last) {
        byte[] buf = outputs.poll();
        if (buf == null) {
            buf = new byte[OUT_CAPACITY];
        }
        int n = SystemZlib.available() ? SystemZlib.deflate(data, dictionary, level, last, buf)
                : jdkDeflate(data, dictionary, level, last, buf);
        return new Compressed(buf, n);
    }

    /** The same deflate with the JDK's bundled zlib: where the system's cannot be loaded, and in tests. */
    static int jdkDeflate(byte[] data, byte[] dictionary, int level, boolean last, byte[] out) {
        Deflaters d = DEFLATERS.get();
        Deflater deflater = d.get(level);
        if (dictionary != null) {
            deflater.setDictionary(dictionary);
        }
        deflater.setInput(data);
        if (last) {
            deflater.finish();
        }
        int len = 0;
        while (true) {
            int n = last ? deflater.deflate(out, len, out.length - len)
                    : deflater.deflate(out, len, out.length - len, Deflater.SYNC_FLUSH);
            len += n;
            if (last ? deflater.finished() : (n < out.length - (len - n))) {
                break;
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
            submit(true);
            while (!inFlight.isEmpty()) {
                drainOne();
            }
            long c = crc.getValue();
            out.write(new byte[] {
                (byte) c, (byte) (c >> 8), (byte) (c >> 16), (byte) (c >> 24),
                (byte) total, (byte) (total >> 8), (byte) (total >> 16), (byte) (total >> 24)});
            out.close();
        } finally {
            if (pool != null) {
                pool.shutdownNow();
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
