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

    private static final MethodHandle OPEN = LINKER.downcallHandle(
            LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle GETDENTS = LINKER.downcallHandle(
            LINKER.defaultLookup().find("getdents64").orElseThrow(() -> new UnsatisfiedLinkError("libc lacks getdents64")),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int O_RDONLY_DIRECTORY_CLOEXEC = 0 | 0200000 | 02000000;
    private static final int DENTS = 1 << 16;

    /** A directory entry and its stat; ordered by name ({@link String#compareTo}). */
    public record Entry(String name, Stat stat) implements Comparable<Entry> {
        @Override
        public int compareTo(Entry other) {
            return name.compareTo(other.name);
        }
    }

    /**
     * A thread's buffer for directory entries, and its copy on the heap: entries are parsed from the copy,
     * since a byte read from a segment costs many times an array's before the JIT compiles the loop.
     */
    private static final class Dents {
        final MemorySegment buf = Arena.ofAuto().allocate(DENTS, 8);
        final byte[] heap = new byte[DENTS];
    }

    private static final ThreadLocal<Dents> DENTS_BUFFER = ThreadLocal.withInitial(Dents::new);

    /**
     * The entries of directory {@code dir} (not {@code .} and {@code ..}), each with its {@code lstat}, in
     * the order the directory lists them: {@code getdents64(2)} many at a time, then one {@code statx(2)}
     * each relative to the directory (no path is walked again). An entry gone before its stat is left out.
     * The list is the caller's to sort or change.
     *
     * @throws NoSuchFileException when {@code dir} does not exist
     */
    public static java.util.List<Entry> list(String dir) throws IOException {
        Buffers b = BUFFERS.get();
        byte[] path = dir.getBytes(StandardCharsets.UTF_8);
        if (path.length > PATH_MAX) {
            throw new IOException(dir + ": file name too long");
        }
        MemorySegment.copy(path, 0, b.path, ValueLayout.JAVA_BYTE, 0, path.length);
        b.path.set(ValueLayout.JAVA_BYTE, path.length, (byte) 0);
        int fd;
        try {
            fd = (int) OPEN.invokeExact(b.state, b.path, O_RDONLY_DIRECTORY_CLOEXEC, 0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (fd < 0) {
            int errno = (int) ERRNO.get(b.state, 0L);
            if (errno == ENOENT) {
                throw new NoSuchFileException(dir);
            }
            throw new Posix.Failure("open " + dir + ": " + Posix.strerror(errno), errno);
        }
        try {
            Dents d = DENTS_BUFFER.get();
            MemorySegment buf = d.buf;
            byte[] dents = d.heap;
            java.util.List<Entry> out = new java.util.ArrayList<>();
            while (true) {
                long n;
                try {
                    n = (long) GETDENTS.invokeExact(b.state, fd, buf, (long) DENTS);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
                if (n < 0) {
                    int errno = (int) ERRNO.get(b.state, 0L);
                    throw new Posix.Failure("getdents64 " + dir + ": " + Posix.strerror(errno), errno);
                }
                if (n == 0) {
                    return out;
                }
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, dents, 0, (int) n);
                for (int off = 0; off < n; ) {
                    // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2, little-endian), d_type (1), d_name
                    int reclen = (dents[off + 16] & 0xff) | (dents[off + 17] & 0xff) << 8;
                    int nameAt = off + 19;
                    int len = 0;
                    while (dents[nameAt + len] != 0) {
                        len++;
                    }
                    off += reclen;
                    if (dents[nameAt] == '.' && (len == 1 || len == 2 && dents[nameAt + 1] == '.')) {
                        continue;
                    }
                    MemorySegment.copy(dents, nameAt, b.path, ValueLayout.JAVA_BYTE, 0, len);
                    b.path.set(ValueLayout.JAVA_BYTE, len, (byte) 0);
                    String entry = new String(dents, nameAt, len, StandardCharsets.UTF_8);
                    Stat st = statAt(b, fd, dir, entry);
                    if (st != null) {
                        out.add(new Entry(entry, st));
                    }
                }
            }
        } finally {
            try {
                int ignored = (int) CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

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
        Stat s = statAt(b, AT_FDCWD, null, path);
        if (s == null) {
            throw new NoSuchFileException(path);
        }
        return s;
    }

    /**
     * statx of the name in {@code b.path} relative to {@code dirfd}; null when it does not exist. An error
     * names {@code dir/name} ({@code name} alone without a {@code dir}), made only then.
     */
    private static Stat statAt(Buffers b, int dirfd, String dir, String name) throws IOException {
        int rc;
        try {
            rc = (int) STATX.invokeExact(b.state, dirfd, b.path, AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_MTIME_INO_SIZE,
                    b.statx);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc != 0) {
            int errno = (int) ERRNO.get(b.state, 0L);
            if (errno == ENOENT || errno == ENOTDIR) {
                return null;
            }
            throw new Posix.Failure("statx " + (dir == null ? name : dir + "/" + name) + ": " + Posix.strerror(errno),
                    errno);
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
