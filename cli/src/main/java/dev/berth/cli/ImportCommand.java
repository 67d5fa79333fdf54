package dev.berth.cli;

import dev.berth.builder.BuildRequest;
import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.RootfsImport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth import FILE|- [NAME]}: a root file system tarball as a one-layer image, as docker import. */
@Command(name = "import", description = "Import a root file system tarball (plain, gzip or zstd) as a one-layer image.")
final class ImportCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "FILE|-", description = "The tarball, or - for standard input.")
    String file;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME[:TAG]", description = "The name it gets.")
    String name;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "The platform the image says it is for (default: this machine's).")
    String platform;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        Reference ref = name == null ? null : Reference.parse(name);
        Platform p = platform == null ? Platform.host() : Platform.parse(platform);
        try (ImageStore store = Stores.open();
             InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
            Compression compression = BuildRequest.DEFAULT_COMPRESSION;
            Descriptor image = RootfsImport.run(store, in, file, p, compression);
            if (ref == null) {
                store.addUnnamed(image);
            } else {
                store.tag(ref, image);
            }
            spec.commandLine().getOut().println(image.digest());
        } catch (NoSuchFileException e) {
            throw new LayersException("import " + file + ": no such file");
        } catch (IOException e) {
            throw new LayersException("import " + file + ": " + e.getMessage(), e);
        } catch (LayersException e) {
            throw e.getMessage().startsWith("import ") ? e : new LayersException("import " + file + ": " + e.getMessage(), e);
        }
    }
}
