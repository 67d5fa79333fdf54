package dev.berth.cli;

import dev.berth.builder.BuildRequest;
import dev.berth.layers.Compression;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Reference;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerFiles;
import dev.berth.runtime.UsernsTasks;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The verbs on a container's file system: {@code diff}, {@code commit}, {@code export} (see {@link ContainerFiles}). */
final class ContainerFilesCommands {
    private ContainerFilesCommands() {}

    private static ContainerFiles files(String name, String verb) {
        try {
            return ContainerVerbs.runtime().files(name, verb);
        } catch (ContainerException e) {
            throw new ContainerFailure(new ContainerException(1, e.getMessage()));
        }
    }

    @Command(name = "diff", description = "List what a container changed: A added, C changed, D deleted.")
    static final class Diff implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container's name or id.")
        String name;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            List<String> lines;
            try {
                lines = files(name, "diff").diff();
            } catch (ContainerException e) {
                throw new ContainerFailure(new ContainerException(1, e.getMessage()));
            }
            lines.forEach(spec.commandLine().getOut()::println);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "commit", description = "Make an image of a container's changes (its image plus one layer).")
    static final class Commit implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container's name or id.")
        String name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "IMAGE", description = "The new image's name (default: none).")
        String image;

        @Option(names = {"-m", "--message"}, paramLabel = "TEXT", description = "The history entry's comment.")
        String message;

        @Option(names = {"-a", "--author"}, paramLabel = "NAME", description = "The image's author.")
        String author;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Reference ref = image == null ? null : Reference.parse(image);
            ContainerFiles f = files(name, "commit");
            Descriptor manifest;
            try (ImageStore store = Stores.open()) {
                Instant now = Instant.now();
                Compression compression = BuildRequest.DEFAULT_COMPRESSION;
                UsernsTasks.Layer layer = f.layer(store, compression, now);
                layer.warnings().forEach(w -> spec.commandLine().getErr().println("berth: commit " + name + ": " + w));
                manifest = write(store, f.image(), f.config(), layer, now.toString(), author, message);
                if (ref == null) {
                    store.addUnnamed(manifest);
                } else {
                    store.tag(ref, manifest);
                }
            } catch (ContainerException e) {
                throw new ContainerFailure(new ContainerException(1, e.getMessage()));
            }
            spec.commandLine().getOut().println(manifest.digest());
            spec.commandLine().getOut().flush();
            return 0;
        }

        /** The container's image with the layer on top, its config the container's, in OCI form. */
        private static Descriptor write(ImageStore store, Image base, ContainerConfig config, UsernsTasks.Layer layer,
                                        String now, String author, String message) {
            ImageConfig c = base.config().value().withContainerConfig(config).withCreated(Optional.of(now))
                    .withLayer(layer.diffId(), ImageConfig.History.of(Optional.of(now), "berth commit",
                            Optional.ofNullable(message)));
            if (author != null) {
                c = c.withAuthor(Optional.of(author));
            }
            Document<ImageConfig> configDoc = Document.of(c, MediaType.OCI_CONFIG);
            store.put(configDoc);
            List<Descriptor> layers = new ArrayList<>(base.layers().stream().map(Descriptor::withOciLayerType).toList());
            layers.add(layer.blob());
            return store.put(Document.of(Manifest.of(MediaType.OCI_MANIFEST, configDoc.descriptor(), layers, Map.of()),
                    MediaType.OCI_MANIFEST));
        }
    }

    @Command(name = "export", description = "Write a container's file system as a tar (to stdout, or -o FILE).")
    static final class Export implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container's name or id.")
        String name;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the tar to FILE (atomically).")
        Path output;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ContainerFiles f = files(name, "export");
            if (output == null) {
                if (System.console() != null) {
                    throw new ContainerFailure(new ContainerException(1, "export " + name
                            + ": refusing to write a tar to a terminal: redirect it or use -o FILE"));
                }
                OutputStream out = new java.io.BufferedOutputStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
                        1 << 16);
                f.export(out);
                out.flush();
                return 0;
            }
            Path abs = output.toAbsolutePath();
            Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                f.export(out);
            } catch (ContainerException | IOException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return 0;
        }
    }
}
