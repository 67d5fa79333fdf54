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
 * files) runs on another. Memory is bounded by {@code chunks * chunkSize}. An exception in the producer
 * is rethrown to the consumer at the point it reaches; closing stops the producer.
 */
public final class ReadAheadInputStream extends InputStream {
    private static final byte[] END = new byte[0];

    private final BlockingQueue<Object> queue;
    private final Thread producer;
    private volatile boolean closed;
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;

    /**
     * @param source read to its end on the producer thread
     * @param finish run on the producer thread after {@code source} ended (e.g. draining the raw stream
     *     under a decompressor so that its digest is checked); its exception reaches the consumer too
     */
    public ReadAheadInputStream(InputStream source, IoAction finish, int chunkSize, int chunks) {
        this.queue = new ArrayBlockingQueue<>(chunks);
        this.producer = Thread.ofPlatform().daemon().name("berth-read-ahead").unstarted(() -> {
            try {
                while (!closed) {
                    byte[] chunk = source.readNBytes(chunkSize);
                    if (chunk.length == 0) {
                        break;
                    }
                    put(chunk);
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
        while (position >= current.length) {
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
            current = (byte[]) item;
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
        int n = Math.min(len, current.length - position);
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
