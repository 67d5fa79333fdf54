package dev.berth.layers;

import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.internal.HashingOutputStream;
import dev.berth.layers.internal.NonClosingOutputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a reproducible tar layer from entries, in one pass: the tar stream is hashed (diff_id),
 * compressed, hashed again (digest) and written to the store, with no uncompressed copy and with memory
 * that does not grow with file or layer size.
 *
 * <p>Reproducibility rules (same inputs, same diff_id on any machine):
 * <ul>
 *   <li>entries sorted by name, so every parent directory comes before its children; parents that were not
 *       added are created with {@link #parentAttributes} (0755, 0:0 unless told otherwise);
 *   <li>uid/gid as given (default 0:0), empty uname/gname, mode as given or from disk (permission bits
 *       only);
 *   <li>every mtime is the layer's fixed time ({@code SOURCE_DATE_EPOCH}, else 1970-01-01T00:00:01Z: one
 *       second, because some tools read 0 as "no time"), whole seconds, no atime/ctime;
 *   <li>USTAR headers, PAX records only where USTAR cannot hold a value (long or non-ASCII names, big
 *       numbers, xattrs); names without {@code ./}, directories with a trailing {@code /};
 *   <li>no sockets, no duplicate paths (a later entry for a path replaces the earlier one); a file with
 *       several links in the layer is written once and linked, a link to a file outside it as content.
 * </ul>
 * Not thread-safe; one writer builds one layer.
 */
public final class LayerWriter {
    /** The default time of every entry when {@code SOURCE_DATE_EPOCH} is not set. */
    public static final Instant DEFAULT_TIME = Instant.ofEpochSecond(1);

    private final TreeMap<String, LayerEntry> entries = new TreeMap<>();
    private final Instant time;
    private Attributes parentAttributes = Attributes.of(0755, 0, 0);

    private LayerWriter(Instant time) {
        this.time = Instant.ofEpochSecond(time.getEpochSecond());
    }

    /** A writer whose entries get {@link #defaultTime()}. */
    public static LayerWriter create() {
        return new LayerWriter(defaultTime());
    }

    /** A writer whose entries get {@code time} (truncated to seconds) unless an entry says otherwise. */
    public static LayerWriter create(Instant time) {
        return new LayerWriter(time);
    }

    /** {@code SOURCE_DATE_EPOCH} when set (an error when it is not a number), else {@link #DEFAULT_TIME}. */
    public static Instant defaultTime() {
        return sourceDateEpoch().orElse(DEFAULT_TIME);
    }

    /** The {@code SOURCE_DATE_EPOCH} environment variable, parsed. */
    public static Optional<Instant> sourceDateEpoch() {
        String s = System.getenv("SOURCE_DATE_EPOCH");
        if (s == null || s.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(s.trim())));
        } catch (NumberFormatException e) {
            throw new LayersException("SOURCE_DATE_EPOCH=" + s + ": not a number of seconds");
        }
    }

    /** The attributes of parent directories the writer creates (for {@code COPY --chown}). */
    public LayerWriter parentAttributes(Attributes attributes) {
        this.parentAttributes = attributes;
        return this;
    }

    /** Adds an entry; an entry already added for the same path is replaced. */
    public LayerWriter add(LayerEntry entry) {
        String name = tarName(entry);
        if (!(entry instanceof LayerEntry.Whiteout) && !(entry instanceof LayerEntry.OpaqueWhiteout)
                && entry.path().name().startsWith(".wh.")) {
            throw new LayersException("cannot add \"" + entry.path() + "\": names starting with .wh. are "
                    + "reserved for whiteouts");
        }
        if (entry.path().isRoot() && !(entry instanceof LayerEntry.Directory)
                && !(entry instanceof LayerEntry.OpaqueWhiteout)) {
            throw new LayersException("the layer root can only be a directory");
        }
        entries.put(name, entry);
        return this;
    }

    /**
     * Adds a directory tree from disk under {@code destination}: directories, files, symlinks (as links,
     * never followed), FIFOs and devices; sockets are skipped. Modes come from disk, owners from
     * {@code attributes}. The source directory itself becomes {@code destination}, with its mode from disk
     * (unless {@code destination} is the layer root, which is never an entry).
     *
     * <p>One {@code lstat} per entry and one read per directory: the walk is the part of writing a layer
     * that no other core can share.
     */
    public LayerWriter addTree(Path source, LayerPath destination, Attributes attributes) throws IOException {
        if (((Integer) Files.getAttribute(source, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000) != 0040000) {
            throw new LayersException("cannot add the tree " + source + ": not a directory");
        }
        if (!destination.isRoot()) {
            addOne(source, destination, attributes);
        }
        walk(source, destination, attributes);
        return this;
    }

    private void walk(Path dir, LayerPath path, Attributes attributes) throws IOException {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path child : children) {
                LayerPath childPath = path.resolve(child.getFileName().toString());
                if ((addOne(child, childPath, attributes) & 0170000) == 0040000) {
                    walk(child, childPath, attributes);
                }
            }
        }
    }

    /**
     * Adds one file-system object as the entry {@code path}: a directory, a regular file, a symlink (its
     * target as it is), a FIFO or device; sockets are skipped. The mode comes from disk unless
     * {@code attributes} has one.
     */
    public LayerWriter addFromDisk(Path file, LayerPath path, Attributes attributes) throws IOException {
        addOne(file, path, attributes);
        return this;
    }

    /** {@link #addFromDisk}, returning the file's mode on disk (type bits included). */
    private int addOne(Path file, LayerPath path, Attributes attributes) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        Attributes withMode = attributes.mode().isPresent() ? attributes : attributes.withMode(mode & 07777);
        switch (mode & 0170000) {
            case 0040000 -> add(new LayerEntry.Directory(path, withMode));
            case 0100000 -> add(new LayerEntry.File(path, file, withMode));
            case 0120000 -> add(new LayerEntry.Symlink(path, Files.readSymbolicLink(file).toString(), withMode));
            case 0010000 -> add(new LayerEntry.Special(path, LayerEntry.Special.Kind.FIFO, 0, 0, withMode));
            case 0020000, 0060000 -> {
                long rdev = (Long) a.get("rdev");
                add(new LayerEntry.Special(path, (mode & 0170000) == 0020000 ? LayerEntry.Special.Kind.CHAR_DEVICE
                        : LayerEntry.Special.Kind.BLOCK_DEVICE, major(rdev), minor(rdev), withMode));
            }
            default -> { } // sockets (and anything unknown) have no place in an image
        }
        return mode;
    }

    private static int major(long rdev) {
        return (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL));
    }

    private static int minor(long rdev) {
        return (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL));
    }

    /** Whether nothing was added. */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The number of entries added (not counting created parents). */
    public int size() {
        return entries.size();
    }

    /** The result of writing a layer into a store. */
    public record Result(Descriptor blob, Digest diffId, long tarSize) {}

    /**
     * Writes the layer into the store as one blob, compressed, and returns its descriptor (in the OCI or
     * the Docker family of media types) and its diff_id.
     */
    public Result write(ImageStore store, Compression compression, boolean dockerMediaTypes) throws IOException {
        MediaType type = MediaType.layer(compression.kind(), dockerMediaTypes);
        try (ImageStore.BlobWriter blob = store.newBlob()) {
            long[] tarSize = new long[1];
            Digest diffId;
            try (OutputStream compressed = compression.compress(new NonClosingOutputStream(blob))) {
                HashingOutputStream tar = new HashingOutputStream(compressed);
                diffId = writeTar(tar);
                tarSize[0] = tar.count();
            }
            StoredBlob stored = blob.commit(Optional.empty(), java.util.OptionalLong.empty());
            return new Result(stored.as(type), diffId, tarSize[0]);
        }
    }

    /** Writes the uncompressed tar to {@code out} (not closed) and returns its diff_id. */
    public Digest writeTar(OutputStream out) throws IOException {
        HashingOutputStream hashing = out instanceof HashingOutputStream h ? h : new HashingOutputStream(out);
        BufferedOutputStream buffered = new BufferedOutputStream(new NonClosingOutputStream(hashing), 1 << 18);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(buffered, TarConstants.DEFAULT_RCDSIZE,
                StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        Map<Object, String> written = new HashMap<>();
        for (Map.Entry<String, LayerEntry> e : withParents().entrySet()) {
            writeEntry(tar, e.getKey(), e.getValue(), written);
        }
        tar.finish();
        tar.close();
        buffered.flush();
        return hashing.digest();
    }

    /** The entries plus every missing parent directory, sorted by tar name. */
    private TreeMap<String, LayerEntry> withParents() {
        TreeMap<String, LayerEntry> all = new TreeMap<>(entries);
        List<LayerPath> missing = new ArrayList<>();
        for (LayerEntry e : entries.values()) {
            Optional<LayerPath> parent = entryParent(e);
            while (parent.isPresent() && !parent.get().isRoot()) {
                String name = parent.get().value() + "/";
                if (all.containsKey(name)) {
                    LayerEntry existing = all.get(name);
                    if (!(existing instanceof LayerEntry.Directory)) {
                        throw new LayersException("\"" + existing.path() + "\" is not a directory, but \""
                                + e.path() + "\" is added below it");
                    }
                    break;
                }
                LayerEntry.Directory dir = new LayerEntry.Directory(parent.get(), parentAttributes);
                all.put(name, dir);
                missing.add(parent.get());
                parent = parent.get().parent();
            }
        }
        // A non-directory entry also named as a directory ("a" and "a/") is a conflict.
        for (String name : all.keySet()) {
            if (name.endsWith("/") && all.containsKey(name.substring(0, name.length() - 1))) {
                throw new LayersException("\"" + name.substring(0, name.length() - 1)
                        + "\" is added both as a directory and as a non-directory");
            }
        }
        return all;
    }

    private static Optional<LayerPath> entryParent(LayerEntry e) {
        return e instanceof LayerEntry.OpaqueWhiteout o ? Optional.of(o.path()) : e.path().parent();
    }

    private static String tarName(LayerEntry e) {
        return switch (e) {
            case LayerEntry.Directory d -> d.path().isRoot() ? "./" : d.path().value() + "/";
            case LayerEntry.Whiteout w -> w.path().parent()
                    .orElseThrow(() -> new LayersException("cannot white out the layer root"))
                    .resolve(".wh." + w.path().name()).value();
            case LayerEntry.OpaqueWhiteout o -> o.path().resolve(".wh..wh..opq").value();
            default -> e.path().value();
        };
    }

    private void writeEntry(TarArchiveOutputStream tar, String name, LayerEntry entry, Map<Object, String> written)
            throws IOException {
        Attributes a = entry.attributes();
        switch (entry) {
            case LayerEntry.Directory d -> {
                if (d.path().isRoot()) {
                    return; // the root is never an entry: extractors own their target directory
                }
                TarArchiveEntry t = header(name, TarConstants.LF_DIR, a, 0755);
                tar.putArchiveEntry(t);
                tar.closeArchiveEntry();
            }
            case LayerEntry.Content c -> {
                TarArchiveEntry t = header(name, TarConstants.LF_NORMAL, a, 0644);
                t.setSize(c.bytes().length);
                tar.putArchiveEntry(t);
                tar.write(c.bytes());
                tar.closeArchiveEntry();
            }
            case LayerEntry.File f -> writeFile(tar, name, f, written);
            case LayerEntry.Symlink s -> {
                TarArchiveEntry t = header(name, TarConstants.LF_SYMLINK, a, 0777);
                t.setLinkName(s.target());
                tar.putArchiveEntry(t);
                tar.closeArchiveEntry();
            }
            case LayerEntry.Hardlink h -> {
                TarArchiveEntry t = header(name, TarConstants.LF_LINK, a, 0644);
                t.setLinkName(h.target().value());
                tar.putArchiveEntry(t);
                tar.closeArchiveEntry();
            }
            case LayerEntry.Special s -> {
                byte type = switch (s.kind()) {
                    case FIFO -> TarConstants.LF_FIFO;
                    case CHAR_DEVICE -> TarConstants.LF_CHR;
                    case BLOCK_DEVICE -> TarConstants.LF_BLK;
                };
                TarArchiveEntry t = header(name, type, a, 0644);
                t.setDevMajor(s.major());
                t.setDevMinor(s.minor());
                tar.putArchiveEntry(t);
                tar.closeArchiveEntry();
            }
            case LayerEntry.Whiteout w -> {
                tar.putArchiveEntry(header(name, TarConstants.LF_NORMAL, a, 0));
                tar.closeArchiveEntry();
            }
            case LayerEntry.OpaqueWhiteout o -> {
                tar.putArchiveEntry(header(name, TarConstants.LF_NORMAL, a, 0));
                tar.closeArchiveEntry();
            }
        }
    }

    private void writeFile(TarArchiveOutputStream tar, String name, LayerEntry.File f, Map<Object, String> written)
            throws IOException {
        // The typed stat: the "unix:" view would parse its attribute list and fill a map for every file.
        BasicFileAttributes st;
        try {
            st = Files.readAttributes(f.source(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw gone(f);
        }
        if (!st.isRegularFile()) {
            throw new LayersException("\"" + f.path() + "\": source " + f.source() + " is not a regular file");
        }
        // Every file's identity (device and inode) is kept; a second entry with the same identity becomes
        // a hardlink to the first when the file has several links, and is written again otherwise (the
        // same file added under two names).
        Object key = st.fileKey();
        if (key != null) {
            String first = written.putIfAbsent(key, name);
            if (first != null && (Integer) Files.getAttribute(f.source(), "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) {
                TarArchiveEntry t = header(name, TarConstants.LF_LINK, f.attributes(), 0644);
                t.setLinkName(first);
                tar.putArchiveEntry(t);
                tar.closeArchiveEntry();
                return;
            }
        }
        long size = st.size();
        try (FileChannel ch = open(f); InputStream in = Channels.newInputStream(ch)) {
            TarArchiveEntry t = header(name, TarConstants.LF_NORMAL, f.attributes(), 0644);
            t.setSize(size);
            tar.putArchiveEntry(t);
            long copied = copy(in, tar, size);
            if (copied != size || in.read() >= 0) {
                throw new LayersException("\"" + f.path() + "\": source file " + f.source()
                        + " changed while it was being read");
            }
        }
        tar.closeArchiveEntry();
    }

    /** The buffer file contents are copied through: one per writer, not one per file (a tree has thousands). */
    private byte[] copyBuffer;

    private long copy(InputStream in, OutputStream out, long limit) throws IOException {
        if (copyBuffer == null) {
            copyBuffer = new byte[1 << 16];
        }
        byte[] buf = copyBuffer;
        long total = 0;
        while (total < limit) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limit - total));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            total += n;
        }
        return total;
    }

    private TarArchiveEntry header(String name, byte type, Attributes a, int defaultMode) {
        TarArchiveEntry t = new TarArchiveEntry(name, type, false);
        t.setMode(a.mode().orElse(defaultMode) & 07777);
        t.setUserId(a.uid());
        t.setGroupId(a.gid());
        t.setUserName("");
        t.setGroupName("");
        t.setModTime(FileTime.from(Instant.ofEpochSecond(a.mtime().orElse(time).getEpochSecond())));
        a.xattrs().forEach((k, v) -> t.addPaxHeader("SCHILY.xattr." + k, v));
        return t;
    }

    private static FileChannel open(LayerEntry.File f) throws IOException {
        try {
            return FileChannel.open(f.source(), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw gone(f);
        }
    }

    private static LayersException gone(LayerEntry.File f) {
        return new LayersException("\"" + f.path() + "\": source file " + f.source() + " no longer exists");
    }
}
