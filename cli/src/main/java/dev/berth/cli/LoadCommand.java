package dev.berth.cli;

import dev.berth.layers.ImageArchive;
import dev.berth.layers.ImageStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth load -i FILE}: images from a docker-archive, an OCI archive or an OCI layout directory into the store. */
@Command(name = "load", description = "Load images from a docker-archive or OCI archive (plain or compressed), "
        + "or an OCI image layout directory.")
final class LoadCommand implements Runnable {
    @Option(names = {"-i", "--input"}, paramLabel = "FILE", description = "Read FILE (or the OCI layout directory FILE) instead of standard input.")
    Path input;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (ImageStore store = Stores.open()) {
            Path file = input;
            Path temp = null;
            if (file == null) {
                temp = dev.berth.layers.TempDirs.createFile(store.tempDirectory(), "load-", ".tar");
                Files.copy(System.in, temp, StandardCopyOption.REPLACE_EXISTING);
                file = temp;
            }
            try {
                List<ImageArchive.Loaded> loaded = ImageArchive.load(file, store);
                if (!quiet) {
                    for (ImageArchive.Loaded l : loaded) {
                        out.println("Loaded image: " + l.name().map(r -> r.familiar())
                                .orElse(l.descriptor().digest().toString()));
                    }
                }
            } finally {
                if (temp != null) {
                    Files.deleteIfExists(temp);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
