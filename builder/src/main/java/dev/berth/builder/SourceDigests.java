package dev.berth.builder;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The content digest of a step's context sources ({@link ContextDir#contentDigest}'s: of each file's
 * digest, in order), kept per file under {@code cache/build/files/KEY} with the stat each digest was made
 * from. A file whose stat is unchanged keeps its digest; only files whose stats changed are read again. So
 * after a {@code touch} or a fresh checkout of 100,000 files, a build reads the few files that changed, and
 * when their bytes are the same the step is known to give the same layer without a byte of tar being made.
 * An entry that cannot be read only costs reading the files; entries are written atomically.
 */
final class SourceDigests {
    private static final int MAGIC = 0x42434632; // "BCF2"
    private static final int DIGEST = 32;

    private record Known(int mode, long size, long mtime, long inode, byte[] digest) {}

    private SourceDigests() {}

    /** The sources' content digest (hex): from recorded digests where stats match, the rest read (and recorded). */
    static String digest(BuildCache cache, String key, List<ContextDir.Item> items, ContextDir context) throws IOException {
        Path f = cache.directory().resolve("files").resolve(key);
        Map<String, Known> known = read(f, items);
        byte[][] digests = new byte[items.size()][];
        List<Integer> changed = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            ContextDir.Item item = items.get(i);
            Known k = known.get(item.rel());
            ContextDir.Stat s = item.stat();
            if (k != null && k.mode() == s.mode() && k.size() == s.size() && k.mtime() == s.mtimeNanos()
                    && k.inode() == s.inode()) {
                digests[i] = k.digest();
            } else {
                changed.add(i);
            }
        }
        if (!changed.isEmpty()) {
            try {
                (changed.size() > 64 ? changed.parallelStream() : changed.stream()).forEach(i -> {
                    try {
                        digests[i] = context.itemDigest(items.get(i));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            cache.writeEntry(f, MAGIC, out -> {
                out.writeInt(items.size());
                for (int i = 0; i < items.size(); i++) {
                    BuildCache.writeStat(out, items.get(i));
                    out.write(digests[i]);
                }
            });
        }
        MessageDigest d = dev.berth.layers.Digest.sha256Hasher();
        for (byte[] b : digests) {
            d.update(b);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** The recorded digests by path; none when there is no entry or it is damaged. */
    private static Map<String, Known> read(Path f, List<ContextDir.Item> items) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
            if (in.readInt() != MAGIC) {
                return Map.of();
            }
            int n = in.readInt();
            Map<String, Known> out = new HashMap<>(Math.max(16, n * 4 / 3 + 1));
            for (int i = 0; i < n; i++) {
                String rel = in.readUTF();
                int mode = in.readInt();
                long size = in.readLong();
                long mtime = in.readLong();
                long inode = in.readLong();
                byte[] digest = new byte[DIGEST];
                in.readFully(digest);
                out.put(rel, new Known(mode, size, mtime, inode, digest));
            }
            return out;
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException | RuntimeException damaged) {
            return Map.of();
        }
    }
}
