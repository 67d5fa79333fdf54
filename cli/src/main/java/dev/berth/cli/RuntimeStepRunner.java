package dev.berth.cli;

import dev.berth.builder.BuildException;
import dev.berth.builder.StepRunner;
import dev.berth.layers.BerthHome;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Compression;
import dev.berth.layers.DiskTree;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.Platform;
import dev.berth.layers.TempDirs;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerImage;
import dev.berth.runtime.ContainerMount;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.NetworkMode;
import dev.berth.runtime.RunOptions;
import dev.berth.runtime.RunResult;
import dev.berth.runtime.RunningContainer;
import dev.berth.runtime.SnapshotStore;
import dev.berth.runtime.Stdio;
import dev.berth.runtime.UsernsTasks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The builder's {@link StepRunner} filled with berth's own runtime: a RUN is a container of the stage's
 * layer snapshots, removed when it exits, whose upper directory is handed back as the step's changes and
 * then kept as the new layer's snapshot. Needs root, as {@code berth run} does.
 */
final class RuntimeStepRunner implements StepRunner {
    private static final String PREFIX = "step-";

    private final BerthHome home;
    private ContainerRuntime runtime;
    private UsernsTasks userns;
    private final java.io.PrintWriter warnings;
    private boolean warned;
    private RunningContainer current;
    private boolean interrupted;

    /** @param warnings where the warning of a rootless namespace with one id goes (once) */
    RuntimeStepRunner(BerthHome home, java.io.PrintWriter warnings) {
        this.home = home;
        this.warnings = warnings;
    }

    /** As root, always; otherwise in a user namespace (rootless), which {@code berth run} checks for too. */
    @Override
    public Optional<String> unavailable() {
        return Optional.empty();
    }

    /** Another architecture's RUN runs under QEMU user emulation, when binfmt_misc has it (with the F flag). */
    @Override
    public Optional<String> unavailable(Platform platform) {
        return dev.berth.runtime.Emulation.missing(platform);
    }

    @Override
    public void own(Path file, int uid, int gid) throws IOException {
        if (BerthHome.isRoot()) {
            dev.berth.layers.Posix.lchown(file, uid, gid);
        } else if (uid != 0 || gid != 0) { // root of the namespace is the user, who owns the file already
            try {
                userns().chown(file, uid, gid);
            } catch (ContainerException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    @Override
    public void deleteTree(Path tree) throws IOException {
        if (BerthHome.isRoot()) {
            LayerExtractor.deleteTree(tree);
        } else {
            try {
                userns().deleteTree(tree);
            } catch (ContainerException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    private synchronized UsernsTasks userns() {
        if (userns == null) {
            userns = UsernsTasks.forCurrentUser(home);
        }
        return userns;
    }

    /** Synchronized with a step's start, which recovers too: two recoveries in one process would collide. */
    @Override
    public synchronized void recover() {
        if (BerthHome.isRoot()) {
            TempDirs.removeAbandoned(home.tmp(), PREFIX);
        } else { // a killed rootless step's changes belong to the user's sub-ids
            userns().delete(TempDirs.abandoned(home.tmp(), PREFIX), "remove the changes of killed steps");
        }
        if (BerthHome.isRoot()) {
            try {
                runtime().recover();
            } catch (ContainerException e) {
                // cleaning up is a courtesy: the next run, ps or rm tries again
            }
        }
    }

    private synchronized ContainerRuntime runtime() {
        if (runtime == null) {
            runtime = ContainerRuntime.open(home);
        }
        return runtime;
    }

    /**
     * Kills the running step's container, if there is one (the build then fails as interrupted); false when
     * no step is running.
     */
    synchronized boolean interrupt() {
        interrupted = true;
        if (current == null) {
            return false;
        }
        current.signal(9);
        return true;
    }

    @Override
    public Changes run(Step step, Consumer<String> output) {
        Path dir;
        try {
            dir = TempDirs.create(home.tmp(), PREFIX);
        } catch (IOException e) {
            throw new BuildException("cannot make a directory for the step's changes in " + home.tmp() + ": "
                    + e.getMessage(), e);
        }
        Path changes = dir.resolve("upper");
        try {
            RunResult result = execute(step, output, changes);
            return new StepChanges(result.exitCode(), dir, changes, home, BerthHome.isRoot() ? Optional.empty()
                    : Optional.of(userns()));
        } catch (RuntimeException e) {
            delete(dir);
            throw e;
        }
    }

    private RunResult execute(Step step, Consumer<String> output, Path changes) {
        ContainerConfig.Builder config = ContainerConfig.EMPTY.toBuilder();
        config.env = step.env();
        config.user = Optional.of(step.user());
        config.workingDir = Optional.of(step.workdir());
        ContainerImage image = new ContainerImage("build step", "", step.layers().stream()
                .map(l -> new ContainerImage.Layer(l.blob(), l.diffId())).toList(), step.blobs(), config.build(),
                step.platform());
        RunOptions.Builder o = RunOptions.builder().remove(true).entrypoint("").command(step.args())
                .hostname(step.hostname()).network(step.hostNetwork() ? NetworkMode.HOST : NetworkMode.NONE)
                .noNewPrivileges(false).stdout(Stdio.PIPE).stderr(Stdio.PIPE).commitTo(changes);
        step.mounts().forEach(m -> o.mount(mount(m)));
        RunningContainer c;
        try {
            synchronized (this) {
                if (interrupted) {
                    throw new BuildException("interrupted");
                }
                if (!warned) {
                    warned = true;
                    Rootless.warn(warnings);
                }
                c = runtime().start(image, o.build());
                current = c;
            }
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(c.output(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    output.accept(line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading the step's output", e);
            }
            RunResult r = c.await();
            synchronized (this) {
                current = null;
                if (interrupted) {
                    throw new BuildException("interrupted");
                }
            }
            return r;
        } catch (ContainerException e) {
            String prefix = "run " + image.name() + ": ";
            throw new BuildException(e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length())
                    : e.getMessage(), e);
        }
    }

    private static ContainerMount mount(Mount m) {
        return switch (m) {
            case Mount.Bind b -> new ContainerMount.Bind(b.target(), b.source(), b.readOnly());
            case Mount.Tmpfs t -> new ContainerMount.Tmpfs(t.target(), t.size());
            case Mount.Layers l -> new ContainerMount.Layers(l.target(), l.layers().stream()
                    .map(x -> new ContainerImage.Layer(x.blob(), x.diffId())).toList(), l.blobs(), l.path(), l.writable());
            case Mount.Directory d -> new ContainerMount.Directory(d.target(), d.source(), d.hidden(), d.writable());
        };
    }

    private static void delete(Path dir) {
        try {
            LayerExtractor.deleteTree(dir);
        } catch (IOException ignored) {
            // swept by the next build (the directory is named after this process)
        }
    }

    /**
     * A step's exit code and its upper directory, made a layer in this process as root, or in the user's
     * namespace rootless (its files belong to sub-ids); deleted on close unless it became a snapshot.
     */
    private record StepChanges(int exitCode, Path dir, Path changes, BerthHome home, Optional<UsernsTasks> userns)
            implements Changes {
        @Override
        public Committed commit(ImageStore store, Compression compression, Instant time, Optional<Instant> clamp) {
            if (!Files.isDirectory(changes)) {
                throw new BuildException("the step left no changes (exit code " + exitCode + ")");
            }
            Committed c;
            if (userns.isPresent()) {
                UsernsTasks.Layer l = userns.get().layer(home, changes, compression.spec(), time, clamp);
                c = new Committed(l.blob(), l.diffId(), Optional.empty(), l.warnings());
            } else {
                List<String> warnings = new ArrayList<>();
                try {
                    DiskTree.Written w = DiskTree.writeLayer(changes, DiskTree.Kind.OVERLAY, store, compression, time,
                            clamp, warnings::add);
                    c = new Committed(w.layer().blob(), w.layer().diffId(), Optional.of(w.entries()), warnings);
                } catch (IOException e) {
                    throw new BuildException("writing its layer: " + e.getMessage(), e);
                }
            }
            SnapshotStore.of(home).adopt(changes, c.diffId());
            return c;
        }

        @Override
        public void close() {
            if (userns.isPresent()) {
                try {
                    userns.get().deleteTree(dir);
                } catch (IOException | ContainerException ignored) {
                    // swept by the next build (the directory is named after this process)
                }
            } else {
                delete(dir);
            }
        }
    }
}
