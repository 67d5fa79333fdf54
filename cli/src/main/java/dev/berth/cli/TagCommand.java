package dev.berth.cli;

import dev.berth.layers.ImageStore;
import dev.berth.layers.Reference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth tag SRC DST}: another name for an image. */
@Command(name = "tag", description = "Give an image another name.")
final class TagCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "Image name or id.")
    String source;

    @Parameters(index = "1", paramLabel = "TARGET", description = "New name, NAME[:TAG].")
    String target;

    @Override
    public void run() {
        try (ImageStore store = Stores.open()) {
            Stores.Entry e = Stores.findOne(store, source);
            store.tag(Reference.parse(target), e.descriptor());
        }
    }
}
