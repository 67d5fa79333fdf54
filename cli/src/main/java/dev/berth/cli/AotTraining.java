package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The training runs for the JVM's ahead-of-time caches ({@code -XX:AOTCacheOutput}), which the
 * {@code ./berth} launcher makes after each build of the jar, one per group of commands: it runs the
 * group's commands on a throw-away home, so the classes they load and link are cached and later starts
 * skip that work (berth's commands are short-lived; JVM start-up is a large part of a no-change rebuild, a
 * {@code berth images} or a {@code berth run}). One cache per group, because a cache costs every start in
 * proportion to what it holds: the classes of all commands, and the compilations their profiles ask for,
 * made {@code berth run} a sixth slower than a cache of its own.
 *
 * <p>Usage: {@code AotTraining [GROUP]}, GROUP one of {@link Group}'s names in lower case; without one,
 * every group in turn (for the tests).
 */
final class AotTraining {
    private AotTraining() {}

    /** The groups of commands with a cache of their own; the launcher maps each verb to one. */
    enum Group {
        /** The store commands, help and version: everything not in another group. */
        COMMON,
        /** {@code build}. */
        BUILD,
        /** {@code run}, {@code ps}, {@code rm}, {@code bundle}. */
        RUN,
        /** {@code pull}, {@code push}, {@code tags}, {@code login}, {@code logout}. */
        REGISTRY
    }

    public static void main(String[] args) throws Exception {
        trainAll(args);
        // every command ends as Berth.main does, in System.exit; what the exit loads (Runtime.exit asks the
        // platform logger whether to log it: some 30 classes) then comes from the cache too
        System.exit(0);
    }

    /** The training runs of the group named by {@code args[0]}, or of every group; returns when done. */
    static void trainAll(String[] args) throws Exception {
        List<Group> groups = args.length == 0 ? List.of(Group.values())
                : List.of(Group.valueOf(args[0].toUpperCase(java.util.Locale.ROOT)));
        for (Group g : groups) {
            train(g);
        }
    }

    private static void train(Group group) throws Exception {
        Path home = Files.createTempDirectory("berth-aot-");
        try {
            System.setProperty("berth.home", home.toString());
            switch (group) {
                case COMMON -> common(home);
                case BUILD -> build(home);
                case RUN -> run(home);
                case REGISTRY -> registry(home);
            }
        } finally {
            System.clearProperty("berth.home");
            dev.berth.layers.LayerExtractor.deleteTree(home);
        }
    }

    private static void common(Path home) throws Exception {
        image(home, "aot/training:1", List.of(List.of(new LayerEntry.Content(LayerPath.of("etc/hello"),
                "hello\n".getBytes(), LayerEntry.Attributes.DEFAULT))), Optional.empty(), Compression.defaultGzip());
        String archive = home.resolve("a.tar").toString();
        for (List<String> command : List.of(
                List.of("--help"), List.of("version"), List.of("images"), List.of("images", "--format", "json"),
                List.of("inspect", "aot/training:1"), List.of("inspect", "--format", "json", "aot/training:1"),
                List.of("save", "-o", archive, "aot/training:1"), List.of("load", "-i", archive),
                List.of("tag", "aot/training:1", "aot/training:2"), List.of("rmi", "aot/training:2"),
                List.of("inspect", "no/such:image"), List.of("prune"))) {
            Berth.execute(QUIET, QUIET, command.toArray(String[]::new));
        }
    }

    /**
     * A build of a context of 1,500 files, then the same build again: the no-change rebuild path; then a
     * build with RUN steps, and again from the cache. The files
     * are many because a layer's per-file path (stat, tar header, copy) is what a COPY of a tree runs
     * thousands of times; trained on a handful, it would be compiled late and with poor profiles.
     */
    private static void build(Path home) throws Exception {
        Path context = Files.createDirectories(home.resolve("context/dir"));
        byte[] data = new byte[4 << 20];
        new java.util.Random(1).nextBytes(data);
        Files.write(context.resolve("big"), data);
        for (int d = 0; d < 30; d++) {
            Path dir = Files.createDirectories(context.resolve("d" + d));
            for (int i = 0; i < 50; i++) {
                Files.writeString(dir.resolve("file" + i), ("content " + d + "/" + i + "\n").repeat(1 + i * 20));
            }
        }
        Files.writeString(context.resolveSibling("Dockerfile"),
                "FROM scratch\nCOPY dir /dir\nENV A=b\nCMD [\"/dir/d0/file0\"]\n");
        for (int i = 0; i < 2; i++) {
            Berth.execute(QUIET, QUIET, "build", "-q", "-t", "aot/build:1", context.getParent().toString());
        }
        // A RUN, run and then cached (rootless when this is not root: the cache then holds that path): the
        // helper is a static binary, so an image of it alone runs it.
        Path helper = dev.berth.runtime.internal.HelperBinary.ensure(home.resolve("lib"));
        image(home, "aot/step:1", List.of(List.of(new LayerEntry.File(LayerPath.of("bin/probe"), helper,
                LayerEntry.Attributes.of(0755, 0, 0)))), Optional.empty(), Compression.defaultGzip());
        Path steps = Files.createDirectories(home.resolve("steps"));
        Files.writeString(steps.resolve("Dockerfile"), "FROM aot/step:1\nRUN [\"/bin/probe\", \"--version\"]\n"
                + "RUN --mount=type=tmpfs,target=/t --network=none [\"/bin/probe\", \"--version\"]\n");
        for (int i = 0; i < 2; i++) {
            succeed("build", "--progress", "plain", "-t", "aot/steps:1", steps.toString());
        }
    }

    /**
     * Containers that run (rootless when this is not root, so that the cache holds that path): the helper
     * is a static binary, so an image of it alone runs it, printing its version. Then a kept container,
     * listed and removed; a detached one, waited for, its log read, stopped and removed; one that waits
     * (the helper's {@code --pause}), a command run in it, stopped.
     */
    private static void run(Path home) throws Exception {
        Path helper = dev.berth.runtime.internal.HelperBinary.ensure(home.resolve("lib"));
        image(home, "aot/run:1", List.of(List.of(new LayerEntry.File(LayerPath.of("bin/probe"), helper,
                LayerEntry.Attributes.of(0755, 0, 0)))), Optional.of(List.of("/bin/probe", "--version")),
                Compression.defaultGzip());
        for (int i = 0; i < 3; i++) {
            succeed("run", "--rm", "aot/run:1");
        }
        succeed("run", "--name", "aot-kept", "aot/run:1");
        succeed("ps", "-a");
        succeed("rm", "aot-kept");
        succeed("run", "-d", "--name", "aot-detached", "aot/run:1");
        succeed("wait", "aot-detached");
        succeed("logs", "aot-detached");
        succeed("stop", "aot-detached");
        succeed("rm", "aot-detached");
        succeed("run", "-d", "--name", "aot-paused", "aot/run:1", "/bin/probe", "--pause");
        succeed("exec", "aot-paused", "/bin/probe", "--version");
        succeed("stop", "-t", "1", "aot-paused");
        succeed("rm", "aot-paused");
        // its monitor became its exit command, a child of this JVM: done before the home is deleted
        ProcessHandle.current().children().forEach(p -> {
            try {
                p.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        });
        Berth.execute(QUIET, QUIET, "run", "--rm", "aot/run:1", "/no/such/command"); // 127, before it starts
    }

    /**
     * Push, push again (nothing to send), pull into an empty store, pull again (nothing to fetch) and list
     * tags, against a registry in this process: every step a real exchange takes. The image has four 8 MiB
     * layers: enough blocks through the transfer loops that the cache's profiles of them are worth having.
     */
    private static void registry(Path home) throws Exception {
        java.util.Random random = new java.util.Random(2);
        List<List<LayerEntry>> layers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] blob = new byte[8 << 20];
            random.nextBytes(blob);
            layers.add(List.of(new LayerEntry.Content(LayerPath.of("part" + i), blob, LayerEntry.Attributes.DEFAULT)));
        }
        image(home, "aot/transfer:1", layers, Optional.empty(), new Compression.None());
        try (TrainingRegistry registry = TrainingRegistry.start()) {
            String remote = registry.address() + "/aot/transfer:1";
            succeed("push", "aot/transfer:1", remote);
            succeed("push", "-q", "aot/transfer:1", remote);
            System.setProperty("berth.home", home.resolve("pulled").toString());
            succeed("pull", remote);
            succeed("pull", "-q", remote);
            succeed("tags", registry.address() + "/aot/transfer");
        }
        // the registry client's start and its error path against a port that refuses at once
        Berth.execute(QUIET, QUIET, "pull", "127.0.0.1:0/aot/training:1");
    }

    /** Stores an image of the given layers (one list of entries each) under {@code name}. */
    private static void image(Path home, String name, List<List<LayerEntry>> layers, Optional<List<String>> cmd,
                              Compression compression) throws java.io.IOException {
        try (ImageStore store = new BerthHome(home).openStore()) {
            // a creation time, as built and pulled images have: images and inspect then parse and print it
            ImageConfig config = ImageConfig.empty(Platform.host()).withCreated(Optional.of("2024-05-01T12:00:00Z"))
                    .withContainerConfig(
                    cmd.map(c -> {
                        ContainerConfig.Builder b = ContainerConfig.EMPTY.toBuilder();
                        b.cmd = Optional.of(c);
                        return b.build();
                    }).orElse(ContainerConfig.EMPTY));
            List<Descriptor> blobs = new ArrayList<>();
            for (List<LayerEntry> entries : layers) {
                LayerWriter writer = LayerWriter.create();
                entries.forEach(writer::add);
                LayerWriter.Result layer = writer.write(store, compression, false);
                config = config.withLayer(layer.diffId(), ImageConfig.History.of(Optional.empty(), "COPY",
                        Optional.empty()));
                blobs.add(layer.blob());
            }
            Document<ImageConfig> configDocument = Document.of(config, MediaType.OCI_CONFIG);
            store.put(configDocument);
            store.tag(Reference.parse(name), store.put(Document.of(
                    Manifest.of(MediaType.OCI_MANIFEST, configDocument.descriptor(), blobs, Map.of()),
                    MediaType.OCI_MANIFEST)));
        }
    }

    private static final PrintWriter QUIET = new PrintWriter(Writer.nullWriter());

    /**
     * Runs a command that must succeed: a training run that silently failed would train the error path
     * (and {@code AotTrainingTest} relies on this to check every trained step).
     */
    private static void succeed(String... args) {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Berth.execute(new PrintWriter(Writer.nullWriter()), new PrintWriter(err), args);
        if (code != 0) {
            throw new IllegalStateException("berth " + String.join(" ", args) + " exited with " + code + ": " + err);
        }
    }
}
