package dev.berth.runtime.internal;

import dev.berth.runtime.ContainerException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One running berth-helper, seen from the JVM. A dedicated platform thread starts it with the JDK's process
 * launcher, accepts its connection on a Unix socket (the helper's fd 3), writes the spec, reads its report
 * lines and finally waits for it. That thread lives exactly as long as the helper: the helper's
 * parent-death signal is tied to the thread that started it, so a short-lived or pooled thread would kill
 * the container when it ended; and if the JVM dies, the helper dies and takes the container with it.
 *
 * <p>No native call is made here: the first use of the Foreign Function API costs a cold JVM about a tenth
 * of a second, more than the rest of a container's start.
 */
public final class Monitor {
    /** What the helper reported and how it ended. */
    public record Outcome(Optional<HelperError> error, OptionalInt exitCode, OptionalInt signal,
                          Linux.WaitStatus helperStatus) {
        /** docker's exit code: the container's status, 128+N for signal N, or the error's code. */
        public int dockerCode() {
            if (error.isPresent()) {
                return error.get().code();
            }
            if (exitCode.isPresent()) {
                return exitCode.getAsInt();
            }
            if (signal.isPresent()) {
                return 128 + signal.getAsInt();
            }
            return helperStatus.dockerCode();
        }
    }

    /** A failure the helper reported before the command ran, with its exit code (125, 126, 127). */
    public record HelperError(int code, String message) {}

    /**
     * Where the helper's standard streams go: each an inherited descriptor, a file, /dev/null or a pipe
     * ({@link #output}); with {@code mergeErrors}, stderr goes wherever stdout goes.
     */
    public record Streams(ProcessBuilder.Redirect stdin, ProcessBuilder.Redirect stdout,
                          ProcessBuilder.Redirect stderr, boolean mergeErrors) {}

    private static final int SIGKILL = 9;

    private final CompletableFuture<Process> helper = new CompletableFuture<>();
    private final CompletableFuture<OptionalLong> containerPid = new CompletableFuture<>();
    /** The monitor's pid: the helper's, or for a detachable one the child it forks and reports. */
    private final CompletableFuture<Long> monitorPid = new CompletableFuture<>();
    private volatile boolean detachable;
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    /** True once the helper answered "detached"; false when it ended first. */
    private final CompletableFuture<Boolean> detached = new CompletableFuture<>();
    private volatile SocketChannel control;
    /** The ports the helper listens on, in docker's notation, as it reported them before the pid. */
    private final List<String> ports = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Monitor() {}

    /**
     * Starts the helper; returns once it runs (or throws when it could not be started).
     *
     * @param streams what the helper gets as fds 0-2 (fd 3 is its connection to this monitor)
     */
    public static Monitor start(Path helperPath, byte[] spec, Streams streams, String threadName) {
        return start(helperPath, spec, streams, threadName, false);
    }

    /**
     * {@link #start(Path, byte[], Streams, String)}; with {@code detachable} the helper runs in a session of
     * its own, away from berth's terminal, and its spec must have a keeper (see {@link #detach}).
     */
    public static Monitor start(Path helperPath, byte[] spec, Streams streams, String threadName, boolean detachable) {
        Monitor m = new Monitor();
        Thread.ofPlatform().name(threadName).daemon(true).start(() -> m.run(helperPath, spec, streams, detachable));
        try {
            m.helper.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new ContainerException("cannot start the native helper " + helperPath + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException("interrupted while starting the container");
        }
        return m;
    }

    /** The monitor's pid (outside the container; for a detachable helper, the child it forked). */
    public int helperPid() {
        return monitorPid.join().intValue();
    }

    /** What the container writes to a stdout redirected to {@link ProcessBuilder.Redirect#PIPE}. */
    public java.io.InputStream output() {
        return helper.join().getInputStream();
    }

    /** The host pid of the container's PID 1, once the helper reported it; empty if it never did. */
    public OptionalLong containerPid() {
        return containerPid.join();
    }

    /**
     * The published ports the helper listens on ({@code tcp 0.0.0.0 8080 80}: protocol, host address, host
     * port, container port), complete once {@link #containerPid()} has returned.
     */
    public List<String> ports() {
        return List.copyOf(ports);
    }

    /** Blocks until the helper has exited. */
    public Outcome await() {
        return outcome.join();
    }

    /** Completes on the monitor thread when the helper has exited (and was reaped). */
    public CompletableFuture<Outcome> outcome() {
        return outcome;
    }

    public boolean isDone() {
        return outcome.isDone();
    }

    /**
     * Tells a detachable helper that berth recorded its container: from then on it keeps the container
     * without this JVM (its death no longer kills it). True once it said so; false when the container
     * ended first (then {@link #outcome} tells how, as for any container).
     */
    public boolean detach() {
        SocketChannel c = control;
        if (c != null && !outcome.isDone()) {
            try {
                writeFully(c, "detach\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // it is ending: its outcome says how
            }
        }
        return detached.join();
    }

    /**
     * This JVM stops watching a detached container (before berth exits): the control connection is closed,
     * so no thread of this JVM waits on it; the helper keeps the container as before. The outcome is
     * no longer known here.
     */
    public void release() {
        if (detached.getNow(false)) {
            closeQuietly(control);
        }
    }

    /** Whether the helper keeps its container without this JVM. */
    public boolean isDetached() {
        return detached.getNow(false);
    }

    /**
     * Sends a signal to the container: SIGKILL kills the helper (whose container dies with it); any other
     * signal is passed to the helper, which forwards it. False when the helper already exited.
     */
    public boolean signal(int signal) {
        if (outcome.isDone()) {
            return false;
        }
        if (signal == SIGKILL) {
            if (!detachable) {
                helper.join().destroyForcibly();
                return true;
            }
            try {
                Linux.kill(monitorPid.join(), SIGKILL);
                return true;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
        SocketChannel c = control;
        if (c == null) {
            return false;
        }
        try {
            synchronized (c) {
                ByteBuffer b = ByteBuffer.wrap(("signal " + signal + "\n").getBytes(StandardCharsets.US_ASCII));
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
            return true;
        } catch (IOException e) {
            return false; // the helper is gone: nothing to signal
        }
    }

    private void run(Path helperPath, byte[] spec, Streams streams, boolean detachable) {
        this.detachable = detachable;
        Path dir = null;
        Process process;
        SocketChannel channel = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            // a private directory (0700): nobody else can connect in the moment before the helper does
            dir = Files.createTempDirectory("berth-ctl-");
            Path socket = dir.resolve("s");
            server.bind(UnixDomainSocketAddress.of(socket));
            java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of(helperPath.toString(), "--parent",
                    Long.toString(ProcessHandle.current().pid()), "--control", socket.toString()));
            if (detachable) {
                argv.add("--detached");
            }
            ProcessBuilder pb = new ProcessBuilder(argv)
                    .redirectInput(streams.stdin()).redirectOutput(streams.stdout()).redirectError(streams.stderr())
                    .redirectErrorStream(streams.mergeErrors());
            process = pb.start();
            // a helper that dies before it connects must not leave accept() waiting (a detachable one's first
            // process exits 0 once it connected and forked the monitor: then the connection is there)
            process.onExit().thenAccept(p -> {
                if (!detachable || p.exitValue() != 0) {
                    closeQuietly(server);
                }
            });
            try {
                channel = server.accept();
            } catch (IOException e) {
                channel = null; // it exited first: its exit status tells why
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(dir);
            helper.completeExceptionally(e);
            monitorPid.completeExceptionally(e);
            detached.complete(false);
            return;
        }
        if (!detachable) {
            monitorPid.complete(process.pid());
        }
        deleteQuietly(dir);
        control = channel;
        helper.complete(process);
        Optional<HelperError> error = Optional.empty();
        OptionalInt code = OptionalInt.empty();
        OptionalInt signal = OptionalInt.empty();
        if (channel != null) {
            try {
                writeFully(channel, spec);
                BufferedReader lines = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                        StandardCharsets.UTF_8));
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    String[] w = line.split(" ", 3);
                    switch (w[0]) {
                        case "monitor" -> monitorPid.complete(Long.parseLong(w[1]));
                        case "pid" -> containerPid.complete(OptionalLong.of(Long.parseLong(w[1])));
                        case "detached" -> detached.complete(true);
                        case "port" -> ports.add(w[1] + " " + w[2]);
                        case "error" -> error = Optional.of(new HelperError(Integer.parseInt(w[1]),
                                w.length > 2 ? w[2] : "the native helper failed"));
                        case "exited" -> {
                            int n = Integer.parseInt(w[2]);
                            if (w[1].equals("signal")) {
                                signal = OptionalInt.of(n);
                            } else {
                                code = OptionalInt.of(n);
                            }
                        }
                        default -> { } // "started", and anything a newer helper adds
                    }
                }
            } catch (IOException | RuntimeException e) {
                // The helper is gone, or sent a malformed line: its exit status is what remains to report.
            } finally {
                containerPid.complete(OptionalLong.empty());
                monitorPid.complete(process.pid());
            }
        } else {
            containerPid.complete(OptionalLong.empty());
            monitorPid.complete(process.pid());
        }
        Linux.WaitStatus status;
        try {
            int exit = process.waitFor();
            // the JDK reports death by signal N as 128+N; the helper itself exits below 128 before it reports
            status = exit > 128 ? new Linux.WaitStatus(OptionalInt.empty(), OptionalInt.of(exit - 128))
                    : new Linux.WaitStatus(OptionalInt.of(exit), OptionalInt.empty());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            status = new Linux.WaitStatus(OptionalInt.empty(), OptionalInt.of(SIGKILL));
        } finally {
            closeQuietly(channel);
        }
        if (detachable && monitorPid.join() != process.pid() && error.isEmpty() && code.isEmpty() && signal.isEmpty()) {
            // the forked monitor ended without a word (killed), or this JVM released it: the exit status of
            // the helper's first process, which exited when it forked, says nothing
            status = new Linux.WaitStatus(OptionalInt.empty(), OptionalInt.of(SIGKILL));
        }
        if (error.isEmpty() && code.isEmpty() && signal.isEmpty() && status.exitCode().isPresent()
                && status.exitCode().getAsInt() != 0) {
            error = Optional.of(new HelperError(ContainerException.BERTH_FAILED,
                    "the native helper exited with " + status.exitCode().getAsInt() + " before reporting"));
        }
        detached.complete(false);
        outcome.complete(new Outcome(error, code, signal, status));
    }

    private static void writeFully(SocketChannel c, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        synchronized (c) {
            while (b.hasRemaining()) {
                c.write(b);
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing is all that is left to do
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir != null) {
            try {
                Files.deleteIfExists(dir.resolve("s"));
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a leftover empty directory in the temp dir
            }
        }
    }
}
