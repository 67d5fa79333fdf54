package dev.berth.builder;

import dev.berth.layers.BlobSource;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * Runs the process of a {@code RUN} in a container over the stage's layers and hands back what it changed:
 * the runtime module's containers, wired by the command line as {@link BaseImages} is wired to the registry.
 * The builder decides everything (command, environment, user, mounts); a runner only runs it.
 */
public interface StepRunner {
    /** No runtime at all: a Dockerfile whose target needs a RUN is refused before anything is built. */
    StepRunner NONE = new StepRunner() {
        @Override
        public Optional<String> unavailable() {
            return Optional.of("a container runtime, and this builder has none (Builder.withStepRunner)");
        }

        @Override
        public Changes run(Step step, Consumer<String> output) {
            throw new BuildException("RUN needs a container runtime");
        }
    };

    /**
     * Why RUN cannot run here, as what it needs ({@code "root"}): the end of the sentence
     * {@code RUN needs ...}. Empty when it can. Asked once, before anything is built.
     */
    Optional<String> unavailable();

    /**
     * Why RUN cannot run programs of {@code platform} here (another architecture without emulation), as one
     * sentence that says what to install; empty when it can. Asked before anything is built, for each
     * platform a RUN runs for.
     */
    default Optional<String> unavailable(dev.berth.layers.Platform platform) {
        return Optional.empty();
    }

    /**
     * Cleans up after builds that were killed while a step ran (their containers, mounts, cgroups and
     * temporary directories); called once by every build that has RUN steps, on a thread of its own.
     */
    default void recover() {
    }

    /**
     * Runs the step's process to its end. {@code output} receives its standard output and error, merged,
     * line by line, as they come. The caller closes what is returned.
     *
     * @throws BuildException when the container could not be started (the command not found: exit code 127)
     */
    Changes run(Step step, Consumer<String> output);

    /** A layer of the stage: its blob and the digest of its content (its snapshot's name). */
    record Layer(Descriptor blob, Digest diffId) {
        public Layer {
            Objects.requireNonNull(blob, "blob");
            Objects.requireNonNull(diffId, "diffId");
        }
    }

    /**
     * What to run. {@code env} is the whole environment (PATH included); {@code user} is a USER value
     * ({@code name}, {@code uid:gid}, ..., empty for root) resolved in the stage's own {@code /etc/passwd};
     * {@code hostNetwork} shares this machine's network, otherwise the process has loopback only;
     * {@code platform} is the stage's (another architecture's programs run under emulation).
     */
    record Step(List<Layer> layers, BlobSource blobs, List<String> args, List<String> env, String user,
                String workdir, String hostname, boolean hostNetwork, List<Mount> mounts,
                dev.berth.layers.Platform platform) {
        public Step {
            Objects.requireNonNull(platform, "platform");
            layers = List.copyOf(layers);
            Objects.requireNonNull(blobs, "blobs");
            args = List.copyOf(args);
            env = List.copyOf(env);
            mounts = List.copyOf(mounts);
        }
    }

    /** A mount of the step; targets are absolute. Nothing a mount brings ends up in the changes. */
    sealed interface Mount {
        String target();

        /** A host file or directory as it is: a cache directory, a secret's file, an agent's socket. */
        record Bind(String target, Path source, boolean readOnly) implements Mount {}

        /** A fresh tmpfs. */
        record Tmpfs(String target, OptionalLong size) implements Mount {}

        /** A directory or file of the tree of {@code layers}; writes to a writable one are thrown away. */
        record Layers(String target, List<Layer> layers, BlobSource blobs, String path, boolean writable)
                implements Mount {}

        /** A host directory without {@code hidden} (relative paths); writes to a writable one are thrown away. */
        record Directory(String target, Path source, List<String> hidden, boolean writable) implements Mount {}
    }

    /**
     * Deletes a tree that steps' containers wrote into (a cache mount's directory): rootless, its files may
     * belong to the user's sub-ids, which only the user's namespace may remove.
     */
    default void deleteTree(Path tree) throws java.io.IOException {
        dev.berth.layers.LayerExtractor.deleteTree(tree);
    }

    /**
     * Gives a host file that a step will see (a cache directory, a secret, an agent's socket) the owner
     * that is {@code uid}:{@code gid} in the step's container; as root those are the host's ids too.
     */
    default void own(Path file, int uid, int gid) throws java.io.IOException {
        dev.berth.layers.Posix.lchown(file, uid, gid);
    }

    /** The layer made of a step's changes. {@code entries} when they were read in this process. */
    record Committed(Descriptor blob, Digest diffId, Optional<List<dev.berth.layers.LayerEntry>> entries,
                 List<String> warnings) {
        public Committed {
            Objects.requireNonNull(blob, "blob");
            Objects.requireNonNull(diffId, "diffId");
            Objects.requireNonNull(entries, "entries");
            warnings = List.copyOf(warnings);
        }
    }

    /** How a step ended, and what it changed. */
    interface Changes extends AutoCloseable {
        /** The process's exit code (128+N when signal N killed it). */
        int exitCode();

        /**
         * Writes the changes (after exit 0) as a layer into {@code store}: the container's upper directory,
         * a complete diff without the mount points the runtime made, its whiteouts and opaque directories as
         * OCI whiteouts, owners as the container saw them, times clamped to {@code clamp} when given and
         * {@code time} where a file has none; then keeps the directory as the layer's snapshot, so nothing is
         * extracted again.
         */
        Committed commit(dev.berth.layers.ImageStore store, dev.berth.layers.Compression compression,
                     java.time.Instant time, Optional<java.time.Instant> clamp);

        /** Deletes the changes unless they were kept. */
        @Override
        void close();
    }
}
