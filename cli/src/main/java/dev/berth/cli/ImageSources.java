package dev.berth.cli;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageArchive;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * An image to read wherever it is: the store (a name or id), an OCI layout ({@code oci:DIR[:TAG]}), or an
 * archive ({@code oci-archive:FILE}, {@code docker-archive:FILE}, loaded into a scratch store under the
 * home's {@code tmp/} for the time of the work and removed after).
 */
final class ImageSources {
    private ImageSources() {}

    static <T> T withImage(String arg, String what, Function<Image, T> work) {
        if (arg.startsWith("oci:")) {
            String rest = arg.substring(4);
            int colon = rest.lastIndexOf(':');
            Path dir = Path.of(colon > 0 ? rest.substring(0, colon) : rest);
            String tag = colon > 0 ? rest.substring(colon + 1) : null;
            if (!Files.isRegularFile(dir.resolve("index.json"))) {
                throw new LayersException(what + ": " + dir + " is not an OCI layout (no index.json)");
            }
            try (ImageStore layout = ImageStore.open(dir)) {
                List<Descriptor> entries = layout.entries().stream().filter(d -> tag == null
                        || tag.equals(d.annotations().get("org.opencontainers.image.ref.name"))).toList();
                if (entries.size() != 1) {
                    throw new LayersException(what + ": " + dir + (entries.isEmpty() ? " has no image" : " has "
                            + entries.size() + " images") + (tag == null ? "" : " tagged " + tag)
                            + (tag == null && entries.size() > 1 ? ": name one with oci:DIR:TAG" : ""));
                }
                return work.apply(layout.image(entries.getFirst(), Platform.host(), arg));
            }
        }
        if (arg.startsWith("oci-archive:") || arg.startsWith("docker-archive:")) {
            Path file = Path.of(arg.substring(arg.indexOf(':') + 1));
            Path scratch = null;
            try {
                Files.createDirectories(Stores.home().tmp());
                scratch = dev.berth.layers.TempDirs.create(Stores.home().tmp(), "analyze-");
                try (ImageStore store = ImageStore.open(scratch.resolve("store"), scratch.resolve("tmp"))) {
                    Files.createDirectories(scratch.resolve("tmp"));
                    List<ImageArchive.Loaded> loaded = ImageArchive.load(file, store);
                    if (loaded.size() != 1) {
                        throw new LayersException(what + ": " + file + " holds " + loaded.size() + " images");
                    }
                    return work.apply(store.image(loaded.getFirst().descriptor(), Platform.host(), arg));
                }
            } catch (IOException e) {
                throw new LayersException(what + ": " + e.getMessage(), e);
            } finally {
                if (scratch != null) {
                    try {
                        LayerExtractor.deleteTree(scratch);
                    } catch (IOException ignored) {
                        // tmp/ is emptied by prune
                    }
                }
            }
        }
        try (ImageStore store = Stores.open()) {
            return work.apply(Stores.image(store, Stores.findOne(store, arg)));
        }
    }
}
