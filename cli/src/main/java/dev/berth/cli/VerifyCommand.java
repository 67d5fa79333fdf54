package dev.berth.cli;

import dev.berth.layers.ImageStore;
import dev.berth.layers.StoreVerify;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code berth verify}: every blob of every image in the store re-hashed (exit 1 naming the image and the
 * blob on a mismatch); {@code --repair} rebuilds an {@code index.json} that cannot be read.
 */
@Command(name = "verify", description = "Check every image of the store blob by blob (--repair: rebuild index.json).")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--repair", description = "Rebuild index.json from the blobs the store holds (the images come"
            + " back unnamed; the old file is kept beside it), then verify.")
    boolean repair;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (repair) {
            StoreVerify.Repair r = StoreVerify.repair(Stores.home().root().resolve("store"));
            out.println("index.json rebuilt with " + r.images() + " images (the old one is " + r.oldIndex().getFileName()
                    + ")");
            r.lost().forEach(l -> err.println("berth: verify --repair: not recovered: " + l));
        }
        List<StoreVerify.Problem> problems;
        try (ImageStore store = Stores.open()) {
            problems = StoreVerify.verify(store, line -> {
                out.println(line);
                out.flush();
            });
        }
        out.flush();
        problems.forEach(p -> err.println("berth: verify: " + p));
        err.flush();
        return problems.isEmpty() ? 0 : 1;
    }
}
