package dev.berth.builder;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * ADD's local archives: a tar, plain or compressed with gzip, bzip2, xz or zstd, recognised by its content
 * (never by its name), as docker's {@code DecompressStream} and buildkit's {@code isArchivePath} do: the
 * file is an archive when, decompressed, it starts with a valid tar header. Anything else is copied as a
 * file.
 */
final class Archives {
    private Archives() {}

    /** Opens {@code file} decompressed by its magic bytes (no decompression when it has none). */
    static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            in.mark(6);
            byte[] m = in.readNBytes(6);
            in.reset();
            if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
                return new GZIPInputStream(in, 1 << 16);
            }
            if (m.length >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') {
                return new BZip2CompressorInputStream(in, true);
            }
            if (m.length == 6 && (m[0] & 0xff) == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) {
                return XZCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
            }
            if (m.length >= 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f
                    && (m[3] & 0xff) == 0xfd) {
                return new ZstdInputStreamNoFinalizer(in).setContinuous(false);
            }
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Whether a regular file is a (possibly compressed) tar archive. */
    static boolean isArchive(Path file) {
        try (InputStream in = open(file); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            return tar.getNextEntry() != null;
        } catch (IOException | RuntimeException notATar) {
            return false;
        }
    }

    /**
     * Extracts an archive as layer entries below {@code dest}: modes, owners and times from the archive
     * (owners replaced by {@code chown} when given), file contents into fresh files in {@code scratch}. An
     * entry whose path leaves {@code dest} is an error, as in docker.
     */
    static void extract(Path archive, String name, LayerPath dest, Optional<Users.Ids> chown, Path scratch,
                        Map<LayerPath, LayerEntry> out) throws IOException {
        try (InputStream in = open(archive); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            int n = 0;
            for (TarArchiveEntry t; (t = tar.getNextEntry()) != null; ) {
                LayerPath rel = inside(t.getName(), name);
                if (rel.isRoot()) {
                    continue;
                }
                LayerPath path = dest.resolve(rel.value());
                int uid = chown.map(Users.Ids::uid).orElse((int) t.getLongUserId());
                int gid = chown.map(Users.Ids::gid).orElse((int) t.getLongGroupId());
                LayerEntry.Attributes a = new LayerEntry.Attributes(OptionalInt.of(t.getMode() & 07777), uid, gid,
                        Optional.of(Instant.ofEpochSecond(t.getModTime().toInstant().getEpochSecond())), Map.of());
                LayerEntry e;
                if (t.isDirectory()) {
                    e = new LayerEntry.Directory(path, a);
                } else if (t.isSymbolicLink()) {
                    e = new LayerEntry.Symlink(path, t.getLinkName(), a);
                } else if (t.isLink()) {
                    // A hard link becomes a file linked to the same scratch file: the layer writer then
                    // writes the content once, at whichever name sorts first, and links the other to it
                    // (a tar link must follow its target, and layers are sorted by name).
                    LayerPath target = dest.resolve(inside(t.getLinkName(), name).value());
                    if (!(out.get(target) instanceof LayerEntry.File f)) {
                        throw new BuildException("archive " + name + ": hard link \"" + t.getName()
                                + "\" to \"" + t.getLinkName() + "\", which is not a file before it");
                    }
                    Path linked = scratch.resolve("add-" + System.nanoTime() + "-" + n++);
                    Files.createLink(linked, f.source());
                    e = new LayerEntry.File(path, linked, a);
                } else if (t.isCharacterDevice() || t.isBlockDevice() || t.isFIFO()) {
                    e = new LayerEntry.Special(path, t.isFIFO() ? LayerEntry.Special.Kind.FIFO
                            : t.isCharacterDevice() ? LayerEntry.Special.Kind.CHAR_DEVICE : LayerEntry.Special.Kind.BLOCK_DEVICE,
                            t.getDevMajor(), t.getDevMinor(), a);
                } else if (t.isFile()) {
                    Path f = scratch.resolve("add-" + System.nanoTime() + "-" + n++);
                    try (OutputStream o = Files.newOutputStream(f)) {
                        tar.transferTo(o);
                    }
                    e = new LayerEntry.File(path, f, a);
                } else {
                    continue; // global PAX headers and the like carry no file
                }
                out.put(path, e);
            }
        }
    }

    private static LayerPath inside(String entryName, String archive) {
        return LayerPath.within(entryName).orElseThrow(() -> new BuildException("archive " + archive + ": entry \""
                + entryName + "\" leaves the destination directory"));
    }
}
