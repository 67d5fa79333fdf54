package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.MediaType;
import dev.berth.layers.LayerExtractor;
import dev.berth.runtime.internal.HelperBinary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Work a rootless berth does as root of a user namespace with its {@link IdMaps}, because the files are
 * owned by the user's sub-ids: extracting layers (so that a file of uid 1000 is owned by the sub-id that
 * is uid 1000 inside), writing a layer from a container's changes, deleting such trees. Each is a process
 * under {@code berth-helper --userns-exec}: {@code rm} for deletions, and for the rest a JVM running
 * {@code UsernsWorker} with this JVM's class path and options (a JVM cannot enter a user namespace: it
 * is multithreaded).
 */
public final class UsernsTasks {
    private final Path helper;
    private final IdMaps maps;

    UsernsTasks(Path helper, IdMaps maps) {
        this.helper = helper;
        this.maps = maps;
    }

    /** The tasks of the current user, with the helper of {@code home}. */
    public static UsernsTasks forCurrentUser(BerthHome home) {
        return new UsernsTasks(HelperBinary.ensure(home.root().resolve("lib")), IdMaps.forCurrentUser());
    }

    /** The same tasks in a namespace of other maps (of the same host ids, e.g. {@link IdMaps#keepId()}). */
    public UsernsTasks withMaps(IdMaps other) {
        return new UsernsTasks(helper, other);
    }

    public IdMaps maps() {
        return maps;
    }

    /** Deletes trees, whoever inside the namespace owns their files. */
    public void delete(List<Path> trees, String what) {
        List<Path> present = trees.stream().filter(p -> Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                .toList();
        if (present.isEmpty()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("rm", "-rf", "--"));
        present.forEach(p -> cmd.add(p.toString()));
        run(cmd, what);
    }

    /**
     * Deletes a tree: as this user when it can (after opening up directories of its own that it may not
     * list, such as the overlay's {@code work/work}, mode 0), else inside the namespace, which takes a
     * process of the helper's and newuidmap's.
     */
    public void deleteTree(Path tree) throws IOException {
        try {
            LayerExtractor.deleteTree(tree);
            return;
        } catch (IOException e) {
            // below
        }
        try {
            if (openOwnDirectories(tree)) {
                LayerExtractor.deleteTree(tree);
                return;
            }
        } catch (IOException e) {
            // files of sub-ids: the namespace's root deletes them
        }
        delete(List.of(tree), "delete " + tree);
    }

    /** Gives this user's directories in {@code tree} that it may not list or enter rwx; whether it found any. */
    private static boolean openOwnDirectories(Path tree) throws IOException {
        long uid = IdMaps.currentUid();
        boolean[] changed = {false};
        Files.walkFileTree(tree, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                // the walker opens a directory before it visits it: one it may not read fails here
                if (e instanceof java.nio.file.AccessDeniedException
                        && Files.isDirectory(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && ((Integer) Files.getAttribute(file, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS)) == uid) {
                    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                    changed[0] = true;
                    openOwnDirectories(file);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return changed[0];
    }

    /** A layer a task wrote into the store, and what it could not keep. */
    public record Layer(Descriptor blob, Digest diffId, List<String> warnings) {}

    /**
     * Writes the changes in {@code upper} (an overlay upper directory, files owned by ids of the namespace)
     * as a layer into {@code home}'s store, with the entries' ids as they are inside.
     *
     * @param compression as {@code --compression} takes it ({@code gzip:1})
     */
    public Layer layer(BerthHome home, Path upper, String compression, java.time.Instant time,
                       java.util.Optional<java.time.Instant> clamp) {
        String out = java("cannot write the layer of " + upper, "layer", List.of(home.root().toString(),
                upper.toString(), compression, Long.toString(time.getEpochSecond()),
                clamp.map(c -> Long.toString(c.getEpochSecond())).orElse("-")));
        List<String> lines = out.lines().toList();
        String[] f = lines.getFirst().split(" ");
        return new Layer(Descriptor.of(MediaType.of(f[0]), Digest.parse(f[1]), Long.parseLong(f[2])),
                Digest.parse(f[3]), lines.subList(1, lines.size()));
    }

    /** Gives a file the owner that ids {@code uid}:{@code gid} of the namespace are (no symlink followed). */
    public void chown(Path file, int uid, int gid) {
        chown(List.of(file), uid, gid);
    }

    /** {@link #chown(Path, int, int)} of several files, in one process. */
    public void chown(List<Path> files, int uid, int gid) {
        List<String> cmd = new ArrayList<>(List.of("chown", "-h", uid + ":" + gid, "--"));
        files.forEach(f -> cmd.add(f.toString()));
        run(cmd, "chown " + files.getFirst());
    }

    /**
     * Runs {@code UsernsWorker TASK ARGS...} in the namespace; returns what it printed on stdout, or throws
     * with what it printed on stderr (its last line: the worker's one-line error).
     */
    public String java(String what, String task, List<String> args) {
        List<String> cmd = new ArrayList<>(dev.berth.runtime.internal.JvmCommand.current());
        cmd.add("dev.berth.runtime.internal.UsernsWorker");
        cmd.add(task);
        cmd.addAll(args);
        return run(cmd, what);
    }

    /**
     * {@link #java} in the user namespace of the running process {@code pid} (a container's PID 1, whose
     * {@code /proc/PID/root} the worker may then open), not in a new one.
     */
    public String javaJoined(long pid, String what, String task, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(helper.toString(), "--userns-join", Long.toString(pid), "--"));
        cmd.addAll(dev.berth.runtime.internal.JvmCommand.current());
        cmd.add("dev.berth.runtime.internal.UsernsWorker");
        cmd.add(task);
        cmd.addAll(args);
        return start(cmd, what);
    }

    /** The helper this runs tasks with. */
    public Path helper() {
        return helper;
    }

    private String run(List<String> command, String what) {
        List<String> cmd = new ArrayList<>(List.of(helper.toString(), "--userns-exec"));
        cmd.addAll(maps.helperArguments());
        cmd.add("--");
        cmd.addAll(command);
        return start(cmd, what);
    }

    private String start(List<String> cmd, String what) {
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            if (code != 0) {
                String[] lines = new String(err.join(), StandardCharsets.UTF_8).strip().split("\n");
                String last = lines[lines.length - 1].strip();
                throw new ContainerException(what + ": " + (last.isEmpty() ? "exit status " + code : last));
            }
            return out;
        } catch (IOException e) {
            throw new ContainerException(what + ": cannot start " + helper + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException(what + ": interrupted");
        }
    }
}
