package dev.berth.cli;

import dev.berth.builder.Builder;
import dev.berth.layers.ImageStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth prune}: removes blobs no named image references; with {@code --build-cache}, the build cache. */
@Command(name = "prune", description = "Remove blobs that no image in the store references.")
final class PruneCommand implements Runnable {
    @Option(names = "--build-cache", description = "Also empty the build cache and the RUN --mount=type=cache directories.")
    boolean buildCache;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (buildCache) {
            buildCache(spec.commandLine().getOut(), spec.commandLine().getErr());
        }
        blobs(spec.commandLine().getOut());
    }

    /** Empties the build cache (as RUN wrote it) and says how much it freed. */
    static void buildCache(java.io.PrintWriter out, java.io.PrintWriter err) {
        Builder.CachePruned c = Builder.create(Stores.home())
                .withStepRunner(new RuntimeStepRunner(Stores.home(), err)).pruneCache(); // deletes as RUN wrote
        err.flush();
        out.println("Deleted " + c.entries() + " build cache file" + (c.entries() == 1 ? "" : "s") + ", freed "
                + Format.size(c.bytes()));
    }

    /** Removes the blobs no image references and says how much it freed. */
    static void blobs(java.io.PrintWriter out) {
        try (ImageStore store = Stores.open()) {
            ImageStore.PruneResult r = store.prune();
            out.println("Deleted " + r.blobs() + " blob" + (r.blobs() == 1 ? "" : "s") + ", freed "
                    + Format.size(r.bytes()));
        }
    }
}
