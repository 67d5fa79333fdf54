package dev.berth.runtime;

import dev.berth.layers.BlobSource;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a container runs: layers (base first) whose blobs {@code blobs} can read, and the config that says
 * how (user, environment, command, working directory). An image of the store is one; so is a stage of a
 * build that is not an image yet ({@code RUN}), which is why the runtime takes this and not a name.
 *
 * @param name what messages and {@code berth ps} call it ({@code alpine:3.20})
 * @param id what {@code state.json} records as the image: the manifest digest of a stored image
 */
public record ContainerImage(String name, String id, List<Layer> layers, BlobSource blobs, ContainerConfig config,
                             Platform platform) {

    /** One layer: its blob and the digest of its uncompressed content, which names its snapshot. */
    public record Layer(Descriptor blob, Digest diffId) {
        public Layer {
            Objects.requireNonNull(blob, "blob");
            Objects.requireNonNull(diffId, "diffId");
        }
    }

    public ContainerImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(id, "id");
        layers = List.copyOf(layers);
        Objects.requireNonNull(blobs, "blobs");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(platform, "platform");
    }

    /** An image of a store (or an archive, or a registry) as the reference it was asked by. */
    public static ContainerImage of(Reference ref, Image image) {
        return new ContainerImage(ref.familiar(), image.digest().toString(), layersOf(image), image.blobs(),
                image.config().value().containerConfig(), image.platform());
    }

    /** An image's layers, base first. */
    public static List<Layer> layersOf(Image image) {
        List<Layer> layers = new ArrayList<>(image.layers().size());
        for (int i = 0; i < image.layers().size(); i++) {
            layers.add(new Layer(image.layers().get(i), image.diffIds().get(i)));
        }
        return layers;
    }
}
