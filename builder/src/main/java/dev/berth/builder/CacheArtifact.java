package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Document;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The cache's format in a registry or a layout: one OCI image manifest whose {@code artifactType} is
 * berth's, whose config is the keys document and whose layers are the cached layers (their own blobs, so a
 * registry that has them already is not sent them again). For registries that refuse artifact types they
 * do not know, the fallback is a plain image manifest: an empty image config, the cached layers, and the
 * keys document as its last layer. An image built with {@code --cache-to type=inline} carries the same
 * document in its config, under {@link #INLINE_KEY}, its layers the image's own.
 *
 * <p>The keys document: {@code {"version":1,"layers":[DIFF_ID...],"entries":[{"key":K,"layer":I,
 * "warnings":[...]}...]}}, {@code layers[i]} the diff_id of the manifest's i-th layer, an entry's
 * {@code layer} absent for a step that made none. Keys are hex SHA-256 of what decides a step's result
 * (see {@link BuildRun}): no times, host paths, user names or secrets go into them.
 */
final class CacheArtifact {
    static final MediaType ARTIFACT_TYPE = MediaType.of("application/vnd.berth.build-cache.v1");
    static final MediaType KEYS_TYPE = MediaType.of("application/vnd.berth.build-cache.keys.v1+json");
    static final String INLINE_KEY = "dev.berth.build-cache.v1";
    static final int VERSION = 1;

    /** One cached step: its key, the layer it made (none for a step that made no layer), its warnings. */
    record Entry(String key, BuildCache.Result result) {}

    /** An artifact written to a store: the manifest, its fallback form, and the layers both list. */
    record Written(Descriptor artifact, Descriptor fallback, List<Descriptor> layers) {}

    private CacheArtifact() {}

    /** The keys document of {@code entries}; layers are listed once each, in first-use order. */
    static Map<String, Object> document(List<Entry> entries, List<Descriptor> layersOut) {
        List<Object> diffIds = new ArrayList<>();
        Map<Digest, Integer> position = new LinkedHashMap<>();
        List<Object> list = new ArrayList<>();
        for (Entry e : entries) {
            Integer i = null;
            if (e.result().blob().isPresent()) {
                Descriptor blob = e.result().blob().get().withOciLayerType();
                i = position.get(blob.digest());
                if (i == null) {
                    i = layersOut.size();
                    position.put(blob.digest(), i);
                    layersOut.add(blob);
                    diffIds.add(e.result().diffId().orElseThrow().toString());
                }
            }
            list.add(entry(e, i));
        }
        return assemble(diffIds, list);
    }

    /** The same document for an image's config: its layers are the image's, so entries index those. */
    static Map<String, Object> inlineDocument(List<Entry> entries, List<Descriptor> imageLayers, List<Digest> diffIds) {
        Map<Digest, Integer> position = new LinkedHashMap<>();
        for (int i = 0; i < imageLayers.size(); i++) {
            position.putIfAbsent(imageLayers.get(i).digest(), i);
        }
        List<Object> list = new ArrayList<>();
        for (Entry e : entries) {
            Integer i = e.result().blob().map(b -> position.get(b.digest())).orElse(null);
            if (e.result().blob().isPresent() && i == null) {
                continue; // a layer of another stage: not in this image, so not in its inline cache
            }
            list.add(entry(e, i));
        }
        return assemble(diffIds.stream().map(Digest::toString).toList(), list);
    }

    private static Map<String, Object> assemble(List<?> diffIds, List<Object> entries) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", VERSION);
        doc.put("layers", diffIds);
        doc.put("entries", entries);
        return doc;
    }

    /** An entry as the document has it; {@code layer} the index of its layer, null for none. */
    private static Map<String, Object> entry(Entry e, Integer layer) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", e.key());
        if (layer != null) {
            m.put("layer", layer);
        }
        if (!e.result().warnings().isEmpty()) {
            m.put("warnings", e.result().warnings());
        }
        return m;
    }

    /** Writes the artifact and its fallback (config, keys, manifests) into {@code store}; layers stay as they are. */
    static Written write(ImageStore store, List<Entry> entries) {
        List<Descriptor> layers = new ArrayList<>();
        byte[] keys = Json.writePlain(document(entries, layers));
        Descriptor keysBlob = Descriptor.of(KEYS_TYPE, store.put(keys).digest(), keys.length);
        Manifest artifact = new Manifest(2, Optional.of(MediaType.OCI_MANIFEST), Optional.of(ARTIFACT_TYPE), keysBlob,
                layers, Optional.empty(), Map.of(), Map.of());
        byte[] empty = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Descriptor emptyConfig = Descriptor.of(MediaType.OCI_CONFIG, store.put(empty).digest(), empty.length);
        List<Descriptor> withKeys = new ArrayList<>(layers);
        withKeys.add(keysBlob);
        Manifest fallback = Manifest.of(MediaType.OCI_MANIFEST, emptyConfig, withKeys,
                Map.of("dev.berth.build-cache", "v1"));
        return new Written(store.put(Document.of(artifact, MediaType.OCI_MANIFEST)),
                store.put(Document.of(fallback, MediaType.OCI_MANIFEST)), List.copyOf(layers));
    }

    /** What a manifest holds: a cache artifact (either form), or an image whose config carries inline keys. */
    sealed interface Read {
        /** Keys with the layers they name. */
        record Entries(List<Entry> entries) implements Read {}

        /** Not a cache at all (an image without inline keys): nothing to use, nothing wrong. */
        record None(String why) implements Read {}
    }

    /**
     * Reads a manifest's cache entries; {@code blob} gives a blob's bytes (the keys document, an image
     * config). A document of a newer berth, or one that does not add up, is an exception naming {@code what}.
     */
    static Read read(byte[] manifestBytes, Function<Descriptor, byte[]> blob, String what) {
        Manifest m = Json.read(manifestBytes, Manifest.class, what + ": manifest");
        if (m.config().mediaType().equals(KEYS_TYPE)) {
            return new Read.Entries(entries(blob.apply(m.config()), m.layers(), what));
        }
        Optional<Descriptor> keys = m.layers().stream().filter(l -> l.mediaType().equals(KEYS_TYPE)).findFirst();
        if (keys.isPresent()) {
            return new Read.Entries(entries(blob.apply(keys.get()),
                    m.layers().stream().filter(l -> !l.mediaType().equals(KEYS_TYPE)).toList(), what));
        }
        if (!m.config().mediaType().equals(MediaType.OCI_CONFIG) && !m.config().mediaType().equals(MediaType.DOCKER_CONFIG)) {
            return new Read.None("it is neither a berth build cache nor an image (config " + m.config().mediaType() + ")");
        }
        Object config = Json.readPlain(blob.apply(m.config()), what + ": image config");
        if (config instanceof Map<?, ?> c && c.get(INLINE_KEY) instanceof Map<?, ?> inline) {
            return new Read.Entries(entries(inline, m.layers(), what));
        }
        return new Read.None("the image has no inline cache (build it with --cache-to type=inline)");
    }

    private static List<Entry> entries(byte[] doc, List<Descriptor> layers, String what) {
        if (!(Json.readPlain(doc, what + ": keys") instanceof Map<?, ?> m)) {
            throw new BuildException(what + ": the keys document is not an object");
        }
        return entries(m, layers, what);
    }

    private static List<Entry> entries(Map<?, ?> doc, List<Descriptor> layers, String what) {
        if (!(doc.get("version") instanceof Number v)) {
            throw new BuildException(what + ": the keys document has no version");
        }
        if (v.intValue() != VERSION) {
            throw new BuildException(what + ": written by " + (v.intValue() > VERSION ? "a newer" : "another")
                    + " berth (cache format " + v + "; this one reads " + VERSION + ")");
        }
        if (!(doc.get("layers") instanceof List<?> diffIds) || diffIds.size() != layers.size()
                || !(doc.get("entries") instanceof List<?> list)) {
            throw new BuildException(what + ": the keys document does not match the manifest's "
                    + layers.size() + " layers");
        }
        List<Entry> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> e) || !(e.get("key") instanceof String key) || !key.matches("[0-9a-f]{64}")) {
                throw new BuildException(what + ": an entry without a key");
            }
            List<String> warnings = e.get("warnings") instanceof List<?> w ? w.stream().map(String::valueOf).toList()
                    : List.of();
            if (e.get("layer") instanceof Number n) {
                int i = n.intValue();
                if (i < 0 || i >= layers.size()) {
                    throw new BuildException(what + ": entry " + key.substring(0, 12) + " names layer " + i
                            + " of " + layers.size());
                }
                out.add(new Entry(key, new BuildCache.Result(Optional.of(Digest.parse(String.valueOf(diffIds.get(i)))),
                        Optional.of(layers.get(i)), warnings)));
            } else {
                out.add(new Entry(key, BuildCache.Result.noLayer(warnings)));
            }
        }
        return out;
    }
}
