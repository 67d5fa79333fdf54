package dev.berth.runtime.internal;

import dev.berth.runtime.ContainerException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One running berth-helper, seen from the JVM. A dedicated platform thread spawns it, writes the spec on
 * its fd 3, reads its report lines and finally reaps it. That thread lives exactly as long as the helper:
 * the helper's parent-death signal is tied to the thread that spawned it, so a short-lived or pooled
 * thread would kill the container when it ended; and if the JVM dies, the helper dies and takes the
 * container with it.
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

    private final CompletableFuture<Integer> helperPid = new CompletableFuture<>();
    private final CompletableFuture<OptionalLong> containerPid = new CompletableFuture<>();
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();

    private Monitor() {}

    /**
     * Starts the helper; returns once it runs (or throws when it could not be spawned).
     *
     * @param stdio what the helper gets as fds 0-2 (fd 3 is added here)
     */
    public static Monitor start(Path helper, byte[] spec, List<Linux.FdAction> stdio, String threadName) {
        Monitor m = new Monitor();
        Thread.ofPlatform().name(threadName).daemon(true).start(() -> m.run(helper, spec, stdio));
        try {
            m.helperPid.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new ContainerException("cannot start the native helper " + helper + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException("interrupted while starting the container");
        }
        return m;
    }

    /** The helper's pid (the monitor process, outside the container). */
    public int helperPid() {
        return helperPid.join();
    }

    /** The host pid of the container's PID 1, once the helper reported it; empty if it never did. */
    public OptionalLong containerPid() {
        return containerPid.join();
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

    /** Sends a signal to the helper, which forwards it to the container; false when it already exited. */
    public boolean signal(int signal) {
        if (outcome.isDone()) {
            return false;
        }
        try {
            return Linux.kill(helperPid(), signal);
        } catch (IOException e) {
            throw new ContainerException("cannot signal the container: " + e.getMessage(), e);
        }
    }

    private void run(Path helper, byte[] spec, List<Linux.FdAction> stdio) {
        int[] pair;
        int pid;
        try {
            pair = Linux.socketPair();
        } catch (IOException | RuntimeException e) {
            helperPid.completeExceptionally(e);
            return;
        }
        try {
            List<Linux.FdAction> actions = new ArrayList<>(stdio);
            actions.add(new Linux.FdAction.Dup(3, pair[1]));
            pid = Linux.spawn(helper.toString(), List.of(helper.toString(), "--parent",
                    Long.toString(ProcessHandle.current().pid())), actions);
        } catch (IOException | RuntimeException e) {
            Linux.close(pair[0]);
            Linux.close(pair[1]);
            helperPid.completeExceptionally(e);
            return;
        }
        Linux.close(pair[1]);
        helperPid.complete(pid);
        Optional<HelperError> error = Optional.empty();
        OptionalInt code = OptionalInt.empty();
        OptionalInt signal = OptionalInt.empty();
        try {
            try {
                Linux.write(pair[0], spec);
            } catch (IOException e) {
                // The helper is gone already; how it ended says why.
            }
            for (String line : new LineReader(pair[0])) {
                String[] w = line.split(" ", 3);
                switch (w[0]) {
                    case "pid" -> containerPid.complete(OptionalLong.of(Long.parseLong(w[1])));
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
        } catch (RuntimeException e) {
            // A malformed line: the helper's exit status is what remains to report.
        } finally {
            containerPid.complete(OptionalLong.empty());
        }
        Linux.WaitStatus status;
        try {
            status = Linux.waitFor(pid);
        } catch (IOException e) {
            status = new Linux.WaitStatus(OptionalInt.empty(), OptionalInt.of(Linux.SIGKILL));
        } finally {
            Linux.close(pair[0]);
        }
        if (error.isEmpty() && code.isEmpty() && signal.isEmpty() && status.exitCode().isPresent()
                && status.exitCode().getAsInt() != 0) {
            error = Optional.of(new HelperError(ContainerException.BERTH_FAILED,
                    "the native helper exited with " + status.exitCode().getAsInt() + " before reporting"));
        }
        outcome.complete(new Outcome(error, code, signal, status));
    }

    /** The helper's report lines, read until it closes fd 3 (when it exits). */
    private record LineReader(int fd) implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return new java.util.Iterator<>() {
                private final byte[] buf = new byte[4096];
                private final ByteArrayOutputStream line = new ByteArrayOutputStream();
                private final List<String> ready = new ArrayList<>();
                private int pos;
                private int len;
                private boolean eof;

                @Override
                public boolean hasNext() {
                    while (ready.isEmpty() && !eof) {
                        if (pos == len) {
                            try {
                                len = Linux.read(fd, buf);
                            } catch (IOException e) {
                                len = 0;
                            }
                            pos = 0;
                            if (len == 0) {
                                eof = true;
                                break;
                            }
                        }
                        while (pos < len) {
                            byte b = buf[pos++];
                            if (b == '\n') {
                                ready.add(line.toString(StandardCharsets.UTF_8));
                                line.reset();
                            } else {
                                line.write(b);
                            }
                        }
                    }
                    return !ready.isEmpty();
                }

                @Override
                public String next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return ready.removeFirst();
                }
            };
        }
    }
}
