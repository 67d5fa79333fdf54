package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import dev.berth.layers.BlobSource;
import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.TempDirs;
import dev.berth.layers.LayersException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One extracted directory per layer, {@code snapshots/<diff_id hex>}, shared by every container of every
 * image that has the layer. Whiteouts are stored as overlayfs whiteouts, so the directories are used as
 * lowerdirs unchanged. A snapshot is extracted into {@code tmp/} and renamed into place only when complete
 * and its content matched the diff_id; a directory that exists is therefore whole. Concurrent extractions
 * of the same layer are harmless: the first rename wins and the other copy is deleted.
 *
 * <p>Rootless, a snapshot's files belong to the user's sub-ids as they belong to ids inside the container:
 * the layers are extracted by a process that is root of the user's namespace ({@link UsernsTasks}), with
 * opaque directories marked for an overlay mounted there ({@code user.overlay.opaque}).
 */
public final class SnapshotStore {
    private static final String TEMP_PREFIX = "snapshot-";

    private final Path dir;
    private final Path tmp;
    private final LayerExtractor.Whiteouts whiteouts;
    /** Rootless, outside the namespace: where extractions go, and the home whose store they read. */
    private final Optional<UsernsTasks> userns;
    private final Optional<BerthHome> home;

    public SnapshotStore(Path dir, Path tmp) {
        this(dir, tmp, LayerExtractor.Whiteouts.OVERLAY, Optional.empty(), Optional.empty());
    }

    private SnapshotStore(Path dir, Path tmp, LayerExtractor.Whiteouts whiteouts, Optional<UsernsTasks> userns,
                          Optional<BerthHome> home) {
        this.dir = dir.toAbsolutePath().normalize();
        this.tmp = tmp.toAbsolutePath().normalize();
        this.whiteouts = whiteouts;
        this.userns = userns;
        this.home = home;
    }

    /** The snapshots of a home: extracted here as root, or in the user's namespace rootless. */
    public static SnapshotStore of(BerthHome home) {
        if (BerthHome.isRoot()) {
            return new SnapshotStore(home.snapshots(), home.tmp());
        }
        return new SnapshotStore(home.snapshots(), home.tmp(), LayerExtractor.Whiteouts.OVERLAY_USERXATTR,
                Optional.of(UsernsTasks.forCurrentUser(home)), Optional.of(home));
    }

    /**
     * Rootless snapshots for a namespace of other maps than the user's own ({@code --userns=keep-id}): their
     * files' owners differ, so they are extracted apart, under {@code snapshots/NAME/}.
     */
    static SnapshotStore forMaps(BerthHome home, UsernsTasks tasks, String name) {
        return new SnapshotStore(home.snapshots().resolve(name), home.tmp(), LayerExtractor.Whiteouts.OVERLAY_USERXATTR,
                Optional.of(tasks), Optional.of(home));
    }

    /** The snapshots in {@code dir} as the process that is root of the user's namespace extracts them. */
    public static SnapshotStore inUserNamespace(BerthHome home, Path dir) {
        return new SnapshotStore(dir, home.tmp(), LayerExtractor.Whiteouts.OVERLAY_USERXATTR,
                Optional.empty(), Optional.empty());
    }

    /** Where a layer's snapshot lives (whether or not it exists). */
    public Path path(Digest diffId) {
        return dir.resolve(diffId.hex());
    }

    /**
     * The snapshot directories of an image, topmost layer first (the order overlayfs wants), extracting the
     * missing ones. An image without layers gets one empty directory, since overlayfs needs a lower layer.
     * The cost of this call for an image whose layers are all extracted does not depend on their size.
     */
    public List<Path> prepare(Image image) {
        return prepare(ContainerImage.layersOf(image), image.blobs());
    }

    /**
     * {@link #prepare(Image)} for layers (base first) whose blobs {@code blobs} reads. A layer that comes
     * twice (empty layers often do) is listed once, where it is topmost: overlayfs refuses a directory twice,
     * and the lower copy adds nothing the upper one does not already show or hide.
     */
    public List<Path> prepare(List<ContainerImage.Layer> layers, BlobSource blobs) {
        List<Path> out = new ArrayList<>(layers.size());
        List<ContainerImage.Layer> missing = new ArrayList<>();
        java.util.Set<Digest> seen = new java.util.HashSet<>();
        for (int i = layers.size() - 1; i >= 0; i--) {
            ContainerImage.Layer l = layers.get(i);
            if (!seen.add(l.diffId())) {
                continue;
            }
            Path p = path(l.diffId());
            if (!Files.isDirectory(p)) {
                missing.add(l);
            }
            out.add(p);
        }
        if (userns.isPresent() && !missing.isEmpty()) {
            // rootless: extracted by root of the namespace, from the home's store (where every image is);
            // this user makes the directories, which root of a namespace with other maps would own
            try {
                Files.createDirectories(dir);
                Files.createDirectories(tmp);
            } catch (IOException e) {
                throw new ContainerException("cannot create " + dir + ": " + e.getMessage(), e);
            }
            List<String> args = new ArrayList<>(List.of(home.orElseThrow().root().toString(), dir.toString()));
            for (ContainerImage.Layer l : missing) {
                args.addAll(List.of(l.blob().mediaType().value(), l.blob().digest().toString(),
                        Long.toString(l.blob().size()), l.diffId().toString()));
            }
            userns.get().java("cannot extract " + missing.size() + " layer(s)", "extract", args);
        } else {
            extractAll(missing, blobs);
        }
        if (out.isEmpty()) {
            out.add(empty());
        }
        return out;
    }

    /**
     * Makes {@code dir} the snapshot of layer {@code diffId} by renaming it into place: {@code dir} must hold
     * that layer's content in snapshot form (overlay whiteouts), as a container's upper directory does, and
     * be on the same file system. When the snapshot exists already, {@code dir} is deleted instead.
     */
    public void adopt(Path dir, Digest diffId) {
        Path target = path(diffId);
        try {
            Files.createDirectories(this.dir);
            if (!Files.isDirectory(target)) {
                try {
                    Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
                    return;
                } catch (IOException e) {
                    if (!Files.isDirectory(target)) { // not lost to a concurrent adoption of the same layer
                        throw e;
                    }
                }
            }
            delete(dir);
        } catch (IOException e) {
            throw new ContainerException("cannot keep " + dir + " as the snapshot of " + diffId + ": " + e.getMessage(), e);
        }
    }

    /** An empty directory, for a container whose image has no layers. */
    Path emptyLayer() {
        return empty();
    }

    /**
     * Extracts layers, several at once: each has a directory of its own, so unlike unpacking into one tree
     * their order does not matter. The first failure is thrown once every extraction has stopped.
     */
    private void extractAll(List<ContainerImage.Layer> missing, BlobSource blobs) {
        if (missing.isEmpty()) {
            return;
        }
        if (missing.size() == 1) {
            extract(blobs, missing.getFirst());
            return;
        }
        int threads = Math.min(missing.size(), Math.max(1, Runtime.getRuntime().availableProcessors()));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("berth-extract-", 0).daemon(true).factory());
        try {
            List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
            for (ContainerImage.Layer l : missing) {
                jobs.add(pool.submit(() -> extract(blobs, l)));
            }
            RuntimeException first = null;
            for (java.util.concurrent.Future<?> job : jobs) {
                try {
                    job.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (first == null) {
                        first = e.getCause() instanceof RuntimeException r ? r
                                : new ContainerException("cannot extract a layer: " + e.getCause().getMessage(), e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ContainerException("interrupted while extracting layers");
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private Path empty() {
        Path p = dir.resolve("empty");
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new ContainerException("cannot create " + p + ": " + e.getMessage(), e);
        }
        return p;
    }

    private void extract(BlobSource blobs, ContainerImage.Layer l) {
        Descriptor layer = l.blob();
        Aside aside;
        try (InputStream blob = blobs.open(layer)) {
            aside = unpackAside(blob, "layer " + layer.digest());
        } catch (LayersException e) {
            throw new ContainerException("cannot extract layer " + layer.digest() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ContainerException("cannot extract layer " + layer.digest() + " into " + dir + ": "
                    + e.getMessage(), e);
        }
        if (!aside.diffId().equals(l.diffId())) {
            aside.discard();
            throw new ContainerException("layer " + layer.digest() + ": its content does not match its diff_id "
                    + l.diffId());
        }
        aside.keep();
    }

    /** A layer extracted aside ({@link #unpackAside}), named by the digest of its content. */
    public interface Aside {
        /** The digest of the layer's uncompressed content: the snapshot it becomes. */
        Digest diffId();

        /**
         * Renames it into place (or drops it, when that snapshot exists already); throws a
         * {@link ContainerException} when it can do neither, having deleted it.
         */
        void keep();

        /** Deletes it; never throws. */
        void discard();
    }

    /**
     * Extracts a layer blob (gzip, zstd or plain, read to its end) into a temp directory, hashing its
     * content: a snapshot once {@link Aside#keep kept}, which a caller does when it has verified the blob
     * (a pull, once the blob's digest matched). Root only: rootless snapshots are extracted in the user's
     * namespace. A blob it cannot extract (a hostile entry, a full disk, a stream that fails) throws a
     * {@link ContainerException} naming {@code what}, caused by what failed, and leaves nothing.
     */
    public Aside unpackAside(InputStream blob, String what) throws IOException {
        if (userns.isPresent()) {
            throw new IllegalStateException("rootless snapshots are extracted in the user's namespace");
        }
        Files.createDirectories(dir);
        Files.createDirectories(tmp);
        Path work = TempDirs.create(tmp, TEMP_PREFIX);
        try {
            java.security.MessageDigest sha = Digest.sha256Hasher();
            try (DigestInputStream tar = new DigestInputStream(Compression.decompress(blob), sha)) {
                LayerExtractor.extract(tar, work, whiteouts);
                tar.transferTo(OutputStream.nullOutputStream());
                blob.transferTo(OutputStream.nullOutputStream()); // to its end, so that a verifying source checks it
            }
            Digest diffId = Digest.of(sha.digest());
            Path kept = work;
            return new Aside() {
                @Override
                public Digest diffId() {
                    return diffId;
                }

                @Override
                public void keep() {
                    try {
                        adopt(kept, diffId);
                    } catch (ContainerException e) {
                        deleteQuietly(kept);
                        throw e;
                    }
                }

                @Override
                public void discard() {
                    deleteQuietly(kept);
                }
            };
        } catch (IOException | RuntimeException e) {
            deleteQuietly(work);
            if (e instanceof LayersException || e instanceof IOException) {
                throw new ContainerException(what + ": cannot extract it: " + (e.getMessage() != null ? e.getMessage()
                        : e.getClass().getSimpleName()), e);
            }
            throw e;
        }
    }

    /** Deletes temp directories of extractions whose process is gone (killed while extracting). */
    public void cleanTemp() {
        if (userns.isPresent()) {
            TempDirs.abandoned(tmp, TEMP_PREFIX).forEach(this::deleteQuietly);
        } else {
            TempDirs.removeAbandoned(tmp, TEMP_PREFIX);
        }
    }

    /** Deletes a tree (rootless: in the user's namespace, whose sub-ids own its files). */
    private void delete(Path p) throws IOException {
        if (userns.isPresent()) {
            userns.get().deleteTree(p);
        } else {
            LayerExtractor.deleteTree(p);
        }
    }

    private void deleteQuietly(Path p) {
        try {
            delete(p);
        } catch (IOException | ContainerException ignored) {
            // left for the next cleanTemp
        }
    }
}
