package dev.berth.layers.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * An earlier gzip blob and its {@link GzipIndex}: where {@link ParallelGzipOutputStream} finds compressed
 * blocks to copy. A block is copied only when its bytes read back whole and match the checksum the index
 * has for them; anything else (a blob that is shorter, damaged or replaced) makes the stream compress the
 * block itself, so a bad source costs time, never a wrong blob. Safe for reads from several threads.
 */
public final class GzipBlockSource implements Closeable {
    private final FileChannel blob;
    private final GzipIndex index;

    private GzipBlockSource(FileChannel blob, GzipIndex index) {
        this.blob = blob;
        this.index = index;
    }

    /** The blob at {@code file} with its index; empty when either cannot be read. */
    public static Optional<GzipBlockSource> open(Path file, GzipIndex index) {
        try {
            return Optional.of(new GzipBlockSource(FileChannel.open(file, StandardOpenOption.READ), index));
        } catch (IOException | RuntimeException missing) {
            return Optional.empty();
        }
    }

    GzipIndex index() {
        return index;
    }

    /** Reads a block's compressed bytes into the start of {@code into}; whether they are there and intact. */
    boolean read(GzipIndex.Block block, byte[] into) {
        if (block.length() > into.length) {
            return false;
        }
        ByteBuffer buf = ByteBuffer.wrap(into, 0, block.length());
        try {
            while (buf.hasRemaining()) {
                if (blob.read(buf, block.offset() + buf.position()) < 0) {
                    return false;
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            return false;
        }
        return GzipIndex.check(into, block.length()) == block.check();
    }

    @Override
    public void close() throws IOException {
        blob.close();
    }
}
