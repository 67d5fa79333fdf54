package dev.berth.layers.internal;

import dev.berth.layers.Digest;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The blocks of a gzip blob that {@link ParallelGzipOutputStream} wrote: for each block its key (SHA-256
 * of the dictionary it was primed with and of its uncompressed bytes), where its compressed bytes lie in
 * the blob and their CRC-32C. A block's compressed bytes are a function of its key and of the
 * {@link ParallelGzipOutputStream#compressor}, so a later stream with an equal key and compressor may copy
 * them instead of compressing the block again.
 *
 * <p>The file: magic, compressor, the blob's digest, the blocks, then a SHA-256 of all that. Anything that
 * does not read back whole and for the expected blob (truncated, damaged, another format, another blob) is
 * no index: {@link #read} gives nothing, never an error. Written by rename of a complete temp file, not
 * fsynced: after a crash an index may be missing or torn, which its checksum shows, and a missing index
 * only costs a block compression.
 */
public final class GzipIndex {
    private static final int MAGIC = 0x42474932; // "BGI2"
    private static final int KEY = 32;
    private static final int MAX_BLOCKS = 1 << 24;

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(Digest::sha256Hasher);

    /** A block key: the 32 bytes of its SHA-256, as four longs (a value, for hash maps). */
    public record Key(long a, long b, long c, long d) {
        /**
         * The key of a block, the first {@code length} bytes of {@code data}, primed with {@code dictionary}
         * (null for none): SHA-256 of the dictionary's length (4 bytes), the dictionary and the block.
         */
        static Key of(byte[] dictionary, byte[] data, int length) {
            MessageDigest md = SHA256.get();
            int d = dictionary == null ? 0 : dictionary.length;
            md.update(new byte[] {(byte) (d >> 24), (byte) (d >> 16), (byte) (d >> 8), (byte) d});
            if (dictionary != null) {
                md.update(dictionary);
            }
            md.update(data, 0, length);
            ByteBuffer bb = ByteBuffer.wrap(md.digest());
            return new Key(bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong());
        }

        void writeTo(DataOutputStream out) throws IOException {
            out.writeLong(a);
            out.writeLong(b);
            out.writeLong(c);
            out.writeLong(d);
        }
    }

    /**
     * A block of a blob: its key and its compressed bytes, {@code length} bytes at {@code offset} whose
     * CRC-32C is {@code check}.
     */
    public record Block(Key key, long offset, int length, int check) {}

    private final String compressor;
    private final List<Block> order;
    private final Map<Key, Block> blocks;

    private GzipIndex(String compressor, List<Block> order) {
        this.compressor = compressor;
        this.order = List.copyOf(order);
        this.blocks = new HashMap<>(Math.max(16, order.size() * 4 / 3 + 1));
        order.forEach(b -> blocks.putIfAbsent(b.key(), b));
    }

    /** The CRC-32C of the first {@code length} bytes of {@code b}: a block's {@link Block#check}. */
    static int check(byte[] b, int length) {
        CRC32C c = new CRC32C();
        c.update(b, 0, length);
        return (int) c.getValue();
    }

    /** Who made the blocks: {@link ParallelGzipOutputStream#compressor}'s text. */
    public String compressor() {
        return compressor;
    }

    /** The block with this key, if the blob has one. */
    Optional<Block> find(Key key) {
        return Optional.ofNullable(blocks.get(key));
    }

    /** The blocks in the order of the blob. */
    public List<Block> blocks() {
        return order;
    }

    /** The index of {@code blob} in {@code file}; empty when there is none, or it is damaged or another blob's. */
    public static Optional<GzipIndex> read(Path file, Digest blob) {
        try {
            byte[] all = Files.readAllBytes(file);
            if (all.length < 4 + KEY) {
                return Optional.empty();
            }
            byte[] sum = Digest.sha256Hasher().digest(Arrays.copyOf(all, all.length - KEY));
            if (!MessageDigest.isEqual(sum, Arrays.copyOfRange(all, all.length - KEY, all.length))) {
                return Optional.empty();
            }
            ByteBuffer in = ByteBuffer.wrap(all, 0, all.length - KEY);
            if (in.getInt() != MAGIC) {
                return Optional.empty();
            }
            String compressor = utf(in);
            if (!utf(in).equals(blob.toString())) {
                return Optional.empty();
            }
            int n = in.getInt();
            if (n < 0 || n > MAX_BLOCKS) {
                return Optional.empty();
            }
            List<Block> blocks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Key k = new Key(in.getLong(), in.getLong(), in.getLong(), in.getLong());
                long offset = in.getLong();
                int length = in.getInt();
                int check = in.getInt();
                if (offset < 0 || length < 0) {
                    return Optional.empty();
                }
                blocks.add(new Block(k, offset, length, check));
            }
            return in.hasRemaining() ? Optional.empty() : Optional.of(new GzipIndex(compressor, blocks));
        } catch (IOException | RuntimeException missingOrDamaged) {
            return Optional.empty();
        }
    }

    private static String utf(ByteBuffer in) {
        int n = in.getShort() & 0xffff;
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Writes the index of {@code blob}: its blocks in stream order, made by {@code compressor}. */
    public static void write(Path file, Digest blob, String compressor, List<Block> blocks) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + blocks.size() * (KEY + 16));
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeUTF(compressor);
        out.writeUTF(blob.toString());
        out.writeInt(blocks.size());
        for (Block b : blocks) {
            b.key().writeTo(out);
            out.writeLong(b.offset());
            out.writeInt(b.length());
            out.writeInt(b.check());
        }
        out.flush();
        out.write(Digest.sha256Hasher().digest(bytes.toByteArray()));
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".index-", ".tmp");
        try {
            Files.write(tmp, bytes.toByteArray());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
