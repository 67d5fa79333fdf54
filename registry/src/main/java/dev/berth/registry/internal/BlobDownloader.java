package dev.berth.registry.internal;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.StoredBlob;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * Downloads one blob into the store, streamed and verified.
 *
 * <p>The bytes go to {@code blob-pull-ALG-HEX.tmp} in the store's temp directory (where {@code prune}
 * cleans up), locked while written. After a broken connection the download continues with a
 * {@code Range} request to the registry URL (never to the redirect target, whose signature may have
 * expired); a later process that finds the file (after a kill) continues it too. A file another process is
 * writing is left alone and this download uses a private one. The finished file is checked against the
 * descriptor's size and digest and renamed into the store.
 */
public final class BlobDownloader {
    private static final long PROGRESS_NANOS = 100_000_000L;

    private BlobDownloader() {}

    /**
     * Work on a blob's bytes that may run while it downloads (a layer's check); throws to refuse it, or
     * throws {@link Again} to be called once more, on the whole blob, when it has downloaded.
     */
    public interface Check {
        void check(java.io.InputStream blob) throws IOException;

        /** The check could not decide beside the download and wants the whole blob. */
        final class Again extends IOException {
            public Again(Throwable cause) {
                super("checked again once downloaded", cause);
            }
        }
    }

    public static StoredBlob download(Transport transport, String repository, Descriptor blob, ImageStore store,
                                      Progress progress) {
        return download(transport, repository, blob, store, progress, java.util.Optional.empty());
    }

    /**
     * Downloads {@code blob} into the store; with a {@code check}, it reads the bytes beside the download
     * (again from the file when the download had to start over), and a blob it refuses is not stored.
     */
    public static StoredBlob download(Transport transport, String repository, Descriptor blob, ImageStore store,
                                      Progress progress, java.util.Optional<Check> check) {
        Path dir = store.tempDirectory();
        Path shared = dir.resolve("blob-pull-" + blob.digest().algorithm() + "-" + blob.digest().hex() + ".tmp");
        try {
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(shared, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(ch);
            Path file = shared;
            if (lock == null) {
                ch.close();
                file = dev.berth.layers.TempDirs.createFile(dir, "blob-", ".tmp");
                ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            byte[] hash;
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Path written = file;
            Thread checker = check.map(c -> Thread.ofPlatform().daemon(true).name("berth-check-" + blob.digest().hex()
                    .substring(0, 12)).start(() -> {
                        try (GrowingFile in = new GrowingFile(written, done)) {
                            c.check(in);
                        } catch (Throwable t) {
                            failed.set(t);
                        }
                    })).orElse(null);
            try (FileChannel channel = ch) {
                try {
                    hash = fetch(transport, repository, blob, channel, progress);
                } catch (RuntimeException | IOException e) {
                    // deleted while still locked, so that no other process starts resuming it meanwhile
                    if (!worthResuming(e, written == shared, channel, transport)) {
                        Files.deleteIfExists(written);
                    }
                    throw e;
                }
            } finally {
                done.set(true);
                if (checker != null) {
                    try {
                        checker.join();
                    } catch (InterruptedException e) {
                        checker.interrupt();
                        Thread.currentThread().interrupt();
                    }
                }
                if (lock != null && lock.isValid()) {
                    try {
                        lock.release();
                    } catch (IOException ignored) {
                        // closing the channel released it
                    }
                }
            }
            if (check.isPresent()) {
                Throwable t = failed.get();
                if (t instanceof GrowingFile.Restarted || t instanceof Check.Again
                        || (t != null && t.getCause() instanceof GrowingFile.Restarted)) {
                    try (java.io.InputStream in = Files.newInputStream(file)) { // again, whole
                        check.get().check(in);
                    }
                } else if (t instanceof RuntimeException r) {
                    Files.deleteIfExists(file);
                    throw r;
                } else if (t instanceof IOException io) {
                    Files.deleteIfExists(file);
                    throw io;
                } else if (t != null) {
                    throw new IllegalStateException(t);
                }
            }
            // hashed while written: the store checks that hash and does not read the file again
            StoredBlob stored = store.importHashed(file, blob.digest(), blob.size(), hash);
            progress.on(new ProgressEvent.BlobDone(blob.digest(), blob.size()));
            return stored;
        } catch (IOException e) {
            throw new RegistryException("cannot download " + blob.digest() + " to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether a failed download's file is kept for the next pull to resume: only the shared file, only after
     * this download's own network failure (the bytes so far were fine, the connection was not), and only when
     * it holds real progress. Bytes known to be wrong (too many, a wrong digest, a refused layer) are deleted,
     * as is a private file no later pull would find, and a download stopped because the pull failed
     * elsewhere (whatever it received is unverified, and a failed pull leaves nothing behind).
     */
    private static boolean worthResuming(Exception e, boolean shared, FileChannel ch, Transport transport)
            throws IOException {
        if (!shared || Thread.currentThread().isInterrupted()) {
            return false; // checked first: an interrupted thread's channel refuses even size()
        }
        boolean network = e instanceof RegistryException r && r.retryable() && r.getCause() instanceof IOException
                && !(r.getCause() instanceof java.io.InterruptedIOException);
        return network && ch.isOpen() && ch.size() >= transport.minimumProgress();
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    /**
     * Fills {@code ch} with the blob, verified; resumes from what it already holds. Returns the sha256 (or
     * sha512) of exactly the file's bytes.
     */
    private static byte[] fetch(Transport transport, String repository, Descriptor blob, FileChannel ch,
                              Progress progress) throws IOException {
        long size = blob.size();
        MessageDigest hasher = blob.digest().newHasher();
        long offset = ch.size();
        if (offset > size) {
            ch.truncate(0);
            offset = 0;
        }
        if (offset > 0) {
            prime(ch, offset, hasher);
            progress.on(new ProgressEvent.BlobResumed(blob.digest(), offset));
        }
        boolean fromEarlier = offset > 0;
        URI uri = URI.create("/v2/" + repository + "/blobs/" + blob.digest());
        List<Scope> scopes = List.of(Scope.pull(repository));
        Reporter reporter = new Reporter(blob, progress);
        int stuck = 0;
        int restarts = 0;
        while (true) {
            while (offset < size) {
                long start = offset;
                Call<Void> base = Call.of("GET", uri, scopes, progress, "download " + blob.digest().shortHex());
                if (start > 0) {
                    base = base.header("Range", "bytes=" + start + "-");
                }
                FileSink[] sink = new FileSink[1];
                MessageDigest h = hasher;
                Call<Long> call = base.retryStatusOnly().reading(info -> {
                    long from = start;
                    if (info.statusCode() == 206) {
                        OptionalLong s = Headers.contentRangeStart(info.headers());
                        if (s.isEmpty() || s.getAsLong() != start) {
                            throw new UncheckedIOException(new IOException("the registry answered range "
                                    + info.headers().firstValue("Content-Range").orElse("(none)")
                                    + " for bytes=" + start + "-"));
                        }
                    }
                    long announced = Headers.contentLength(info.headers()).orElse(-1);
                    long at = info.statusCode() == 206 ? start : 0;
                    if (announced >= 0 && at + announced > size) {
                        // refused before a byte is read: a registry announcing 10 GB for a 2 MB blob is not waited for
                        throw tooLong(transport, blob, info.statusCode(), "the registry announced "
                                + (at + announced) + " (Content-Length)");
                    }
                    if (info.statusCode() != 206 && start > 0) {
                        // the server ignored the Range: start over with the whole blob
                        try {
                            ch.truncate(0);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        h.reset();
                        from = 0;
                    }
                    int status = info.statusCode();
                    sink[0] = new FileSink(ch, from, size, h, reporter::report,
                            () -> tooLong(transport, blob, status, "the registry sent more"));
                    return sink[0];
                });
                try {
                    Response<Long> r = transport.execute(call);
                    if (r.status() == 416 && start > 0) {
                        restartFromZero(ch, hasher);
                        offset = 0;
                        continue;
                    }
                    if (!r.ok()) {
                        throw transport.error(r, scopes);
                    }
                    offset = sink[0].stop();
                    if (offset < size) {
                        // a complete response that is shorter than the blob: retried, as a proxy may have cut it
                        if (stuck + 1 >= transport.retryPolicy().attempts()) {
                            throw new RegistryException("blob " + blob.digest() + " from " + transport.describe()
                                    + " is truncated: the registry sent " + offset + " of " + size + " bytes",
                                    java.util.Optional.of("SIZE_INVALID"), java.util.OptionalInt.of(r.status()), true, null);
                        }
                        throw new IOException("the registry sent " + (offset - start) + " bytes and closed");
                    }
                    if (offset > size) {
                        break;
                    }
                    stuck = 0;
                } catch (RegistryException e) {
                    IOException io = e.getCause() instanceof IOException x && e.retryable() ? x : null;
                    if (io == null) {
                        throw e;
                    }
                    offset = handleFailure(transport, blob, ch, sink[0], start, io, ++stuck, progress);
                    if (offset - start >= transport.minimumProgress()) {
                        stuck = 0;
                    }
                } catch (IOException e) {
                    offset = handleFailure(transport, blob, ch, sink[0], start, e, ++stuck, progress);
                    // only real progress earns more attempts: a server that trickles a few bytes per
                    // connection, or cuts every one after a few, ends after the retry policy's attempts
                    if (offset - start >= transport.minimumProgress()) {
                        stuck = 0;
                    }
                }
            }
            long actual = ch.size();
            byte[] hash = hasher.digest();
            if (actual == size && blob.digest().matches(hash)) {
                return hash;
            }
            if (fromEarlier && restarts == 0) {
                // what an earlier process left may be damaged (a crash before its data reached the disk)
                restarts++;
                restartFromZero(ch, hasher);
                offset = 0;
                continue;
            }
            throw new RegistryException("blob " + blob.digest() + " from " + transport.describe() + " is corrupt: "
                    + (actual != size ? actual + " bytes instead of " + size : "its content does not match its digest"),
                    java.util.Optional.of("DIGEST_INVALID"), java.util.OptionalInt.empty(), true, null);
        }
    }

    private static RegistryException tooLong(Transport transport, Descriptor blob, int status, String detail) {
        return new RegistryException("blob " + blob.digest() + " from " + transport.describe()
                + " is larger than the " + blob.size() + " bytes its descriptor says: " + detail,
                java.util.Optional.of("SIZE_INVALID"), java.util.OptionalInt.of(status), false, null);
    }

    /** Decides what to do after a broken transfer: where to continue, or give up when nothing moves. */
    private static long handleFailure(Transport transport, Descriptor blob, FileChannel ch, FileSink sink, long start,
                                      IOException e, int stuck, Progress progress) throws IOException {
        if (stuck >= transport.retryPolicy().attempts() || !Transport.retryable(e)) {
            RegistryException n = transport.networkError(e);
            throw new RegistryException("blob " + blob.digest() + ": " + n.getMessage()
                    + (stuck > 1 ? " (" + stuck + " attempts)" : ""), n.code(), n.status(), n.retryable(), e);
        }
        long reached = sink == null ? start : sink.stop();
        if (ch.size() != reached) {
            ch.truncate(reached);
        }
        Duration d = transport.retryPolicy().backoff(stuck);
        progress.on(new ProgressEvent.Retrying("download " + blob.digest().shortHex(), stuck, d, transport.describe(e)));
        Transport.pause(d);
        if (reached > 0) {
            progress.on(new ProgressEvent.BlobResumed(blob.digest(), reached));
        }
        return reached;
    }

    private static void restartFromZero(FileChannel ch, MessageDigest hasher) throws IOException {
        ch.truncate(0);
        hasher.reset();
    }

    private static void prime(FileChannel ch, long length, MessageDigest hasher) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        long pos = 0;
        while (pos < length) {
            buf.clear().limit((int) Math.min(buf.capacity(), length - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                break;
            }
            buf.flip();
            hasher.update(buf);
            pos += n;
        }
    }

    /** Rate-limits progress events to about ten a second per blob, and always reports the end. */
    static final class Reporter {
        private final Descriptor blob;
        private final Progress progress;
        private long last;

        Reporter(Descriptor blob, Progress progress) {
            this.blob = blob;
            this.progress = progress;
        }

        synchronized void report(long done) {
            long now = System.nanoTime();
            if (done >= blob.size() || now - last >= PROGRESS_NANOS) {
                last = now;
                progress.on(new ProgressEvent.BlobProgress(blob.digest(), done, blob.size()));
            }
        }
    }
}
