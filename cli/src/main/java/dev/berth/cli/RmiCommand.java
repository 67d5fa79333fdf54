package dev.berth.cli;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Reference;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth rmi NAME...}: removes image names. The blobs stay until {@code berth prune}, which removes
 * what no name references.
 */
@Command(name = "rmi", description = "Remove image names (then 'berth prune' frees their space).")
final class RmiCommand implements Runnable {
    @Parameters(arity = "1..*", paramLabel = "NAME", description = "Image names or ids.")
    List<String> names;

    @Option(names = {"-f", "--force"}, description = "Remove every name of an image given by id.")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (ImageStore store = Stores.open()) {
            for (String arg : names) {
                List<Stores.Entry> found = Stores.find(store, arg);
                if (found.size() > 1 && !force) {
                    throw new LayersException("image " + arg + " has " + found.size() + " names; remove them by name"
                            + " or use --force");
                }
                for (Stores.Entry e : found) {
                    if (e.name().isPresent()) {
                        Reference r = e.name().get();
                        store.untag(r);
                        out.println("Untagged: " + r.familiar());
                    } else {
                        Descriptor d = e.descriptor();
                        store.removeUnnamed(d.digest());
                        out.println("Deleted: " + d.digest());
                    }
                }
            }
        }
    }
}
