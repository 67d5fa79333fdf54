package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The local store as the commands see it: opened from BERTH_HOME, images found by name or id. */
final class Stores {
    private Stores() {}

    static BerthHome home() {
        return BerthHome.fromEnvironment();
    }

    static ImageStore open() {
        return home().openStore();
    }

    /** A store entry with its name, if it has one. */
    record Entry(Optional<Reference> name, Descriptor descriptor) {
        String label() {
            return name.map(Reference::familiar).orElse(descriptor.digest().toString());
        }
    }

    static List<Entry> entries(ImageStore store) {
        List<Entry> out = new ArrayList<>();
        for (Descriptor d : store.entries()) {
            Optional<Reference> name = d.annotation(Descriptor.REF_NAME).flatMap(Stores::parseQuietly);
            out.add(new Entry(name, d));
        }
        return out;
    }

    static Optional<Reference> parseQuietly(String s) {
        try {
            return Optional.of(Reference.parse(s));
        } catch (LayersException e) {
            return Optional.empty();
        }
    }

    /**
     * Finds images by a name ({@code alpine}, {@code app:1}, {@code name@sha256:...}) or by a prefix of at
     * least 4 hex digits of an image id (config digest) or manifest digest, as docker accepts.
     * Returns every matching entry; an unknown argument is an error naming it.
     */
    static List<Entry> find(ImageStore store, String arg) {
        List<Entry> all = entries(store);
        Optional<Reference> ref = parseQuietly(arg);
        if (ref.isPresent()) {
            Optional<Descriptor> d = store.resolve(ref.get());
            if (d.isPresent()) {
                return List.of(new Entry(ref, d.get()));
            }
        }
        String hex = arg.startsWith("sha256:") ? arg.substring(7) : arg;
        if (hex.length() >= 4 && hex.matches("[0-9a-f]+")) {
            List<Entry> byId = new ArrayList<>();
            for (Entry e : all) {
                if (e.descriptor().digest().hex().startsWith(hex) || imageId(store, e).map(id -> id.hex().startsWith(hex)).orElse(false)) {
                    byId.add(e);
                }
            }
            if (!byId.isEmpty()) {
                return byId;
            }
        }
        throw new LayersException("image " + ref.map(Reference::familiar).orElse(arg) + " is not in the store");
    }

    /** The one image an argument names; an ambiguous id prefix is an error. */
    static Entry findOne(ImageStore store, String arg) {
        List<Entry> found = find(store, arg);
        long digests = found.stream().map(e -> e.descriptor().digest()).distinct().count();
        if (digests > 1) {
            throw new LayersException("\"" + arg + "\" matches " + digests + " images; give more of the id");
        }
        return found.getFirst();
    }

    static Optional<Digest> imageId(ImageStore store, Entry e) {
        try {
            return Optional.of(image(store, e).id());
        } catch (LayersException broken) {
            return Optional.empty();
        }
    }

    static Image image(ImageStore store, Entry e) {
        return store.image(e.descriptor(), Platform.host(), e.label());
    }
}
