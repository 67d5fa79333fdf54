package dev.berth.layers.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads a stream on a thread of its own, ahead of the consumer, through a bounded queue of chunks: the
 * producer's work (decompressing and hashing a layer) runs on one core while the consumer's (creating
 * files) runs on another. Memory is bounded by {@code (chunks + 2) * chunkSize}, in buffers that go round
 * between the two threads rather than one new one per chunk: a chunk that waits in the queue outlives a
 * young collection, and fresh ones would fill the old generation with garbage at the stream's rate. An
 * exception in the producer is rethrown to the consumer at the point it reaches; closing stops the
 * producer.
 */
public final class ReadAheadInputStream extends InputStream {
    private static final Object END = new Object();

    /** A filled buffer: its first {@code length} bytes. */
    private record Chunk(byte[] data, int length) {}

    private final BlockingQueue<Object> queue;
    /** Buffers the consumer is done with, for the producer to fill again. */
    private final BlockingQueue<byte[]> free;
    private final Thread producer;
    private volatile boolean closed;
    private byte[] current = new byte[0];
    private int limit;
    private int position;
    private boolean ended;

    /**
     * @param source read to its end on the producer thread
     * @param finish run on the producer thread after {@code source} ended (e.g. draining the raw stream
     *     under a decompressor so that its digest is checked); its exception reaches the consumer too
     */
    public ReadAheadInputStream(InputStream source, IoAction finish, int chunkSize, int chunks) {
        this.queue = new ArrayBlockingQueue<>(chunks);
        this.free = new ArrayBlockingQueue<>(chunks + 2);
        this.producer = Thread.ofPlatform().daemon().name("berth-read-ahead").unstarted(() -> {
            try {
                int made = 0;
                while (!closed) {
                    byte[] buffer = free.poll();
                    if (buffer == null) {
                        // chunks in the queue, one being filled, one the consumer reads: no more ever
                        if (made < chunks + 2) {
                            buffer = new byte[chunkSize];
                            made++;
                        } else {
                            buffer = free.take();
                        }
                    }
                    int n = source.readNBytes(buffer, 0, chunkSize);
                    if (n == 0) {
                        break;
                    }
                    put(new Chunk(buffer, n));
                }
                if (!closed) {
                    finish.run();
                }
                put(END);
            } catch (IOException | RuntimeException | Error e) {
                try {
                    put(e);
                } catch (InterruptedException ignored) {
                    // the consumer has gone
                }
            } catch (InterruptedException stop) {
                // closed by the consumer
            }
        });
        producer.start();
    }

    /** An action that may fail with an {@link IOException}. */
    @FunctionalInterface
    public interface IoAction {
        void run() throws IOException;
    }

    private void put(Object item) throws InterruptedException {
        while (!closed) {
            if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                return;
            }
        }
    }

    private boolean fill() throws IOException {
        if (ended) {
            return false;
        }
        while (position >= limit) {
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading ahead");
            }
            if (item == END) {
                ended = true;
                return false;
            }
            if (item instanceof IOException e) {
                ended = true;
                throw e;
            }
            if (item instanceof RuntimeException e) {
                ended = true;
                throw e;
            }
            if (item instanceof Error e) {
                ended = true;
                throw e;
            }
            if (current.length > 0) {
                free.offer(current);
            }
            Chunk chunk = (Chunk) item;
            current = chunk.data();
            limit = chunk.length();
            position = 0;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        return fill() ? current[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, limit - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public void close() {
        closed = true;
        producer.interrupt();
        queue.clear();
    }

}
