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
import java.nio.file.Path;
import java.util.Optional;

/**
 * The few system calls the JDK lacks and layers need, through the Foreign Function & Memory API: mknod
 * (overlay whiteouts are 0:0 character devices, image layers may hold device nodes) and extended
 * attributes on the link itself (opaque directories, file capabilities). Failures are
 * {@link IOException}s with the call, the path and {@code strerror}.
 */
public final class Posix {
    public static final int S_IFIFO = 0010000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    private static final int ENODATA = 61;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** Created on first use: making a downcall handle costs milliseconds, and most commands need few. */
    private static final class Mknod {
        static final MethodHandle H = handle("mknod",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    }

    private static final class Lsetxattr {
        static final MethodHandle H = handle("lsetxattr",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }

    private static final class Lgetxattr {
        static final MethodHandle H = handle("lgetxattr",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG));
    }

    private static final class Chmod {
        static final MethodHandle H = handle("chmod",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }

    private static final class Fchmodat {
        static final MethodHandle H = handle("fchmodat", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static final class Lchown {
        static final MethodHandle H = handle("lchown",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static final class Utimensat {
        static final MethodHandle H = handle("utimensat",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
    }

    private static final class Strerror {
        static final MethodHandle H = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }


    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    private Posix() {}

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc lacks " + name));
        return LINKER.downcallHandle(symbol, fd, CAPTURE_ERRNO);
    }

    /** The Linux device number of major:minor, as {@code makedev} computes it. */
    public static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0xfffff000L) << 32) | ((ma & 0xfffL) << 8) | ((mi & 0xffffff00L) << 12) | (mi & 0xffL);
    }

    /** The major number of a Linux device number. */
    public static int major(long rdev) {
        return (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL));
    }

    /** The minor number of a Linux device number. */
    public static int minor(long rdev) {
        return (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL));
    }

    /** Creates a device node or FIFO; {@code mode} holds the type ({@link #S_IFCHR}, ...) and permission bits. */
    public static void mknod(Path path, int mode, int major, int minor) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Mknod.H.invokeExact(state, cstring(arena, path.toString()), mode, makedev(major, minor));
            if (rc != 0) {
                throw failure("mknod", path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets permission bits without opening the file (the JDK opens it, which blocks on a FIFO and may
     * fail on a device).
     */
    public static void chmod(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Chmod.H.invokeExact(state, cstring(arena, path.toString()), mode);
            if (rc != 0) {
                throw failure("chmod", path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets the permission bits of {@code path} itself, never following it: a symlink is refused (EOPNOTSUPP),
     * which is what a path that must not lead elsewhere wants.
     */
    public static void chmodNoFollow(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Fchmodat.H.invokeExact(state, AT_FDCWD, cstring(arena, path.toString()), mode,
                    AT_SYMLINK_NOFOLLOW);
            if (rc != 0) {
                throw failure("chmod", path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets owner and group of {@code path} itself (a symlink is not followed) in one call. */
    public static void lchown(Path path, int uid, int gid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Lchown.H.invokeExact(state, cstring(arena, path.toString()), uid, gid);
            if (rc != 0) {
                throw failure("lchown", path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets the modification time of {@code path} itself, never following a symlink and never opening it;
     * the access time is left as it is.
     */
    public static void setMtime(Path path, java.time.Instant mtime) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment times = arena.allocate(ValueLayout.JAVA_LONG, 4);
            times.setAtIndex(ValueLayout.JAVA_LONG, 0, 0L);
            times.setAtIndex(ValueLayout.JAVA_LONG, 1, UTIME_OMIT);
            times.setAtIndex(ValueLayout.JAVA_LONG, 2, mtime.getEpochSecond());
            times.setAtIndex(ValueLayout.JAVA_LONG, 3, mtime.getNano());
            int rc = (int) Utimensat.H.invokeExact(state, AT_FDCWD, cstring(arena, path.toString()), times,
                    AT_SYMLINK_NOFOLLOW);
            if (rc != 0) {
                throw failure("utimensat", path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets an extended attribute on {@code path} itself (not following a symlink). */
    public static void setXattr(Path path, String name, byte[] value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            int rc = (int) Lsetxattr.H.invokeExact(state, cstring(arena, path.toString()), cstring(arena, name), v,
                    (long) value.length, 0);
            if (rc != 0) {
                throw failure("setxattr " + name, path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reads an extended attribute of {@code path} itself; empty when it is not set. */
    public static Optional<byte[]> getXattr(Path path, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment buf = arena.allocate(65536);
            long n = (long) Lgetxattr.H.invokeExact(state, cstring(arena, path.toString()), cstring(arena, name), buf,
                    65536L);
            if (n < 0) {
                int errno = errno(state);
                if (errno == ENODATA) {
                    return Optional.empty();
                }
                throw failure("getxattr " + name, path, errno);
            }
            return Optional.of(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment cstring(Arena arena, String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_8);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** The C library's message for an errno value. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Strerror.H.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** EINVAL: from {@link #lchown}, an id the process's user namespace does not map. */
    public static final int EINVAL = 22;

    /** A failed call, with its errno. */
    public static final class Failure extends IOException {
        private final int errno;

        /** A failed call's message and errno (also for the runtime's own calls, as its InRoot). */
        public Failure(String message, int errno) {
            super(message);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private static IOException failure(String call, Path path, int errno) {
        return new Failure(call + " " + path + ": " + strerror(errno), errno);
    }
}
