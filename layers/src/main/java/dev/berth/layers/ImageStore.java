package dev.berth.layers;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.berth.layers.internal.AtomicFiles;
import dev.berth.layers.internal.HashingOutputStream;
import dev.berth.layers.internal.StoreLocks;
import dev.berth.layers.internal.VerifyingInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The local image store: an OCI image layout ({@code oci-layout}, {@code index.json}, {@code blobs/}) that
 * any OCI tool can read. Images are named by {@code index.json} entries whose
 * {@code org.opencontainers.image.ref.name} and {@code io.containerd.image.name} annotations hold the full
 * reference ({@code docker.io/library/alpine:3.20}).
 *
 * <p>Contract, so that a crash or a kill at any moment leaves a readable store:
 * <ul>
 *   <li>a blob is written to a temp file on the same filesystem, fsynced, checked against its expected
 *       digest and size, and renamed into {@code blobs/}; a blob that exists is complete;
 *   <li>{@code index.json} is replaced atomically, after every blob it references exists; updates from
 *       several processes are serialised by a file lock, so each one's change survives;
 *   <li>every read checks size and digest and names the image and the digest when they do not match;
 *   <li>{@link #prune()} runs only while no other process holds the store open for writing (writers hold
 *       a shared lock from their first write until {@link #close()}).
 * </ul>
 */
public final class ImageStore implements AutoCloseable {
    private static final String LAYOUT_FILE = "oci-layout";
    private static final String INDEX_FILE = "index.json";
    private static final byte[] LAYOUT_BYTES = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(UTF_8);
    private static final String INDEX_LOCK = ".berth-index.lock";
    private static final String GC_LOCK = ".berth-gc.lock";

    private final Path root;
    private final Path tmp;
    private boolean writing;
    private boolean closed;

    private ImageStore(Path root, Path tmp) {
        this.root = root;
        this.tmp = tmp;
    }

    /**
     * Opens the layout at {@code root}, creating it when missing; temporary files go to {@code tmp}, which
     * must be on the same filesystem.
     */
    public static ImageStore open(Path root, Path tmp) {
        Path abs = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(abs.resolve("blobs").resolve("sha256"));
            Path layout = abs.resolve(LAYOUT_FILE);
            if (!Files.exists(layout)) {
                AtomicFiles.write(layout, LAYOUT_BYTES);
            }
            if (!Files.exists(abs.resolve(INDEX_FILE))) {
                StoreLocks.withIndexLock(abs.resolve(INDEX_LOCK), () -> {
                    if (!Files.exists(abs.resolve(INDEX_FILE))) {
                        AtomicFiles.write(abs.resolve(INDEX_FILE), Json.write(emptyIndex()));
                    }
                    return null;
                });
            }
        } catch (IOException e) {
            throw new LayersException("cannot open the image store at " + abs + ": " + e.getMessage(), e);
        }
        TempDirs.removeAllAbandoned(tmp); // what a killed berth was writing (one listing, usually empty)
        return new ImageStore(abs, tmp.toAbsolutePath().normalize());
    }

    /**
     * Opens a layout directory (for {@code oci:DIR}); temporary files go to {@code .berth-tmp} in it while
     * something is written (layout readers ignore unknown files at the top) and it is removed on close.
     */
    public static ImageStore open(Path root) {
        return open(root, root.toAbsolutePath().normalize().resolve(".berth-tmp"));
    }

    private static ImageIndex emptyIndex() {
        return ImageIndex.of(MediaType.OCI_INDEX, List.of());
    }

    public Path root() {
        return root;
    }

    // ---------------------------------------------------------------- blobs

    /** The file that holds a blob (which may not exist). */
    public Path blobPath(Digest digest) {
        return root.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
    }

    /** Whether the store holds the blob (a blob that exists is complete: it was renamed into place). */
    public boolean has(Digest digest) {
        return Files.isRegularFile(blobPath(digest));
    }

    /** Whether the store holds the blob with the descriptor's size. */
    public boolean has(Descriptor descriptor) {
        try {
            return Files.size(blobPath(descriptor.digest())) == descriptor.size();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Opens a blob for reading; the stream throws at its end unless size and digest match. {@code what}
     * names the image or file for errors.
     */
    public InputStream open(Descriptor descriptor, String what) {
        return open(descriptor.digest(), descriptor.size(), what);
    }

    /** As {@link #open(Descriptor, String)}, with the size unknown ({@code -1}) or known. */
    public InputStream open(Digest digest, long size, String what) {
        try {
            return new VerifyingInputStream(Files.newInputStream(blobPath(digest)), digest, size, what);
        } catch (NoSuchFileException e) {
            throw missing(digest, what);
        } catch (IOException e) {
            throw new LayersException(what + ": cannot read blob " + digest + ": " + e.getMessage(), e);
        }
    }

    /** A source over this store's blobs, naming {@code what} in errors. */
    public BlobSource blobs(String what) {
        return d -> open(d, what);
    }

    /** Reads a small blob (a manifest, a config) whole, verified. */
    public byte[] readBytes(Descriptor descriptor, String what) {
        if (descriptor.size() > 64L << 20) {
            throw new LayersException(what + ": " + descriptor.mediaType() + " " + descriptor.digest() + " is "
                    + descriptor.size() + " bytes, too large for a JSON document");
        }
        try (InputStream in = open(descriptor, what)) {
            byte[] bytes = in.readAllBytes();
            return bytes;
        } catch (IOException e) {
            throw new LayersException(what + ": cannot read blob " + descriptor.digest() + ": " + e.getMessage(), e);
        }
    }

    private static LayersException missing(Digest digest, String what) {
        return new LayersException(what + ": blob " + digest + " is missing from the store");
    }

    /**
     * Starts writing a blob. Write its bytes, then {@link BlobWriter#commit} it (checked against the
     * expected digest and size, if given); closing without committing discards it.
     */
    public BlobWriter newBlob() {
        return newBlob("sha256");
    }

    /** As {@link #newBlob()}, hashing with the given digest algorithm (sha256 or sha512). */
    public BlobWriter newBlob(String algorithm) {
        ensureWriting();
        return new BlobWriter(this, algorithm);
    }

    /** Writes a whole stream as a blob, checking it against what is expected. */
    public StoredBlob put(InputStream in, Optional<Digest> expected, OptionalLong expectedSize) {
        if (expected.isPresent() && expectedSize.isPresent()
                && has(Descriptor.of(MediaType.OCI_LAYER, expected.get(), expectedSize.getAsLong()))) {
            return new StoredBlob(expected.get(), expectedSize.getAsLong());
        }
        try (BlobWriter w = newBlob(expected.map(Digest::algorithm).orElse("sha256"))) {
            in.transferTo(w);
            return w.commit(expected, expectedSize);
        } catch (IOException e) {
            throw new LayersException("cannot write blob" + expected.map(d -> " " + d).orElse("") + ": "
                    + e.getMessage(), e);
        }
    }

    /** Writes bytes as a blob (a manifest, a config). */
    public StoredBlob put(byte[] bytes) {
        Digest d = Digest.sha256(bytes);
        if (has(d)) {
            return new StoredBlob(d, bytes.length);
        }
        try (BlobWriter w = newBlob()) {
            w.write(bytes);
            return w.commit(Optional.of(d), OptionalLong.of(bytes.length));
        } catch (IOException e) {
            throw new LayersException("cannot write blob " + d + ": " + e.getMessage(), e);
        }
    }

    /** Stores a document's exact bytes and returns its descriptor. */
    public Descriptor put(Document<?> document) {
        put(document.bytes());
        return document.descriptor();
    }

    /**
     * Moves a finished file (in this store's temp directory or on its filesystem) into the store, for a
     * file whose content the caller hashed while writing it (a download that hashes as it goes): the size
     * and {@code contentHash} (the finished hasher's output over exactly the file's bytes) are checked
     * against what is expected, the file is synced and renamed, and it is not read again. The file is
     * consumed either way.
     */
    public StoredBlob importHashed(Path file, Digest expected, long expectedSize, byte[] contentHash) {
        ensureWriting();
        try {
            long size = Files.size(file);
            if (size != expectedSize) {
                throw new LayersException("blob " + expected + " has " + size + " bytes, expected " + expectedSize);
            }
            if (!expected.matches(contentHash)) {
                throw new LayersException("blob " + expected + ": content does not match its digest");
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            commitFile(file, expected);
            return new StoredBlob(expected, size);
        } catch (IOException e) {
            throw new LayersException("cannot store blob " + expected + ": " + e.getMessage(), e);
        } finally {
            deleteLeftover(file);
        }
    }

    private static void deleteLeftover(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover temp file is removed by prune
        }
    }

    Path newTempFile() throws IOException {
        Files.createDirectories(tmp);
        return TempDirs.createFile(tmp, "blob-", ".tmp");
    }

    /** The directory for this store's temporary files (same filesystem as the blobs), created when missing. */
    public Path tempDirectory() {
        try {
            return Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new LayersException("cannot create " + tmp + ": " + e.getMessage(), e);
        }
    }

    void commitFile(Path finished, Digest digest) throws IOException {
        Path target = blobPath(digest);
        if (Files.isRegularFile(target)) {
            Files.deleteIfExists(finished);
            return;
        }
        Files.createDirectories(target.getParent());
        Files.setPosixFilePermissions(finished, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        AtomicFiles.moveInto(finished, target);
    }

    // ---------------------------------------------------------------- index and names

    /** The layout's {@code index.json}, parsed; a malformed one is an error naming the file. */
    public ImageIndex index() {
        Path file = root.resolve(INDEX_FILE);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new LayersException("image store " + root + ": index.json is missing");
        } catch (IOException e) {
            throw new LayersException("image store " + root + ": cannot read index.json: " + e.getMessage(), e);
        }
        try {
            return Json.read(bytes, ImageIndex.class, "image store " + file);
        } catch (LayersException e) {
            throw new LayersException(e.getMessage() + " (berth verify --repair rebuilds it from the store's blobs)", e);
        }
    }

    /** Every named image entry in {@code index.json}, in index order. */
    public List<Descriptor> entries() {
        return index().manifests();
    }

    /** The entry whose {@code org.opencontainers.image.ref.name} is exactly {@code name}. */
    public Optional<Descriptor> resolve(String name) {
        return entries().stream().filter(d -> d.annotation(Descriptor.REF_NAME).map(name::equals).orElse(false))
                .findFirst();
    }

    /** The entry named by a reference: by its full name, or by digest when the reference has one. */
    public Optional<Descriptor> resolve(Reference ref) {
        String name = ref.toString();
        List<Descriptor> all = entries();
        Optional<Descriptor> byName = all.stream()
                .filter(d -> d.annotation(Descriptor.REF_NAME).map(name::equals).orElse(false))
                .findFirst();
        if (byName.isPresent() || ref.digest().isEmpty()) {
            return byName;
        }
        Digest digest = ref.digest().get();
        Optional<Descriptor> sameDigest = all.stream()
                .filter(d -> d.digest().equals(digest) && d.annotation(Descriptor.REF_NAME)
                        .map(n -> n.startsWith(ref.name() + ":") || n.startsWith(ref.name() + "@")).orElse(false))
                .findFirst();
        return sameDigest.map(d -> d.withAnnotations(Map.of()));
    }

    /**
     * Names {@code target} (a manifest or index already in the store, with its blobs) as {@code ref},
     * replacing any image of that name. Atomic: readers see the old or the new index.
     */
    public void tag(Reference ref, Descriptor target) {
        tag(ref.toString(), target);
    }

    /**
     * Names {@code target} with a plain {@code org.opencontainers.image.ref.name} ({@code latest}, as layouts
     * that other tools write name things), replacing any entry of that name.
     */
    public void tag(String name, Descriptor target) {
        if (!has(target)) {
            throw new LayersException("cannot tag " + name + ": " + target.digest() + " is not in the store");
        }
        Descriptor named = target.withAnnotations(namedAnnotations(target.annotations(), name));
        updateIndex(entries -> {
            List<Descriptor> out = new ArrayList<>();
            boolean replaced = false;
            for (Descriptor d : entries) {
                if (d.annotation(Descriptor.REF_NAME).map(name::equals).orElse(false)) {
                    if (!replaced) {
                        out.add(named);
                        replaced = true;
                    }
                } else {
                    out.add(d);
                }
            }
            if (!replaced) {
                out.add(named);
            }
            return out;
        });
    }

    private static Map<String, String> namedAnnotations(Map<String, String> existing, String name) {
        Map<String, String> a = new LinkedHashMap<>();
        existing.forEach((k, v) -> {
            if (!k.equals(Descriptor.REF_NAME) && !k.equals(Descriptor.CONTAINERD_NAME)) {
                a.put(k, v);
            }
        });
        a.put(Descriptor.CONTAINERD_NAME, name);
        a.put(Descriptor.REF_NAME, name);
        return a;
    }

    /**
     * Adds an entry without a name (an image loaded from an archive that named none), unless one with
     * that digest is already there. {@code berth images} lists it as {@code <none>}.
     */
    public void addUnnamed(Descriptor target) {
        if (!has(target)) {
            throw new LayersException("cannot add " + target.digest() + ": it is not in the store");
        }
        Descriptor plain = target.withAnnotations(Map.of());
        updateIndex(entries -> {
            List<Descriptor> out = new ArrayList<>(entries);
            if (out.stream().noneMatch(d -> d.digest().equals(plain.digest()) && d.annotation(Descriptor.REF_NAME).isEmpty())) {
                out.add(plain);
            }
            return out;
        });
    }

    /** Removes unnamed entries with this digest; returns whether there were any. */
    public boolean removeUnnamed(Digest digest) {
        boolean[] found = {false};
        updateIndex(entries -> {
            List<Descriptor> out = new ArrayList<>();
            for (Descriptor d : entries) {
                if (d.digest().equals(digest) && d.annotation(Descriptor.REF_NAME).isEmpty()) {
                    found[0] = true;
                } else {
                    out.add(d);
                }
            }
            return out;
        });
        return found[0];
    }

    /** Removes the name; returns whether it existed. The blobs stay until {@link #prune()}. */
    public boolean untag(Reference ref) {
        String name = ref.toString();
        boolean[] found = {false};
        updateIndex(entries -> {
            List<Descriptor> out = new ArrayList<>();
            for (Descriptor d : entries) {
                if (d.annotation(Descriptor.REF_NAME).map(name::equals).orElse(false)) {
                    found[0] = true;
                } else {
                    out.add(d);
                }
            }
            return out;
        });
        return found[0];
    }

    /** Read-modify-write of {@code index.json} under the inter-process index lock. */
    private void updateIndex(UnaryOperator<List<Descriptor>> change) {
        ensureWriting();
        try {
            StoreLocks.withIndexLock(root.resolve(INDEX_LOCK), () -> {
                ImageIndex current = index();
                List<Descriptor> updated = change.apply(current.manifests());
                AtomicFiles.write(root.resolve(INDEX_FILE), Json.write(current.withManifests(updated)));
                return null;
            });
        } catch (IOException e) {
            throw new LayersException("cannot update " + root.resolve(INDEX_FILE) + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- images

    /**
     * The image a reference names, for a platform when the name is an index. Errors name the reference:
     * not in the store, no entry for the platform (listing those there are), missing or corrupt blobs.
     */
    public Image image(Reference ref, Platform platform) {
        Descriptor d = resolve(ref).orElseThrow(
                () -> new LayersException("image " + ref.familiar() + " is not in the store"));
        return image(d, platform, ref.familiar());
    }

    /** The image behind a descriptor (manifest, or index resolved for {@code platform}). */
    public Image image(Descriptor descriptor, Platform platform, String what) {
        Descriptor manifest = descriptor;
        if (descriptor.mediaType().isIndex()) {
            ImageIndex index = readIndex(descriptor, what).value();
            manifest = selectPlatform(index, platform, what);
        }
        if (!manifest.mediaType().isManifest()) {
            throw new LayersException(what + ": unsupported media type " + manifest.mediaType());
        }
        Document<Manifest> m = readManifest(manifest, what);
        Descriptor configDescriptor = m.value().config();
        if (!configDescriptor.mediaType().isConfig()) {
            throw new LayersException(what + ": unsupported config media type " + configDescriptor.mediaType());
        }
        byte[] configBytes = readBytes(configDescriptor, what);
        Document<ImageConfig> config = new Document<>(
                Json.read(configBytes, ImageConfig.class, what + " config " + configDescriptor.digest()),
                configBytes, configDescriptor.mediaType(), configDescriptor.digest());
        for (Descriptor layer : m.value().layers()) {
            if (!layer.mediaType().isLayer()) {
                throw new LayersException(what + ": layer " + layer.digest() + " has unsupported media type "
                        + layer.mediaType());
            }
        }
        return new Image(m, config, blobs(what));
    }

    /** Picks the manifest for a platform from an index, skipping attestations; errors list what exists. */
    public static Descriptor selectPlatform(ImageIndex index, Platform platform, String what) {
        List<Descriptor> images = index.images();
        return images.stream()
                .filter(d -> d.platform().map(p -> p.satisfies(platform)).orElse(false))
                .findFirst()
                .or(() -> images.size() == 1 && images.getFirst().platform().isEmpty()
                        ? Optional.of(images.getFirst()) : Optional.empty())
                .orElseThrow(() -> new LayersException(what + ": no image for platform " + platform
                        + "; the index has " + (images.isEmpty() ? "none"
                        : String.join(", ", images.stream().map(d -> d.platform().map(Platform::toString)
                                .orElse("unknown")).toList()))));
    }

    public Document<Manifest> readManifest(Descriptor descriptor, String what) {
        byte[] bytes = readBytes(descriptor, what);
        return new Document<>(Json.read(bytes, Manifest.class, what + " manifest " + descriptor.digest()),
                bytes, descriptor.mediaType(), descriptor.digest());
    }

    public Document<ImageIndex> readIndex(Descriptor descriptor, String what) {
        byte[] bytes = readBytes(descriptor, what);
        return new Document<>(Json.read(bytes, ImageIndex.class, what + " index " + descriptor.digest()),
                bytes, descriptor.mediaType(), descriptor.digest());
    }

    /**
     * Copies an image into the store: layers it lacks (streamed and verified), then the config, then the
     * manifest; returns the manifest's descriptor. Blobs the store has are not read again.
     */
    public Descriptor put(Image image) {
        for (Descriptor layer : image.layers()) {
            if (!has(layer)) {
                try (InputStream in = image.blobs().open(layer)) {
                    put(in, Optional.of(layer.digest()), OptionalLong.of(layer.size()));
                } catch (IOException e) {
                    throw new LayersException("cannot copy layer " + layer.digest() + ": " + e.getMessage(), e);
                }
            }
        }
        put(image.config());
        return put(image.manifest());
    }

    // ---------------------------------------------------------------- garbage collection

    /** What {@link #prune()} removed. */
    public record PruneResult(int blobs, long bytes) {}

    /**
     * Removes every blob that no {@code index.json} entry reaches (through indexes, manifests, configs and
     * layers) and stale temporary files; nothing else. Waits until no other process is writing.
     */
    public PruneResult prune() {
        try {
            return StoreLocks.withExclusiveGc(root.resolve(GC_LOCK), writing, () -> {
                Set<Digest> live = reachable();
                int removed = 0;
                long bytes = 0;
                try (DirectoryStream<Path> algorithms = Files.newDirectoryStream(root.resolve("blobs"))) {
                    for (Path alg : algorithms) {
                        if (!Files.isDirectory(alg) || alg.getFileName().toString().startsWith(".")) {
                            continue;
                        }
                        try (DirectoryStream<Path> blobs = Files.newDirectoryStream(alg)) {
                            for (Path blob : blobs) {
                                Digest d;
                                try {
                                    d = new Digest(alg.getFileName().toString(), blob.getFileName().toString());
                                } catch (LayersException notABlob) {
                                    continue;
                                }
                                if (!live.contains(d)) {
                                    bytes += Files.size(blob);
                                    Files.delete(blob);
                                    removed++;
                                }
                            }
                        }
                    }
                }
                cleanTemp();
                return new PruneResult(removed, bytes);
            });
        } catch (IOException e) {
            throw new LayersException("prune " + root + ": " + e.getMessage(), e);
        }
    }

    /** Every digest the index reaches. Blobs of unknown types are kept but not followed. */
    private Set<Digest> reachable() {
        Set<Digest> live = new HashSet<>();
        for (Descriptor d : reachable(entries())) {
            live.add(d.digest());
        }
        return live;
    }

    /**
     * Every descriptor reachable from {@code roots} through indexes and manifests (roots included, each
     * digest once, parents before children). Blobs the store lacks are listed but not followed.
     */
    public List<Descriptor> reachable(List<Descriptor> roots) {
        Set<Digest> seen = new HashSet<>();
        List<Descriptor> out = new ArrayList<>();
        Deque<Descriptor> todo = new ArrayDeque<>(roots);
        while (!todo.isEmpty()) {
            Descriptor d = todo.removeFirst();
            if (!seen.add(d.digest())) {
                continue;
            }
            out.add(d);
            if (!has(d.digest())) {
                continue;
            }
            String what = "blob " + d.digest();
            if (d.mediaType().isIndex()) {
                ImageIndex index = readIndex(d, what).value();
                todo.addAll(index.manifests());
                index.subject().ifPresent(todo::add);
            } else if (d.mediaType().isManifest()) {
                Manifest m = readManifest(d, what).value();
                todo.add(m.config());
                todo.addAll(m.layers());
                m.subject().ifPresent(todo::add);
            }
        }
        return out;
    }

    /**
     * Copies every blob reachable from {@code root} that {@code source} holds and this store lacks, children
     * before parents, so a manifest never arrives before its blobs.
     */
    public void copyFrom(ImageStore source, Descriptor root) {
        List<Descriptor> all = new ArrayList<>(source.reachable(List.of(root)));
        java.util.Collections.reverse(all);
        for (Descriptor d : all) {
            if (!has(d) && source.has(d)) {
                try (InputStream in = source.open(d, "copy " + d.digest())) {
                    put(in, Optional.of(d.digest()), OptionalLong.of(d.size()));
                } catch (IOException e) {
                    throw new LayersException("cannot copy " + d.digest() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private void cleanTemp() throws IOException {
        if (!Files.isDirectory(tmp)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp, "blob-*.tmp")) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    // ---------------------------------------------------------------- lifecycle

    private synchronized void ensureWriting() {
        if (closed) {
            throw new IllegalStateException("image store " + root + " is closed");
        }
        if (!writing) {
            StoreLocks.acquireShared(root.resolve(GC_LOCK));
            writing = true;
        }
    }

    /** Releases this process's claim as a writer (so that {@link #prune()} elsewhere may run). */
    @Override
    public synchronized void close() {
        if (tmp.getFileName().toString().equals(".berth-tmp")) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException notEmpty) {
                // another process is still writing into it
            }
        }
        if (writing) {
            StoreLocks.releaseShared(root.resolve(GC_LOCK));
            writing = false;
        }
        closed = true;
    }

    /**
     * A blob being written: an {@link OutputStream} that hashes what passes through into a temp file.
     * {@link #commit} checks and renames it into the store; {@link #close()} without a commit deletes it.
     */
    public static final class BlobWriter extends OutputStream {
        /**
         * Bytes written between two flushes to disk, made on another thread while writing goes on: the
         * fsync of the commit then has little left to write (it took 45 ms for an 85 MB layer).
         */
        private static final long FLUSH_STEP = 16L << 20;

        private final ImageStore store;
        private final Path file;
        private final FileChannel channel;
        private final HashingOutputStream out;
        private boolean done;
        private long nextFlush = FLUSH_STEP;
        private Thread flusher;
        private volatile IOException flushFailure;

        private BlobWriter(ImageStore store, String algorithm) {
            this.store = store;
            try {
                this.file = store.newTempFile();
                this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
                this.out = new HashingOutputStream(Channels.newOutputStream(channel), algorithm);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            if (out.count() >= nextFlush) {
                nextFlush = out.count() + FLUSH_STEP;
                flushInBackground();
            }
        }

        /** Starts writing what is in the page cache to disk on another thread, unless the last one still runs. */
        private void flushInBackground() {
            if (flusher != null && flusher.isAlive()) {
                return;
            }
            flusher = Thread.ofPlatform().daemon(true).name("berth-blob-flush").start(() -> {
                try {
                    channel.force(false);
                } catch (ClosedChannelException abandoned) {
                    // the blob was abandoned while its data was being flushed
                } catch (IOException e) {
                    flushFailure = e;
                }
            });
        }

        /** Waits for a flush on another thread; its failure is this blob's. */
        private void awaitFlush() throws IOException {
            if (flusher != null) {
                try {
                    flusher.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while writing " + file);
                }
            }
            if (flushFailure != null) {
                throw flushFailure;
            }
        }

        /** Bytes written so far. */
        public long size() {
            return out.count();
        }

        /**
         * Finishes the blob: fsync, compare with what is expected, rename into the store. A mismatch
         * deletes the temp file and throws, naming the expected digest.
         */
        public StoredBlob commit(Optional<Digest> expected, OptionalLong expectedSize) throws IOException {
            if (done) {
                throw new IllegalStateException("blob already finished");
            }
            done = true;
            try {
                out.flush();
                awaitFlush();
                channel.force(true);
                channel.close();
                Digest actual = out.digest();
                long size = out.count();
                if (expectedSize.isPresent() && expectedSize.getAsLong() != size) {
                    throw new LayersException("blob " + expected.orElse(actual) + " has " + size
                            + " bytes, expected " + expectedSize.getAsLong() + " (truncated or corrupt)");
                }
                if (expected.isPresent() && !expected.get().equals(actual)) {
                    throw new LayersException("blob " + expected.get() + ": content does not match its digest (got "
                            + actual + ")");
                }
                store.commitFile(file, actual);
                return new StoredBlob(actual, size);
            } finally {
                Files.deleteIfExists(file);
            }
        }

        @Override
        public void close() throws IOException {
            if (!done) {
                done = true;
                try {
                    awaitFlush();
                } catch (IOException abandoned) {
                    // the blob is being thrown away
                } finally {
                    channel.close();
                    Files.deleteIfExists(file);
                }
            }
        }
    }
}
