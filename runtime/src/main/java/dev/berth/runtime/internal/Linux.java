package dev.berth.runtime.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;

/**
 * The few Linux calls the JVM side of the runtime makes, through the Foreign Function & Memory API:
 * spawning the helper with exactly the descriptors it needs (ProcessBuilder passes only stdio and cannot
 * put the child in its own process group), the control socket, waiting, signals, detaching stale mounts
 * (xattrs, mknod and the like are in the layers module's Posix). Each call's handle is made on first use, so a command pays only for what it
 * calls. Errors are {@link IOException}s naming the call and the errno text.
 */
public final class Linux {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    public static final int EINTR = 4;
    public static final int ECHILD = 10;
    public static final int ESRCH = 3;
    public static final int EINVAL = 22;
    public static final int ENOENT = 2;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_CREAT = 0100;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_CLOEXEC = 02000000;

    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    public static final int MNT_DETACH = 2;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = O_CLOEXEC;
    private static final short POSIX_SPAWN_SETPGROUP = 0x02;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    /** glibc's posix_spawn_file_actions_t and posix_spawnattr_t are 80 and 336 bytes; leave room. */
    private static final long OPAQUE_SIZE = 1024;
    private static final long SIGSET_SIZE = 128;

    private Linux() {}

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private static MethodHandle withErrno(String name, FunctionDescriptor fd) {
        return handle(name, fd, CAPTURE_ERRNO);
    }

    // One holder per group of calls: the handles are created when a holder is first touched.
    private static final class Spawn {
        static final MethodHandle SPAWN = handle("posix_spawn", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle FA_INIT = handle("posix_spawn_file_actions_init",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle FA_DESTROY = handle("posix_spawn_file_actions_destroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle FA_DUP2 = handle("posix_spawn_file_actions_adddup2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle FA_OPEN = handle("posix_spawn_file_actions_addopen",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle ATTR_INIT = handle("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle ATTR_DESTROY = handle("posix_spawnattr_destroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle ATTR_FLAGS = handle("posix_spawnattr_setflags",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
        static final MethodHandle ATTR_PGROUP = handle("posix_spawnattr_setpgroup",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle ATTR_SIGMASK = handle("posix_spawnattr_setsigmask",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle ATTR_SIGDEFAULT = handle("posix_spawnattr_setsigdefault",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    private static final class Io {
        static final MethodHandle SOCKETPAIR = withErrno("socketpair",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle READ = withErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle WRITE = withErrno("write",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle CLOSE = withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private static final class Proc {
        static final MethodHandle WAITPID = withErrno("waitpid",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle KILL = withErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private static final class Fs {
        static final MethodHandle UMOUNT2 = withErrno("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class Err {
        static final MethodHandle STRERROR = handle("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /**
     * Creates the bindings a container start needs. Making a downcall handle costs milliseconds, so
     * {@code berth run} does it on another thread while it reads the image.
     */
    public static void prepare() {
        // reading a holder's field initialises the holder, which makes its handles
        java.util.Objects.requireNonNull(Spawn.SPAWN);
        java.util.Objects.requireNonNull(Io.SOCKETPAIR);
        java.util.Objects.requireNonNull(Proc.WAITPID);
    }

    /** The C library's text for an errno value ("No such file or directory"). */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Err.STRERROR.invokeExact(errno);
            return s.reinterpret(1024).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static IOException error(String call, int errno) {
        return new IOException(call + ": " + strerror(errno));
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ------------------------------------------------------------------ descriptors

    /** A connected pair of stream sockets, both close-on-exec. */
    public static int[] socketPair() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = (int) Io.SOCKETPAIR.invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
            if (r < 0) {
                throw error("socketpair", errno(state));
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads up to {@code buffer.length} bytes; 0 at end of stream. Retries EINTR. */
    public static int read(int fd, byte[] buffer) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(buffer.length);
            while (true) {
                long n = (long) Io.READ.invokeExact(state, fd, buf, (long) buffer.length);
                if (n >= 0) {
                    MemorySegment.copy(buf, JAVA_BYTE, 0, buffer, 0, (int) n);
                    return (int) n;
                }
                int errno = errno(state);
                if (errno != EINTR) {
                    throw error("read", errno);
                }
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes all of {@code bytes}. */
    public static void write(int fd, byte[] bytes) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE, 0, bytes.length);
            long off = 0;
            while (off < bytes.length) {
                long n = (long) Io.WRITE.invokeExact(state, fd, buf.asSlice(off), bytes.length - off);
                if (n < 0) {
                    int errno = errno(state);
                    if (errno == EINTR) {
                        continue;
                    }
                    throw error("write", errno);
                }
                off += n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) Io.CLOSE.invokeExact(arena.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ processes

    /** What a spawned process gets as one of its descriptors. */
    public sealed interface FdAction {
        /** Open {@code path} with {@code flags} (mode 0644 when created). */
        record Open(int target, String path, int flags) implements FdAction {}

        /** Duplicate one of our descriptors. */
        record Dup(int target, int source) implements FdAction {}
    }

    /**
     * Spawns {@code argv} with an empty environment, in a new process group of its own, with every signal
     * unblocked and at its default action; descriptors 0 to 2 are ours unless {@code actions} say otherwise,
     * other descriptors only as {@code actions} give them. The calling thread becomes the child's parent
     * thread (which matters for {@code PR_SET_PDEATHSIG}). Returns the child's pid.
     */
    public static int spawn(String path, List<String> argv, List<FdAction> actions) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fa = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment attr = arena.allocate(OPAQUE_SIZE, 16);
            check("posix_spawn_file_actions_init", (int) Spawn.FA_INIT.invokeExact(fa));
            check("posix_spawnattr_init", (int) Spawn.ATTR_INIT.invokeExact(attr));
            try {
                for (FdAction a : actions) {
                    switch (a) {
                        case FdAction.Open o -> check("posix_spawn_file_actions_addopen",
                                (int) Spawn.FA_OPEN.invokeExact(fa, o.target(), arena.allocateFrom(o.path()),
                                        o.flags(), 0644));
                        case FdAction.Dup d -> check("posix_spawn_file_actions_adddup2",
                                (int) Spawn.FA_DUP2.invokeExact(fa, d.source(), d.target()));
                    }
                }
                MemorySegment none = arena.allocate(SIGSET_SIZE, 8);
                MemorySegment all = arena.allocate(SIGSET_SIZE, 8);
                for (int sig = 1; sig <= 64; sig++) {
                    if (sig != 32 && sig != 33) { // glibc's internal signals
                        long word = all.get(JAVA_LONG, ((sig - 1) / 64) * 8L);
                        all.set(JAVA_LONG, ((sig - 1) / 64) * 8L, word | (1L << ((sig - 1) % 64)));
                    }
                }
                short flags = (short) (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
                check("posix_spawnattr_setflags", (int) Spawn.ATTR_FLAGS.invokeExact(attr, flags));
                check("posix_spawnattr_setpgroup", (int) Spawn.ATTR_PGROUP.invokeExact(attr, 0));
                check("posix_spawnattr_setsigmask", (int) Spawn.ATTR_SIGMASK.invokeExact(attr, none));
                check("posix_spawnattr_setsigdefault", (int) Spawn.ATTR_SIGDEFAULT.invokeExact(attr, all));
                MemorySegment args = arena.allocate(ADDRESS, argv.size() + 1L);
                for (int i = 0; i < argv.size(); i++) {
                    args.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i)));
                }
                args.setAtIndex(ADDRESS, argv.size(), MemorySegment.NULL);
                MemorySegment env = arena.allocate(ADDRESS, 1);
                env.setAtIndex(ADDRESS, 0, MemorySegment.NULL);
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) Spawn.SPAWN.invokeExact(pid, arena.allocateFrom(path), fa, attr, args, env);
                if (r != 0) {
                    throw error("posix_spawn " + path, r);
                }
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) Spawn.FA_DESTROY.invokeExact(fa);
                ignored = (int) Spawn.ATTR_DESTROY.invokeExact(attr);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void check(String call, int result) throws IOException {
        if (result != 0) {
            throw error(call, result);
        }
    }

    /** How a process ended: its exit code, or the signal that killed it. */
    public record WaitStatus(OptionalInt exitCode, OptionalInt signal) {
        /** docker's convention: the exit code, or 128 + the signal. */
        public int dockerCode() {
            return exitCode.isPresent() ? exitCode.getAsInt() : 128 + signal.orElse(0);
        }
    }

    /** Waits for a child to end (blocking the calling thread). */
    public static WaitStatus waitFor(int pid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment status = arena.allocate(JAVA_INT);
            while (true) {
                int r = (int) Proc.WAITPID.invokeExact(state, pid, status, 0);
                if (r == pid) {
                    int s = status.get(JAVA_INT, 0);
                    int sig = s & 0x7f;
                    return sig == 0 ? new WaitStatus(OptionalInt.of((s >> 8) & 0xff), OptionalInt.empty())
                            : new WaitStatus(OptionalInt.empty(), OptionalInt.of(sig));
                }
                int errno = errno(state);
                if (errno != EINTR) {
                    throw error("waitpid " + pid, errno);
                }
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends a signal; returns false when the process does not exist (any more). */
    public static boolean kill(long pid, int signal) throws IOException {
        if (pid <= 0) {
            throw new IllegalArgumentException("refusing to signal pid " + pid);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) Proc.KILL.invokeExact(state, (int) pid, signal);
            if (r == 0) {
                return true;
            }
            int errno = errno(state);
            if (errno == ESRCH) {
                return false;
            }
            throw error("kill " + pid, errno);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ file systems

    /** Detaches the mount at {@code path} (lazy unmount); returns false when nothing is mounted there. */
    public static boolean detach(String path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) Fs.UMOUNT2.invokeExact(state, arena.allocateFrom(path), MNT_DETACH);
            if (r == 0) {
                return true;
            }
            int errno = errno(state);
            if (errno == EINVAL || errno == ENOENT) {
                return false;
            }
            throw error("umount " + path, errno);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
