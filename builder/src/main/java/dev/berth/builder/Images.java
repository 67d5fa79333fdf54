package dev.berth.builder;

import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Location;
import dev.berth.layers.BerthException;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The images a build names (FROM, {@code COPY --from}, {@code RUN --mount=from=}): from the store, or
 * fetched into it by {@link BaseImages}, once per name and platform. Errors are located at the
 * instruction that names the image and say how to get it.
 */
final class Images {
    /** An image from the store with the name it was asked by. */
    record Resolved(Reference ref, Image image) {
        /** Its layers as the builder's file tree knows them (nothing is indexed until asked). */
        List<ImageFs.Layer> layers() {
            List<ImageFs.Layer> out = new ArrayList<>();
            for (int i = 0; i < image.layers().size(); i++) {
                out.add(new ImageFs.Layer(image.layers().get(i), image.diffIds().get(i), Optional.empty()));
            }
            return out;
        }
    }

    private final ImageStore store;
    private final BaseImages baseImages;
    private final Platform target;
    private final Consumer<BuildEvent> events;
    private final Map<String, Resolved> known = new HashMap<>();

    Images(ImageStore store, BaseImages baseImages, Platform target, Consumer<BuildEvent> events) {
        this.store = store;
        this.baseImages = baseImages;
        this.target = target;
        this.events = events;
    }

    /** The platform a stage builds for: its {@code FROM --platform}, else the build's. */
    Platform platformOf(BuildPlan.PlannedStage ps) {
        return ps.from().instruction().platform().map(p -> {
            try {
                return Platforms.parse(p, "FROM --platform=" + p);
            } catch (BuildException e) {
                throw ps.from().instruction().location().error(e.getMessage());
            }
        }).orElse(target);
    }

    /** An image from the store, or fetched into it; errors say how to get it. */
    Resolved resolve(String name, Platform platform, Location at) {
        String key = name + " " + platform;
        Resolved r = known.get(key);
        if (r != null) {
            return r;
        }
        Reference ref;
        try {
            ref = Reference.parse(name);
        } catch (LayersException e) {
            throw at.error("invalid image name \"" + name + "\": " + e.getMessage());
        }
        Optional<Descriptor> d = store.resolve(ref);
        if (d.isEmpty()) {
            events.accept(new BuildEvent.Note("pulling " + ref.familiar()));
            try {
                d = baseImages.fetch(ref, platform, store);
            } catch (BerthException e) {
                throw at.error(e.getMessage());
            }
        }
        if (d.isEmpty()) {
            throw at.error("image " + ref.familiar() + " is not in the local store; pull it first (berth pull "
                    + ref.familiar() + ")");
        }
        Image image;
        try {
            image = store.image(d.get(), platform, ref.familiar());
        } catch (LayersException e) {
            throw at.error(e.getMessage());
        }
        if (!image.platform().satisfies(platform)) {
            throw at.error("image " + ref.familiar() + " is for " + image.platform() + ", not " + platform);
        }
        r = new Resolved(ref, image);
        known.put(key, r);
        return r;
    }
}
