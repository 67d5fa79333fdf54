package dev.berth.runtime.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Paths resolved by the kernel inside a directory taken as the root: {@code openat2(2)} with
 * {@code RESOLVE_IN_ROOT} (Linux 5.6), so that {@code ..} and every symlink, absolute or not, stay below it,
 * as if the process were chrooted there. What berth cp does in a container's root is done through the
 * {@link Fd}s this opens: a directory's entries are reached as {@code /proc/self/fd/N/NAME} (the kernel
 * jumps to exactly that directory; only NAME is looked up) with calls that never follow NAME itself.
 */
public final class InRoot {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final long SYS_OPENAT2 = 437;
    private static final int AT_FDCWD = -100;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_NOFOLLOW = 0400000;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_PATH = 010000000;
    private static final long RESOLVE_IN_ROOT = 0x10;
    private static final int EAGAIN = 11;
    public static final int ENOENT = 2;
    public static final int ENOTDIR = 20;
    public static final int ELOOP = 40;

    private InRoot() {}

    private static final class Calls {
        static final MethodHandle SYSCALL = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG),
                Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
        static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** An open file descriptor (O_PATH): a directory or file of a root, pinned whatever is renamed later. */
    public record Fd(int fd) implements AutoCloseable {
        /** The path that is this very file, for the JDK's calls ({@code /proc/self/fd/N}). */
        public Path path() {
            return Path.of("/proc/self/fd/" + fd);
        }

        /** The entry NAME of this directory (only NAME is looked up, never a symlink on the way). */
        public Path child(String name) {
            return path().resolve(name);
        }

        @Override
        public void close() {
            try {
                int ignored = (int) Calls.CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** Opens the directory {@code root} (a host path, e.g. {@code /proc/PID/root}) to resolve paths in. */
    public static Fd openRoot(Path root) throws IOException {
        return open(AT_FDCWD, root.toString(), O_PATH | O_DIRECTORY, 0, root.toString());
    }

    /**
     * Opens {@code path} (absolute or relative, taken below {@code root} either way) inside {@code root};
     * its last component followed when {@code follow}; a directory only when {@code directory}.
     */
    public static Fd open(Fd root, String path, boolean follow, boolean directory) throws IOException {
        String rel = path.replaceFirst("^/+", "");
        return open(root.fd(), rel.isEmpty() ? "." : rel,
                O_PATH | (follow ? 0 : O_NOFOLLOW) | (directory ? O_DIRECTORY : 0), RESOLVE_IN_ROOT, path);
    }

    private static Fd open(int dirfd, String path, int flags, long resolve, String what) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment how = arena.allocate(JAVA_LONG, 3);
            how.setAtIndex(JAVA_LONG, 0, (long) (flags | O_CLOEXEC));
            how.setAtIndex(JAVA_LONG, 1, 0L);
            how.setAtIndex(JAVA_LONG, 2, resolve);
            MemorySegment p = arena.allocateFrom(path, StandardCharsets.UTF_8);
            for (int attempt = 0; ; attempt++) {
                long fd = (long) Calls.SYSCALL.invokeExact(state, SYS_OPENAT2, dirfd, p, how, 24L);
                if (fd >= 0) {
                    return new Fd((int) fd);
                }
                int errno = (int) ERRNO.get(state, 0L);
                if (errno != EAGAIN || attempt > 100) { // EAGAIN: a rename raced the lookup
                    throw new dev.berth.layers.Posix.Failure(what + ": " + Linux.strerror(errno), errno);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
