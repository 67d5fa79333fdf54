package dev.berth.layers;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;

/**
 * {@code lstat} for walks of many files (a build context's): one {@code statx(2)} per file through buffers
 * each thread keeps, so a stat costs one system call and one small record, where
 * {@code Files.readAttributes} builds a map, a {@code FileTime} and boxed numbers. {@code statx}'s layout is
 * the same on every architecture, unlike {@code struct stat}'s.
 */
public final class FileStats {
    /** What a walk compares: type and permission bits, size, modification time in nanoseconds, inode. */
    public record Stat(int mode, long size, long mtimeNanos, long inode) {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle STATX = LINKER.downcallHandle(
            LINKER.defaultLookup().find("statx").orElseThrow(() -> new UnsatisfiedLinkError("libc lacks statx")),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS),
            Linker.Option.captureCallState("errno"));

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int STATX_TYPE_MODE_MTIME_INO_SIZE = 0x1 | 0x2 | 0x40 | 0x100 | 0x200;
    private static final int ENOENT = 2;
    private static final int ENOTDIR = 20;
    private static final int PATH_MAX = 4096;

    /** A thread's buffers: the path (NUL-terminated), the statx result, the errno. */
    private static final class Buffers {
        final Arena arena = Arena.ofAuto();
        final MemorySegment path = arena.allocate(PATH_MAX + 1);
        final MemorySegment statx = arena.allocate(256, 8);
        final MemorySegment state = arena.allocate(CAPTURE);
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private FileStats() {}

    /**
     * The stat of {@code path} itself (a symlink is not followed).
     *
     * @throws NoSuchFileException when it (or a directory on the way) does not exist
     */
    public static Stat lstat(String path) throws IOException {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > PATH_MAX) {
            throw new IOException(path + ": file name too long");
        }
        Buffers b = BUFFERS.get();
        MemorySegment.copy(bytes, 0, b.path, ValueLayout.JAVA_BYTE, 0, bytes.length);
        b.path.set(ValueLayout.JAVA_BYTE, bytes.length, (byte) 0);
        int rc;
        try {
            rc = (int) STATX.invokeExact(b.state, AT_FDCWD, b.path, AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_MTIME_INO_SIZE,
                    b.statx);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc != 0) {
            int errno = (int) ERRNO.get(b.state, 0L);
            if (errno == ENOENT || errno == ENOTDIR) {
                throw new NoSuchFileException(path);
            }
            throw new Posix.Failure("statx " + path + ": " + Posix.strerror(errno), errno);
        }
        MemorySegment s = b.statx;
        int mode = Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT, 28));
        long ino = s.get(ValueLayout.JAVA_LONG, 32);
        long size = s.get(ValueLayout.JAVA_LONG, 40);
        long sec = s.get(ValueLayout.JAVA_LONG, 112);
        int nsec = s.get(ValueLayout.JAVA_INT, 120);
        return new Stat(mode, size, sec * 1_000_000_000L + nsec, ino);
    }
}
