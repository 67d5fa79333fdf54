package dev.berth.runtime.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The root of a container's files for berth cp, as a process whose {@code /proc/PID/root} it is: the
 * container's PID 1 while it runs ({@link Proc}), else a helper that mounts the container's overlay root in
 * a mount namespace of its own and holds it ({@link Hold}). Written as arguments so that a rootless berth's
 * worker can open the same root in its user namespace.
 */
public sealed interface CopyRoot {
    /** A running container's root: that of its PID 1. */
    record Proc(long pid) implements CopyRoot {}

    /** A stopped container's root: its overlay, mounted by {@code berth-helper --hold-root}. */
    record Hold(Path helper, Path rootfs, Path upper, Path work, String overlayMode, boolean userxattr,
                List<Path> lowers) implements CopyRoot {}

    /** An opened root: its fd, and what holds it open. */
    record Opened(InRoot.Fd fd, Optional<Process> holder) implements AutoCloseable {
        @Override
        public void close() {
            fd.close();
            holder.ifPresent(p -> {
                try {
                    p.getOutputStream().close(); // the helper ends when its stdin does
                    p.waitFor();
                } catch (IOException e) {
                    p.destroyForcibly();
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    default List<String> arguments() {
        return switch (this) {
            case Proc p -> List.of("pid", Long.toString(p.pid()));
            case Hold h -> {
                List<String> a = new ArrayList<>(List.of("hold", h.helper().toString(), h.rootfs().toString(),
                        h.upper().toString(), h.work().toString(), h.overlayMode(), h.userxattr() ? "1" : "0",
                        Integer.toString(h.lowers().size())));
                h.lowers().forEach(l -> a.add(l.toString()));
                yield a;
            }
        };
    }

    /** The root written by {@link #arguments()} at {@code args[from]}; {@code next[0]} set to what follows. */
    static CopyRoot parse(String[] args, int from, int[] next) {
        if (args[from].equals("pid")) {
            next[0] = from + 2;
            return new Proc(Long.parseLong(args[from + 1]));
        }
        int n = Integer.parseInt(args[from + 7]);
        List<Path> lowers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lowers.add(Path.of(args[from + 8 + i]));
        }
        next[0] = from + 8 + n;
        return new Hold(Path.of(args[from + 1]), Path.of(args[from + 2]), Path.of(args[from + 3]),
                Path.of(args[from + 4]), args[from + 5], args[from + 6].equals("1"), lowers);
    }

    /** Opens the root; {@code what} names the container in errors. */
    default Opened open(String what) throws IOException {
        return switch (this) {
            case Proc p -> new Opened(InRoot.openRoot(Path.of("/proc/" + p.pid() + "/root")), Optional.empty());
            case Hold h -> {
                List<String> cmd = new ArrayList<>(List.of(h.helper().toString(), "--hold-root", h.rootfs().toString(),
                        h.upper().toString(), h.work().toString(), h.overlayMode(), h.userxattr() ? "1" : "0"));
                h.lowers().forEach(l -> cmd.add(l.toString()));
                Process p = new ProcessBuilder(cmd).start();
                String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                        .readLine();
                if (!"ready".equals(line)) {
                    p.getOutputStream().close();
                    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                    p.destroyForcibly();
                    throw new IOException("cannot mount the files of " + what + ": "
                            + err.replaceFirst("^berth-helper: ", ""));
                }
                try {
                    yield new Opened(InRoot.openRoot(Path.of("/proc/" + p.pid() + "/root")), Optional.of(p));
                } catch (IOException e) {
                    p.destroyForcibly();
                    throw e;
                }
            }
        };
    }
}
