package dev.berth.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Multi-platform images in the store: the entries of an index with the images the store holds for them,
 * and indexes assembled from images made separately, as podman's and docker's {@code manifest} verbs do.
 * A change writes a new index blob and then points the name at it (the old blob stays until prune), so
 * readers see the old index or the new one.
 */
public final class ManifestLists {
    private ManifestLists() {}

    /**
     * One entry of an index, with its image when the store holds that image's manifest and config (an
     * attestation, a nested index or an entry a single-platform pull left out has none).
     */
    public record Entry(Descriptor descriptor, Optional<Image> image) {
        /** The entry's platform as the index states it, else its config's, else {@code unknown}. */
        public String platformName() {
            return descriptor.platform().map(Platform::toString)
                    .or(() -> image.map(i -> i.platform().toString())).orElse("unknown");
        }

        /** Whether the entry is an image (not an attestation or signature, which have {@code unknown/unknown}). */
        public boolean isImage() {
            return descriptor.mediaType().isManifest()
                    && descriptor.platform().map(p -> !p.os().equals("unknown")).orElse(true);
        }
    }

    /** The index a descriptor of the store names; {@code what} names it in errors. */
    public static ImageIndex index(ImageStore store, Descriptor index, String what) {
        if (!index.mediaType().isIndex()) {
            throw new LayersException(what + " is a single-platform image (" + index.mediaType()
                    + "), not a manifest list");
        }
        return store.readIndex(index, what).value();
    }

    /** Every entry of an index, in its order, with the images the store holds. */
    public static List<Entry> entries(ImageStore store, Descriptor index, String what) {
        return index(store, index, what).manifests().stream()
                .map(d -> new Entry(d, imageOf(store, d, what)))
                .toList();
    }

    private static Optional<Image> imageOf(ImageStore store, Descriptor d, String what) {
        if (!d.mediaType().isManifest() || !store.has(d)) {
            return Optional.empty();
        }
        try {
            return Optional.of(store.image(d, Platform.host(), what));
        } catch (LayersException notAnImage) { // an attestation's config and layers are not an image's
            return Optional.empty();
        }
    }

    /**
     * The entries of {@code image} (a name's descriptor in the store) to put in an index: a manifest with
     * the platform of its config, or {@code platform} when given (podman's {@code --os}, {@code --arch},
     * {@code --variant}); an index's entry for this machine, or with {@code all} every entry of it.
     */
    public static List<Descriptor> entriesFor(ImageStore store, Descriptor image, String what, boolean all,
                                              Optional<Platform> platform) {
        if (image.mediaType().isIndex()) {
            ImageIndex index = index(store, image, what);
            List<Descriptor> picked = all ? index.manifests()
                    : List.of(ImageStore.selectPlatform(index, platform.orElseGet(Platform::host), what));
            return picked.stream().map(d -> d.withAnnotations(java.util.Map.of())).toList();
        }
        Image i = store.image(image, Platform.host(), what);
        return List.of(i.descriptor().withPlatform(Optional.of(platform.orElseGet(i::platform))));
    }

    /**
     * Names a new, empty OCI index {@code list} holding {@code entries}; with {@code amend} an index the
     * name has already is kept and the entries are added to it. Returns the index's descriptor.
     */
    public static Descriptor create(ImageStore store, Reference list, List<Descriptor> entries, boolean amend) {
        Optional<Descriptor> existing = store.resolve(list);
        if (existing.isPresent() && !amend) {
            throw new LayersException(list.familiar() + " already exists in the store (--amend adds to it)");
        }
        ImageIndex base = existing.isPresent() ? index(store, existing.get(), list.familiar())
                : ImageIndex.of(MediaType.OCI_INDEX, List.of());
        return write(store, list, added(base, entries));
    }

    /** Adds entries to the index {@code list} names; an entry of the same digest is replaced. */
    public static Descriptor add(ImageStore store, Reference list, List<Descriptor> entries) {
        return write(store, list, added(index(store, named(store, list), list.familiar()), entries));
    }

    /** Removes the entry of {@code digest} from the index {@code list} names; it must be there. */
    public static Descriptor remove(ImageStore store, Reference list, Digest digest) {
        ImageIndex index = index(store, named(store, list), list.familiar());
        List<Descriptor> kept = index.manifests().stream().filter(d -> !d.digest().equals(digest)).toList();
        if (kept.size() == index.manifests().size()) {
            throw new LayersException(list.familiar() + " has no entry " + digest);
        }
        return write(store, list, index.withManifests(kept));
    }

    private static Descriptor named(ImageStore store, Reference list) {
        return store.resolve(list).orElseThrow(
                () -> new LayersException("manifest list " + list.familiar() + " is not in the store"));
    }

    private static ImageIndex added(ImageIndex index, List<Descriptor> entries) {
        List<Descriptor> out = new ArrayList<>(index.manifests());
        for (Descriptor e : entries) {
            out.removeIf(d -> d.digest().equals(e.digest()));
            out.add(e);
        }
        return index.withManifests(out);
    }

    private static Descriptor write(ImageStore store, Reference list, ImageIndex index) {
        MediaType type = index.mediaType().orElse(MediaType.OCI_INDEX);
        Descriptor d = store.put(Document.of(index, type));
        store.tag(list, d);
        return d;
    }
}
