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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
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
            Map<Reference, dev.berth.layers.Descriptor> named = new LinkedHashMap<>();
            for (Reference r : refs) {
                named.put(r, store.resolve(r).orElseThrow());
            }
            ImageArchive.writeFile(store, named, p, output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
