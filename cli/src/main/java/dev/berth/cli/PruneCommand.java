package dev.berth.cli;

import dev.berth.layers.ImageStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code berth prune}: removes blobs no named image references. */
@Command(name = "prune", description = "Remove blobs that no image in the store references.")
final class PruneCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        try (ImageStore store = Stores.open()) {
            ImageStore.PruneResult r = store.prune();
            spec.commandLine().getOut().println("Deleted " + r.blobs() + " blob" + (r.blobs() == 1 ? "" : "s")
                    + ", freed " + Format.size(r.bytes()));
        }
    }
}
