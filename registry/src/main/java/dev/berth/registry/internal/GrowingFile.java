package dev.berth.registry.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A file read while another thread writes it from its start (a blob as it downloads), so that work on its
 * bytes (a layer's check) runs beside the download: a read waits for bytes not written yet, and the stream
 * ends once the writer says it is {@code done} and every byte was read. When the writer starts the file
 * again (it shrinks below what was read), reads fail with {@link Restarted}.
 */
final class GrowingFile extends InputStream {
    /** The writer started over: what was read is not the blob's. */
    static final class Restarted extends IOException {
        Restarted() {
            super("the download started over");
        }
    }

    private final FileChannel ch;
    private final AtomicBoolean done;
    private long pos;

    GrowingFile(Path file, AtomicBoolean done) throws IOException {
        this.ch = FileChannel.open(file, StandardOpenOption.READ);
        this.done = done;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (true) {
            boolean finished = done.get(); // read before the size: all was written when it is set
            long size = ch.size();
            if (size < pos) {
                throw new Restarted();
            }
            if (pos < size) {
                int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, size - pos)), pos);
                if (n > 0) {
                    pos += n;
                    return n;
                }
            } else if (finished) {
                return -1;
            }
            LockSupport.parkNanos(200_000);
            if (Thread.interrupted()) {
                throw new java.io.InterruptedIOException();
            }
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
