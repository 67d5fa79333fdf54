package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.MediaType;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The build cache: which layer a step made, under {@code BERTH_HOME/cache/build/}. Entries point at blobs
 * in the store; a blob that is gone (pruned) makes the entry a miss, never an error. Entries are written
 * atomically (temp file, rename), so concurrent builds and crashes leave whole entries or none.
 *
 * <p>Two kinds of entry, both keyed by the step key (parent layers + expanded instruction + flags; see
 * {@code BuildRun}):
 * <ul>
 *   <li>{@code steps/KEY}: the latest result of the step, with the stat of every source file it read
 *       (path, mode, size, mtime, inode). When every stat matches, the sources are unchanged and the
 *       layer is reused without reading a byte of them: the no-change rebuild.
 *   <li>{@code layers/H(KEY, SOURCES)}: a layer the step made for sources of a given content (the digest
 *       {@link SourceDigests} keeps per file under {@code files/KEY}). When stats differ (a touch, a fresh
 *       clone), only the files whose stats changed are read, and the same content finds the same layer
 *       without a tar being made. mtimes are never part of the content: entries get the build's fixed time.
 * </ul>
 * The format is a small binary record read with one sequential pass: no JSON per file, so checking 7,000
 * files costs milliseconds.
 */
final class BuildCache {
    private static final int MAGIC = 0x42434831; // "BCH1"

    /** A cached step result: its layer (none for a step that made no layer) and the warnings it gave. */
    record Result(Optional<Digest> diffId, Optional<Descriptor> blob, List<String> warnings) {
        Result {
            warnings = List.copyOf(warnings);
        }

        static Result noLayer(List<String> warnings) {
            return new Result(Optional.empty(), Optional.empty(), warnings);
        }
    }

    private final Path dir;

    BuildCache(Path dir) {
        this.dir = dir;
    }

    Path directory() {
        return dir;
    }

    /**
     * The step's latest result, when every recorded source stat equals {@code sources}. The record is read
     * whole and compared in place, names as bytes: a no-change rebuild of a large context makes no object
     * per source here.
     */
    Optional<Result> lookup(String key, List<ContextDir.Item> sources) {
        Path f = dir.resolve("steps").resolve(key);
        try {
            byte[] bytes = Files.readAllBytes(f);
            java.io.ByteArrayInputStream head = new java.io.ByteArrayInputStream(bytes);
            DataInputStream in = new DataInputStream(head);
            if (in.readInt() != MAGIC) {
                return Optional.empty();
            }
            Result r = readResult(in);
            if (in.readInt() != sources.size()) {
                return Optional.empty();
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes); // big-endian, as DataOutputStream writes
            b.position(bytes.length - head.available());
            for (ContextDir.Item item : sources) {
                int len = Short.toUnsignedInt(b.getShort());
                if (!sameName(bytes, b.position(), len, item.rel())) {
                    return Optional.empty();
                }
                b.position(b.position() + len);
                ContextDir.Stat s = item.stat();
                if (b.getInt() != s.mode() || b.getLong() != s.size() || b.getLong() != s.mtimeNanos()
                        || b.getLong() != s.inode()) {
                    return Optional.empty();
                }
            }
            return Optional.of(r);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException corrupt) {
            return Optional.empty(); // a damaged entry is a miss; the next store replaces it
        }
    }

    /**
     * Whether the {@code len} bytes at {@code at}, a name as {@link DataOutputStream#writeUTF} wrote it, are
     * {@code rel}: compared byte for char while both are ASCII (as almost every name is), else decoded.
     */
    private static boolean sameName(byte[] bytes, int at, int len, String rel) throws IOException {
        if (len == rel.length()) {
            int i = 0;
            while (i < len) {
                char c = rel.charAt(i);
                if (c == 0 || c >= 0x80 || bytes[at + i] < 0) {
                    break; // not ASCII (writeUTF writes NUL in two bytes): decode
                }
                if (bytes[at + i] != c) {
                    return false;
                }
                i++;
            }
            if (i == len) {
                return true;
            }
        }
        java.io.ByteArrayInputStream one = new java.io.ByteArrayInputStream(bytes, at - 2, len + 2);
        return new DataInputStream(one).readUTF().equals(rel);
    }

    /**
     * The layer the step made last time, whatever its sources were then: the blob a new layer of the step
     * can copy unchanged gzip blocks from ({@link dev.berth.layers.GzipBlocks}).
     */
    Optional<Digest> previousBlob(String key) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                Files.newInputStream(dir.resolve("steps").resolve(key)), 4096))) {
            return in.readInt() == MAGIC ? readResult(in).blob().map(Descriptor::digest) : Optional.empty();
        } catch (IOException | RuntimeException missing) {
            return Optional.empty();
        }
    }

    /** Where gzip layers' block indexes are kept, one file per blob. */
    Path blockIndexes() {
        return dir.resolve("blocks");
    }

    /** Whether the step ran before (with sources whose stats may differ now). */
    boolean hasStep(String key) {
        return Files.isRegularFile(dir.resolve("steps").resolve(key));
    }

    /** The layer the step made for sources of content {@code sourcesDigest} ({@link SourceDigests}), if it made one. */
    Optional<Result> lookupContent(String key, String sourcesDigest) {
        Path f = dir.resolve("layers").resolve(portableKey(key, sourcesDigest));
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f)))) {
            return in.readInt() == MAGIC ? Optional.of(readResult(in)) : Optional.empty();
        } catch (IOException | RuntimeException missing) {
            return Optional.empty();
        }
    }

    /** Records a step's result with the stats of its sources (and under its content, when it has a layer). */
    void store(String key, Result result, List<ContextDir.Item> sources) {
        write(dir.resolve("steps").resolve(key), out -> {
            writeResult(out, result);
            out.writeInt(sources.size());
            for (ContextDir.Item item : sources) {
                writeStat(out, item);
            }
        });
    }

    /** An item as entries record it: its path, then mode, size, mtime and inode. */
    static void writeStat(DataOutputStream out, ContextDir.Item item) throws IOException {
        ContextDir.Stat s = item.stat();
        out.writeUTF(item.rel());
        out.writeInt(s.mode());
        out.writeLong(s.size());
        out.writeLong(s.mtimeNanos());
        out.writeLong(s.inode());
    }

    /** An image the build wrote: its manifest in the store and its config digest. */
    record ImageRecord(Descriptor manifest, Digest imageId) {}

    /** The image an earlier build made from the same recipe ({@code BuildRun}'s). */
    Optional<ImageRecord> image(String recipeKey) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                Files.newInputStream(dir.resolve("images").resolve(recipeKey))))) {
            if (in.readInt() != MAGIC) {
                return Optional.empty();
            }
            MediaType type = MediaType.of(in.readUTF());
            Digest digest = Digest.parse(in.readUTF());
            long size = in.readLong();
            Digest id = Digest.parse(in.readUTF());
            return Optional.of(new ImageRecord(Descriptor.of(type, digest, size), id));
        } catch (IOException | RuntimeException missing) {
            return Optional.empty();
        }
    }

    void recordImage(String recipeKey, ImageRecord r) {
        write(dir.resolve("images").resolve(recipeKey), out -> {
            out.writeUTF(r.manifest().mediaType().value());
            out.writeUTF(r.manifest().digest().toString());
            out.writeLong(r.manifest().size());
            out.writeUTF(r.imageId().toString());
        });
    }

    /** Whether the store's index.json is exactly as it was when these names were last written. */
    boolean namesInPlace(String key, ContextDir.Stat index) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                Files.newInputStream(dir.resolve("names").resolve(key))))) {
            return in.readInt() == MAGIC && in.readLong() == index.inode() && in.readLong() == index.size()
                    && in.readLong() == index.mtimeNanos();
        } catch (IOException | RuntimeException missing) {
            return false;
        }
    }

    void recordNames(String key, ContextDir.Stat index) {
        write(dir.resolve("names").resolve(key), out -> {
            out.writeLong(index.inode());
            out.writeLong(index.size());
            out.writeLong(index.mtimeNanos());
        });
    }

    /** Records the layer a step made for sources of content {@code sourcesDigest}. */
    void storeContent(String key, String sourcesDigest, Result result) {
        write(dir.resolve("layers").resolve(portableKey(key, sourcesDigest)), out -> writeResult(out, result));
    }

    /** A key for the file tree below a step: its diff_ids, in order. */
    static String chainKey(List<Digest> diffIds) {
        StringBuilder b = new StringBuilder("layers");
        diffIds.forEach(d -> b.append(' ').append(d));
        return sha256(b.toString());
    }

    /**
     * A step's key as caches of other machines know it ({@code --cache-to/--cache-from}) when it reads
     * context files: the step key and the digest of their content, so that neither stats nor the layers
     * below have to be read to look it up.
     */
    static String portableKey(String key, String sourcesDigest) {
        return sha256(key + "\nsources " + sourcesDigest);
    }

    static String sha256(String text) {
        return HexFormat.of().formatHex(Digest.sha256Hasher().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static Result readResult(DataInputStream in) throws IOException {
        boolean layer = in.readBoolean();
        Optional<Digest> diffId = Optional.empty();
        Optional<Descriptor> blob = Optional.empty();
        if (layer) {
            diffId = Optional.of(Digest.parse(in.readUTF()));
            MediaType type = MediaType.of(in.readUTF());
            Digest digest = Digest.parse(in.readUTF());
            long size = in.readLong();
            blob = Optional.of(Descriptor.of(type, digest, size));
        }
        int w = in.readInt();
        List<String> warnings = new ArrayList<>(w);
        for (int i = 0; i < w; i++) {
            warnings.add(in.readUTF());
        }
        return new Result(diffId, blob, warnings);
    }

    private static void writeResult(DataOutputStream out, Result r) throws IOException {
        out.writeBoolean(r.blob().isPresent());
        if (r.blob().isPresent()) {
            out.writeUTF(r.diffId().orElseThrow().toString());
            out.writeUTF(r.blob().get().mediaType().value());
            out.writeUTF(r.blob().get().digest().toString());
            out.writeLong(r.blob().get().size());
        }
        out.writeInt(r.warnings().size());
        for (String w : r.warnings()) {
            out.writeUTF(w.length() > 20000 ? w.substring(0, 20000) : w);
        }
    }

    interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private void write(Path target, Writer writer) {
        writeEntry(target, MAGIC, writer);
    }

    /** Writes a file atomically; a cache that cannot be written only costs speed, so failures are ignored. */
    void writeEntry(Path target, int magic, Writer writer) {
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempFile(target.getParent(), ".entry-", ".tmp");
            try (OutputStream o = Files.newOutputStream(tmp);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(o, 1 << 16))) {
                out.writeInt(magic);
                writer.write(out);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more to do
                }
            }
        }
    }

}
