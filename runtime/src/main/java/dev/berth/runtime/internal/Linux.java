package dev.berth.runtime.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

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
import java.util.OptionalInt;

/**
 * The few Linux calls the JVM side of the runtime makes, through the Foreign Function & Memory API, all
 * off the path of a container's start: signals to processes left behind, and detaching stale mounts
 * (xattrs, mknod and the like are in the layers module's Posix; the helper is started with the JDK's
 * process launcher, see {@link Monitor}). Each call's handle is made on first use, so a command pays only
 * for what it calls. Errors are {@link IOException}s naming the call and the errno text.
 */
public final class Linux {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    public static final int ESRCH = 3;
    public static final int EINVAL = 22;
    public static final int ENOENT = 2;

    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    public static final int MNT_DETACH = 2;


    private Linux() {}

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private static MethodHandle withErrno(String name, FunctionDescriptor fd) {
        return handle(name, fd, CAPTURE_ERRNO);
    }

    private static final class Proc {
        static final MethodHandle KILL = withErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private static final class Fs {
        static final MethodHandle UMOUNT2 = withErrno("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class Err {
        static final MethodHandle STRERROR = handle("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
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

    // ------------------------------------------------------------------ processes

    /** How a process ended: its exit code, or the signal that killed it. */
    public record WaitStatus(OptionalInt exitCode, OptionalInt signal) {
        /** docker's convention: the exit code, or 128 + the signal. */
        public int dockerCode() {
            return exitCode.isPresent() ? exitCode.getAsInt() : 128 + signal.orElse(0);
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
