package dev.berth.layers.internal;

import dev.berth.layers.LayersException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The store's locks, across processes (POSIX file locks) and across threads of this JVM (which file locks
 * do not cover: one JVM may hold only one lock per file).
 *
 * <ul>
 *   <li>The index lock serialises read-modify-write of {@code index.json}.
 *   <li>The gc lock is held shared by every process that is writing to the store and exclusively by
 *       prune, so prune never deletes a blob that a running build or pull is about to reference.
 * </ul>
 */
public final class StoreLocks {
    private static final Map<Path, ReentrantLock> INDEX_LOCKS = new ConcurrentHashMap<>();
    private static final Map<Path, Shared> SHARED = new HashMap<>();

    private StoreLocks() {}

    /** The body of a locked section. */
    @FunctionalInterface
    public interface Body<T> {
        T run() throws IOException;
    }

    public static <T> T withIndexLock(Path lockFile, Body<T> body) throws IOException {
        ReentrantLock jvm = INDEX_LOCKS.computeIfAbsent(lockFile, p -> new ReentrantLock());
        jvm.lock();
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            return body.run();
        } finally {
            jvm.unlock();
        }
    }

    /** Registers this JVM as a writer; the first registration takes the shared file lock. */
    public static synchronized void acquireShared(Path lockFile) {
        Shared s = SHARED.get(lockFile);
        if (s == null) {
            try {
                FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
                FileLock lock = ch.lock(0, Long.MAX_VALUE, true);
                s = new Shared(ch, lock);
                SHARED.put(lockFile, s);
            } catch (IOException e) {
                throw new LayersException("cannot lock the image store (" + lockFile + "): " + e.getMessage(), e);
            }
        }
        s.holders++;
    }

    public static synchronized void releaseShared(Path lockFile) {
        Shared s = SHARED.get(lockFile);
        if (s == null) {
            return;
        }
        if (--s.holders == 0) {
            SHARED.remove(lockFile);
            try {
                s.lock.release();
                s.channel.close();
            } catch (IOException ignored) {
                // closing the channel releases the lock in any case
            }
        }
    }

    /**
     * Runs {@code body} holding the gc lock exclusively: it waits for writers in other processes. Within
     * this JVM, only the caller itself ({@code callerHolds}) may be a writer.
     */
    public static <T> T withExclusiveGc(Path lockFile, boolean callerHolds, Body<T> body) throws IOException {
        synchronized (StoreLocks.class) {
            Shared s = SHARED.get(lockFile);
            int others = s == null ? 0 : s.holders - (callerHolds ? 1 : 0);
            if (others > 0) {
                throw new LayersException("cannot prune while this process is writing to the store");
            }
            if (s != null) {
                // Upgrade: drop our shared lock, take the exclusive one, and take the shared one back after.
                s.lock.release();
                s.channel.close();
                SHARED.remove(lockFile);
            }
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return body.run();
            } finally {
                if (s != null) {
                    acquireShared(lockFile);
                    SHARED.get(lockFile).holders = s.holders;
                }
            }
        }
    }

    private static final class Shared {
        final FileChannel channel;
        final FileLock lock;
        int holders;

        Shared(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }
    }
}
