package dev.berth.builder;

import dev.berth.layers.ImageStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The cache entries a build made or reused, recorded as its steps finish (every platform's build of a
 * request into one), and written after the image's outputs to each {@code --cache-to}. An export that
 * fails is a warning: the image is built and named already.
 */
final class CacheExports {
    /** An entry, and whether its stage's layers end up in the image (mode=min keeps only those). */
    record Recorded(boolean inImage, CacheArtifact.Entry entry) {}

    private final List<Recorded> recorded = new ArrayList<>();

    synchronized void add(boolean inImage, String key, BuildCache.Result result) {
        recorded.add(new Recorded(inImage, new CacheArtifact.Entry(key, result)));
    }

    /** The entries of {@code mode}, each key once (the first result recorded for it). */
    synchronized List<CacheArtifact.Entry> entries(CacheSpec.Mode mode) {
        Map<String, CacheArtifact.Entry> out = new LinkedHashMap<>();
        for (Recorded r : recorded) {
            if (mode == CacheSpec.Mode.MAX || r.inImage()) {
                out.putIfAbsent(r.entry().key(), r.entry());
            }
        }
        return List.copyOf(out.values());
    }

    /** Writes every registry and layout export; inline ones went into the image's config already. */
    void write(List<CacheSpec> to, ImageStore store, CacheRegistry registry, LazyBlobs lazy,
               Consumer<BuildEvent> events) {
        for (CacheSpec spec : to) {
            String what = "--cache-to " + RemoteCache.describe(spec);
            try {
                switch (spec) {
                    case CacheSpec.Registry r -> {
                        List<CacheArtifact.Entry> entries = entries(r.mode());
                        CacheArtifact.Written w = CacheArtifact.write(store, entries);
                        events.accept(new BuildEvent.Note("exporting cache to " + r.ref().familiar() + " ("
                                + entries.size() + " steps, " + w.layers().size() + " layers)"));
                        registry.push(store, w.artifact(), w.fallback(), r.ref(), lazy);
                    }
                    case CacheSpec.Local l -> {
                        List<CacheArtifact.Entry> entries = entries(l.mode());
                        CacheArtifact.Written w = CacheArtifact.write(store, entries);
                        lazy.ensureAll(store, w.layers());
                        events.accept(new BuildEvent.Note("exporting cache to " + l.directory() + " ("
                                + entries.size() + " steps, " + w.layers().size() + " layers)"));
                        try (ImageStore layout = ImageStore.open(l.directory())) {
                            layout.copyFrom(store, w.artifact());
                            layout.tag(l.tag(), w.artifact());
                        }
                    }
                    case CacheSpec.Inline i -> { }
                }
            } catch (RuntimeException e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
                events.accept(new BuildEvent.Warning(what + ": exporting the cache failed (" + m
                        + "); the image is built"));
            }
        }
    }
}
