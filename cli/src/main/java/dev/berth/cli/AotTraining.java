package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.ContainerConfig;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The training run for the JVM's ahead-of-time cache ({@code -XX:AOTCacheOutput}), which the {@code ./berth}
 * launcher creates once after each build of the jar: it runs the common commands on a throw-away home,
 * so the classes they load and link are cached and later starts skip that work (berth's commands are
 * short-lived; JVM start-up is a large part of a no-change rebuild or a {@code berth images}).
 */
final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws Exception {
        Path home = Files.createTempDirectory("berth-aot-");
        try {
            System.setProperty("berth.home", home.toString());
            try (ImageStore store = new BerthHome(home).openStore()) {
                LayerWriter.Result layer = LayerWriter.create()
                        .add(new LayerEntry.Content(LayerPath.of("etc/hello"), "hello\n".getBytes(), LayerEntry.Attributes.DEFAULT))
                        .write(store, Compression.defaultGzip(), false);
                Document<ImageConfig> config = Document.of(ImageConfig.empty(Platform.host())
                        .withContainerConfig(ContainerConfig.EMPTY)
                        .withLayer(layer.diffId(), ImageConfig.History.of(Optional.empty(), "COPY", Optional.empty())),
                        MediaType.OCI_CONFIG);
                store.put(config);
                store.tag(Reference.parse("aot/training:1"), store.put(Document.of(
                        Manifest.of(MediaType.OCI_MANIFEST, config.descriptor(), List.of(layer.blob()), Map.of()),
                        MediaType.OCI_MANIFEST)));
            }
            PrintWriter quiet = new PrintWriter(Writer.nullWriter());
            String archive = home.resolve("a.tar").toString();
            // a build of a small context, then the same build again: the no-change rebuild path
            Path context = Files.createDirectories(home.resolve("context/dir"));
            byte[] data = new byte[4 << 20];
            new java.util.Random(1).nextBytes(data);
            Files.write(context.resolve("big"), data);
            for (int i = 0; i < 200; i++) {
                Files.writeString(context.resolve("file" + i), "content " + i);
            }
            Files.writeString(context.resolveSibling("Dockerfile"),
                    "FROM scratch\nCOPY dir /dir\nENV A=b\nCMD [\"/dir/file0\"]\n");
            for (int i = 0; i < 2; i++) {
                Berth.execute(quiet, quiet, "build", "-q", "-t", "aot/build:1", context.getParent().toString());
            }
            for (List<String> command : List.of(
                    List.of("--help"), List.of("images"), List.of("images", "--format", "json"),
                    List.of("inspect", "aot/training:1"), List.of("inspect", "--format", "json", "aot/training:1"),
                    List.of("save", "-o", archive, "aot/training:1"), List.of("load", "-i", archive),
                    List.of("tag", "aot/training:1", "aot/training:2"), List.of("rmi", "aot/training:2"),
                    List.of("inspect", "no/such:image"), List.of("prune"),
                    // run reads the image, its users and layers and checks the command, then stops before
                    // anything is created: the command does not exist in the image
                    List.of("run", "--rm", "aot/training:1", "/no/such/command"), List.of("ps", "-a"))) {
                Berth.execute(quiet, quiet, command.toArray(String[]::new));
            }
            // a container that runs (as root; otherwise run stops at its first check): the helper is a static
            // binary, so an image of it alone runs it, printing its version
            Path probe = Files.createDirectories(home.resolve("probe"));
            Files.copy(dev.berth.runtime.internal.HelperBinary.ensure(home.resolve("lib")), probe.resolve("probe"));
            Files.writeString(probe.resolve("Dockerfile"),
                    "FROM scratch\nCOPY probe /bin/probe\nCMD [\"/bin/probe\", \"--version\"]\n");
            Berth.execute(quiet, quiet, "build", "-q", "-t", "aot/run:1", probe.toString());
            Berth.execute(quiet, quiet, "run", "--rm", "aot/run:1");
            // push, push again (nothing to send), pull into an empty store, pull again (nothing to fetch) and
            // list tags, against a registry in this process: every step a real exchange takes
            // (an image of four 8 MiB layers: enough blocks through the transfer loops that the cache's
            // profiles of them are worth having; a pull of tens of megabytes is 0.1 s faster with them)
            Path transfer = Files.createDirectories(home.resolve("transfer"));
            StringBuilder dockerfile = new StringBuilder("FROM scratch\n");
            java.util.Random random = new java.util.Random(2);
            for (int i = 0; i < 4; i++) {
                byte[] blob = new byte[8 << 20];
                random.nextBytes(blob);
                Files.write(transfer.resolve("part" + i), blob);
                dockerfile.append("COPY part").append(i).append(" /part").append(i).append('\n');
            }
            Files.writeString(transfer.resolve("Dockerfile"), dockerfile);
            succeed("build", "-q", "-t", "aot/transfer:1", transfer.toString());
            try (TrainingRegistry registry = TrainingRegistry.start()) {
                String remote = registry.address() + "/aot/transfer:1";
                succeed("push", "aot/transfer:1", remote);
                succeed("push", "-q", "aot/transfer:1", remote);
                System.setProperty("berth.home", home.resolve("pulled").toString());
                succeed("pull", remote);
                succeed("pull", "-q", remote);
                succeed("tags", registry.address() + "/aot/transfer");
            }
        } finally {
            System.clearProperty("berth.home");
            dev.berth.layers.LayerExtractor.deleteTree(home);
        }
    }

    /** Runs a command that must succeed: a training run that silently failed would train the error path. */
    private static void succeed(String... args) {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Berth.execute(new PrintWriter(Writer.nullWriter()), new PrintWriter(err), args);
        if (code != 0) {
            throw new IllegalStateException("berth " + String.join(" ", args) + " exited with " + code + ": " + err);
        }
    }
}
