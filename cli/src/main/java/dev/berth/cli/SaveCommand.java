package dev.berth.cli;

import dev.berth.layers.ImageArchive;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth save -o FILE NAME...}: one tar that is both an OCI layout and a docker-archive. The file
 * appears complete or not at all.
 */
@Command(name = "save", description = "Write images to a tar archive (OCI layout + docker-archive).")
final class SaveCommand implements Runnable {
    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write to FILE instead of standard output.")
    Path output;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "For a multi-platform image, the platform manifest.json describes (default: this host's).")
    String platform;

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "Image names.")
    List<String> names;

    @Override
    public void run() {
        List<Reference> refs = new ArrayList<>();
        Platform p = platform == null ? Platform.host() : Platform.parse(platform);
        try (ImageStore store = Stores.open()) {
            for (String n : names) {
                Stores.Entry e = Stores.findOne(store, n);
                refs.add(e.name().orElseThrow(() -> new LayersException("image " + n
                        + " has no name; give it one with 'berth tag' before saving it")));
            }
            if (output == null) {
                if (System.console() != null) {
                    throw new LayersException("refusing to write an archive to a terminal; use -o FILE or a redirect");
                }
                OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
                ImageArchive.write(store, refs, p, out);
                out.flush();
                return;
            }
            Path target = output.toAbsolutePath();
            Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
                     OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
                    ImageArchive.write(store, refs, p, out);
                    out.flush();
                    ch.force(true);
                }
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
