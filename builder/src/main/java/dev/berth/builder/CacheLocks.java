package dev.berth.builder;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The locks of cache mount directories, shared or exclusive, between processes (a file lock on the
 * directory's {@code lock} file) and between the builds and mounts of this process, which a file lock
 * alone cannot tell apart (the kernel gives a process one lock per file). Waiting is by polling: a cache
 * mount is rarely contended, and a lock that is only ever tried is never a deadlock.
 */
final class CacheLocks {
    private CacheLocks() {}

    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        final boolean exclusive;
        int users;

        Held(FileChannel channel, FileLock lock, boolean exclusive) {
            this.channel = channel;
            this.lock = lock;
            this.exclusive = exclusive;
        }
    }

    private static final Map<Path, Held> HELD = new HashMap<>();

    /** Takes the lock of {@code file} if no one holds it in a conflicting way; empty otherwise. */
    static synchronized Optional<AutoCloseable> tryAcquire(Path file, boolean exclusive) throws IOException {
        Held h = HELD.get(file);
        if (h != null) {
            if (exclusive || h.exclusive) {
                return Optional.empty();
            }
            h.users++;
            return Optional.of(() -> release(file));
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock(0, Long.MAX_VALUE, !exclusive);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            return Optional.empty();
        }
        Held fresh = new Held(ch, lock, exclusive);
        fresh.users = 1;
        HELD.put(file, fresh);
        return Optional.of(() -> release(file));
    }

    /** Takes the lock of {@code file}, waiting while others hold it in a conflicting way. */
    static AutoCloseable acquire(Path file, boolean exclusive) throws IOException {
        for (;;) {
            Optional<AutoCloseable> got = tryAcquire(file, exclusive);
            if (got.isPresent()) {
                return got.get();
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + file);
            }
        }
    }

    private static synchronized void release(Path file) throws IOException {
        Held h = HELD.get(file);
        if (h != null && --h.users == 0) {
            HELD.remove(file);
            h.channel.close(); // releases the lock
        }
    }
}
