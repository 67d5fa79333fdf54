package dev.berth.layers;

import dev.berth.layers.internal.GzipBlockSource;
import dev.berth.layers.internal.GzipIndex;
import dev.berth.layers.internal.ParallelGzipOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Block indexes of gzip layers, one file per blob in {@code indexes}, and the blob a layer is written
 * again from ({@code previous}: the layer the same step made last time). A gzip layer is compressed in
 * blocks cut between tar entries; its index says, for each block, which uncompressed bytes (and
 * dictionary) it holds and where its compressed bytes are. Writing a layer with {@code previous} copies
 * the compressed bytes of every block whose key the previous index has instead of compressing the block
 * again, so a layer in which one file changed costs the compression of the blocks around that file.
 *
 * <p>The blob is byte for byte the one that compressing every block gives: a block's compressed bytes
 * depend only on its key and on the compressor named in the index (an index of another compressor, zlib
 * or level is not used), and a copied block is checked against the CRC-32C its index has for it. A missing,
 * damaged or foreign index or blob only means blocks are compressed again.
 */
public record GzipBlocks(Path indexes, Optional<Digest> previous) {

    /** The index file of a blob. */
    Path indexOf(Digest blob) {
        return indexes.resolve(blob.algorithm() + "-" + blob.hex());
    }

    /** The compressor of a gzip layer: copying from the previous blob where its index allows. */
    ParallelGzipOutputStream compress(ImageStore store, Compression.Gzip gzip, OutputStream out) {
        Optional<GzipBlockSource> source = previous.flatMap(d -> GzipIndex.read(indexOf(d), d)
                .flatMap(index -> GzipBlockSource.open(store.blobPath(d), index)));
        return new ParallelGzipOutputStream(out, gzip.level(), gzip.threads(), source);
    }

    /** Records the index of a blob that {@code stream} wrote; an index that cannot be written only costs time. */
    void record(Digest blob, ParallelGzipOutputStream stream, int level) {
        try {
            GzipIndex.write(indexOf(blob), blob, ParallelGzipOutputStream.compressor(level), stream.blocks());
        } catch (IOException | RuntimeException notWritten) {
            // the next build of this layer compresses all of it
        }
    }
}
