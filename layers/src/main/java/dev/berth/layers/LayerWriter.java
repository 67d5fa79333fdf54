package dev.berth.layers;

import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.internal.HashingOutputStream;
import dev.berth.layers.internal.NonClosingOutputStream;
import dev.berth.layers.internal.ParallelGzipOutputStream;
import dev.berth.layers.internal.TarWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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

    private static final byte TYPE_FILE = '0';
    private static final byte TYPE_HARDLINK = '1';
    private static final byte TYPE_SYMLINK = '2';
    private static final byte TYPE_CHAR_DEVICE = '3';
    private static final byte TYPE_BLOCK_DEVICE = '4';
    private static final byte TYPE_DIRECTORY = '5';
    private static final byte TYPE_FIFO = '6';

    private final TreeMap<String, LayerEntry> entries = new TreeMap<>();
    /** A tree added to an otherwise empty writer, not walked yet: {@link #writeTar} walks it as it writes. */
    private TreeWalk pending;
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
        walkPending();
        entries.put(checkedName(entry), entry);
        return this;
    }

    /** The entry's tar name, once it is known to be an entry a layer can have. */
    static String checkedName(LayerEntry entry) {
        if (!(entry instanceof LayerEntry.Whiteout) && !(entry instanceof LayerEntry.OpaqueWhiteout)
                && entry.path().name().startsWith(".wh.")) {
            throw new LayersException("cannot add \"" + entry.path() + "\": names starting with .wh. are "
                    + "reserved for whiteouts");
        }
        if (entry.path().isRoot() && !(entry instanceof LayerEntry.Directory)
                && !(entry instanceof LayerEntry.OpaqueWhiteout)) {
            throw new LayersException("the layer root can only be a directory");
        }
        return tarName(entry);
    }

    /**
     * Adds a directory tree from disk under {@code destination}: directories, files, symlinks (as links,
     * never followed), FIFOs and devices; sockets are skipped. Modes come from disk, owners from
     * {@code attributes}. The source directory itself becomes {@code destination}, with its mode from disk
     * (unless {@code destination} is the layer root, which is never an entry).
     *
     * <p>A tree added to an empty writer is walked when the layer is written, as it is written: its entries
     * come in tar order when each directory's entries are sorted (a directory by its name and a slash), so
     * compression starts with the first files instead of after the last one is listed. Errors reading the
     * tree then come from {@link #write}; adding anything else walks it at once.
     */
    public LayerWriter addTree(Path source, LayerPath destination, Attributes attributes) throws IOException {
        if (((Integer) Files.getAttribute(source, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000) != 0040000) {
            throw new LayersException("cannot add the tree " + source + ": not a directory");
        }
        walkPending();
        TreeWalk tree = new TreeWalk(source, destination, attributes);
        if (entries.isEmpty()) {
            pending = tree;
        } else {
            walk(tree);
        }
        return this;
    }

    /** Walks the tree whose walk was put off, adding its entries. */
    private void walkPending() {
        if (pending != null) {
            TreeWalk tree = pending;
            pending = null;
            try {
                walk(tree);
            } catch (IOException e) {
                throw new UncheckedIOException("reading the tree " + tree.source() + ": " + e, e);
            }
        }
    }

    private void walk(TreeWalk tree) throws IOException {
        tree.walk(entries::put);
    }

    /**
     * Adds one file-system object as the entry {@code path}: a directory, a regular file, a symlink (its
     * target as it is), a FIFO or device; sockets are skipped. The mode comes from disk unless
     * {@code attributes} has one.
     */
    public LayerWriter addFromDisk(Path file, LayerPath path, Attributes attributes) throws IOException {
        LayerEntry e = TreeWalk.fromDisk(file, path, attributes);
        if (e != null) {
            add(e);
        }
        return this;
    }

    /** Whether nothing was added. */
    public boolean isEmpty() {
        walkPending();
        return entries.isEmpty();
    }

    /** The number of entries added (not counting created parents). */
    public int size() {
        walkPending();
        return entries.size();
    }

    /** The result of writing a layer into a store. */
    public record Result(Descriptor blob, Digest diffId, long tarSize) {}

    /**
     * Writes the layer into the store as one blob, compressed, and returns its descriptor (in the OCI or
     * the Docker family of media types) and its diff_id.
     */
    public Result write(ImageStore store, Compression compression, boolean dockerMediaTypes) throws IOException {
        return write(store, compression, dockerMediaTypes, Optional.empty());
    }

    /**
     * As {@link #write(ImageStore, Compression, boolean)}; a gzip layer also records its block index in
     * {@code blocks} and copies unchanged blocks from its previous blob ({@link GzipBlocks}). The blob is
     * the same with or without them.
     */
    public Result write(ImageStore store, Compression compression, boolean dockerMediaTypes,
                        Optional<GzipBlocks> blocks) throws IOException {
        MediaType type = MediaType.layer(compression.kind(), dockerMediaTypes);
        try (ImageStore.BlobWriter blob = store.newBlob()) {
            OutputStream sink = new NonClosingOutputStream(blob);
            OutputStream compressed = compression instanceof Compression.Gzip g && blocks.isPresent()
                    ? blocks.get().compress(store, g, sink) : compression.compress(sink);
            // gzip hashes the tar itself, off this thread; other compressions are given a hashed stream
            ParallelGzipOutputStream gzip = compressed instanceof ParallelGzipOutputStream p ? p : null;
            HashingOutputStream hashing = gzip == null ? new HashingOutputStream(compressed) : null;
            try (compressed) {
                writeTar(gzip == null ? hashing : gzip, gzip == null ? TarWriter.Boundaries.NONE : gzip);
            }
            Digest diffId = gzip == null ? hashing.digest() : gzip.inputDigest();
            long tarSize = gzip == null ? hashing.count() : gzip.inputSize();
            StoredBlob stored = blob.commit(Optional.empty(), java.util.OptionalLong.empty());
            if (compression instanceof Compression.Gzip g && gzip != null) {
                blocks.ifPresent(b -> b.record(stored.digest(), gzip, g.level()));
            }
            return new Result(stored.as(type), diffId, tarSize);
        }
    }

    /** Writes the uncompressed tar to {@code out} (not closed) and returns its diff_id. */
    public Digest writeTar(OutputStream out) throws IOException {
        HashingOutputStream hashing = out instanceof HashingOutputStream h ? h : new HashingOutputStream(out);
        writeTar(hashing, TarWriter.Boundaries.NONE);
        return hashing.digest();
    }

    /** Writes the uncompressed tar to {@code out} (not closed), telling {@code boundaries} where entries start. */
    private void writeTar(OutputStream out, TarWriter.Boundaries boundaries) throws IOException {
        TarWriter tar = new TarWriter(out, boundaries);
        Map<Object, String> written = new HashMap<>();
        if (pending != null) {
            writeTree(tar, pending, written);
        } else {
            for (Map.Entry<String, LayerEntry> e : withParents().entrySet()) {
                writeEntry(tar, e.getKey(), e.getValue(), written);
            }
        }
        tar.finish();
    }

    /** Writes a tree as it walks it: the created parents of its destination first, then the walk. */
    private void writeTree(TarWriter tar, TreeWalk tree, Map<Object, String> written) throws IOException {
        List<LayerPath> parents = new ArrayList<>();
        for (Optional<LayerPath> p = tree.destination().parent(); p.isPresent() && !p.get().isRoot();
                p = p.get().parent()) {
            parents.addFirst(p.get());
        }
        for (LayerPath p : parents) {
            writeEntry(tar, p.value() + "/", new LayerEntry.Directory(p, parentAttributes), written);
        }
        tree.walk((name, entry) -> writeEntry(tar, name, entry, written));
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

    private void writeEntry(TarWriter tar, String name, LayerEntry entry, Map<Object, String> written)
            throws IOException {
        Attributes a = entry.attributes();
        switch (entry) {
            case LayerEntry.Directory d -> {
                if (!d.path().isRoot()) { // the root is never an entry: extractors own their target directory
                    empty(tar, header(name, TYPE_DIRECTORY, a, 0755, 0, ""));
                }
            }
            case LayerEntry.Content c -> {
                tar.entry(header(name, TYPE_FILE, a, 0644, c.bytes().length, ""));
                tar.write(c.bytes(), 0, c.bytes().length);
                tar.endEntry();
            }
            case LayerEntry.File f -> writeFile(tar, name, f, written);
            case LayerEntry.Symlink s -> empty(tar, header(name, TYPE_SYMLINK, a, 0777, 0, s.target()));
            case LayerEntry.Hardlink h -> empty(tar, header(name, TYPE_HARDLINK, a, 0644, 0, h.target().value()));
            case LayerEntry.Special s -> {
                byte type = switch (s.kind()) {
                    case FIFO -> TYPE_FIFO;
                    case CHAR_DEVICE -> TYPE_CHAR_DEVICE;
                    case BLOCK_DEVICE -> TYPE_BLOCK_DEVICE;
                };
                empty(tar, new TarWriter.Header(name, type, a.mode().orElse(0644) & 07777, a.uid(), a.gid(), 0,
                        seconds(a), "", s.major(), s.minor(), a.xattrs()));
            }
            case LayerEntry.Whiteout w -> empty(tar, header(name, TYPE_FILE, a, 0, 0, ""));
            case LayerEntry.OpaqueWhiteout o -> empty(tar, header(name, TYPE_FILE, a, 0, 0, ""));
        }
    }

    private static void empty(TarWriter tar, TarWriter.Header header) throws IOException {
        tar.entry(header);
        tar.endEntry();
    }

    private void writeFile(TarWriter tar, String name, LayerEntry.File f, Map<Object, String> written)
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
                empty(tar, header(name, TYPE_HARDLINK, f.attributes(), 0644, 0, first));
                return;
            }
        }
        try (FileChannel ch = open(f)) {
            tar.entry(header(name, TYPE_FILE, f.attributes(), 0644, st.size(), ""));
            if (!tar.copy(ch)) {
                throw new LayersException("\"" + f.path() + "\": source file " + f.source()
                        + " changed while it was being read");
            }
        }
        tar.endEntry();
    }

    private TarWriter.Header header(String name, byte type, Attributes a, int defaultMode, long size, String link) {
        return new TarWriter.Header(name, type, a.mode().orElse(defaultMode) & 07777, a.uid(), a.gid(), size,
                seconds(a), link, 0, 0, a.xattrs());
    }

    private long seconds(Attributes a) {
        return a.mtime().orElse(time).getEpochSecond();
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
