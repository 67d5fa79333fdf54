package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The caches a build reads ({@code --cache-from}): their keys, read once before the build, and their layers,
 * downloaded only when something needs their bytes ({@link LazyBlobs}). A cache that is missing, unreadable
 * or of a newer berth is a warning and adds nothing; a layer that turns out gone or corrupt when it is
 * downloaded is dropped ({@link #drop}) and the build starts again without it.
 */
final class RemoteCache implements LazyBlobs {
    /** Where a cache's layers come from: a registry repository or a layout directory. */
    private sealed interface Source {
        String describe();

        record Repository(Reference ref) implements Source {
            @Override
            public String describe() {
                return ref.familiar();
            }
        }

        record Layout(Path directory) implements Source {
            @Override
            public String describe() {
                return directory.toString();
            }
        }
    }

    private record Hit(BuildCache.Result result, Source source) {}

    private final CacheRegistry registry;
    private final Map<String, Hit> entries = new LinkedHashMap<>();
    private final Map<Digest, Source> blobs = new ConcurrentHashMap<>();
    private final Set<Digest> dropped = ConcurrentHashMap.newKeySet();
    private final List<Reference> repositories = new ArrayList<>();

    private RemoteCache(CacheRegistry registry) {
        this.registry = registry;
    }

    static RemoteCache empty() {
        return new RemoteCache(CacheRegistry.NONE);
    }

    /** Reads every {@code --cache-from}; each one that cannot be read is one warning. */
    static RemoteCache load(List<CacheSpec> from, CacheRegistry registry, ImageStore store, List<Platform> platforms,
                            Consumer<String> warn) {
        RemoteCache c = new RemoteCache(registry);
        for (CacheSpec spec : from) {
            String what = "--cache-from " + describe(spec);
            try {
                switch (spec) {
                    case CacheSpec.Registry r -> c.loadRegistry(r.ref(), store, platforms, what, warn);
                    case CacheSpec.Local l -> c.loadLayout(l, what, warn);
                    case CacheSpec.Inline i -> { }
                }
            } catch (RuntimeException e) {
                warn.accept(what + ": cannot read the cache (" + oneLine(e) + "); building without it");
            }
        }
        return c;
    }

    static String describe(CacheSpec spec) {
        return switch (spec) {
            case CacheSpec.Registry r -> r.ref().familiar();
            case CacheSpec.Local l -> l.directory().toString();
            case CacheSpec.Inline i -> "type=inline";
        };
    }

    private int loadRegistry(Reference ref, ImageStore store, List<Platform> platforms, String what,
                             Consumer<String> warn) {
        Optional<CacheRegistry.Fetched> top = registry.manifest(ref);
        if (top.isEmpty()) {
            warn.accept(what + ": no such cache in the registry; building without it");
            return 0;
        }
        Source source = new Source.Repository(ref);
        List<byte[]> manifests = new ArrayList<>();
        if (top.get().mediaType().isIndex()) {
            // an image of several platforms with inline keys: the platforms this build makes
            ImageIndex index = Json.read(top.get().bytes(), ImageIndex.class, what + ": index");
            for (Descriptor d : index.manifests()) {
                boolean wanted = d.platform().map(p -> platforms.stream().anyMatch(p::satisfies)).orElse(false);
                if (wanted && d.mediaType().isManifest()) {
                    registry.manifest(ref.withDigest(d.digest())).ifPresent(m -> manifests.add(m.bytes()));
                }
            }
        } else {
            manifests.add(top.get().bytes());
        }
        int n = 0;
        for (byte[] m : manifests) {
            CacheArtifact.Read read = CacheArtifact.read(m, blob -> {
                if (!store.has(blob)) {
                    registry.fetch(ref, blob, store);
                }
                return store.readBytes(blob, what);
            }, what);
            n += add(read, source, what, warn);
        }
        if (n > 0) {
            repositories.add(ref);
        }
        return n;
    }

    private int loadLayout(CacheSpec.Local l, String what, Consumer<String> warn) {
        if (!Files.isDirectory(l.directory()) || !Files.isRegularFile(l.directory().resolve("index.json"))) {
            warn.accept(what + ": no cache in that directory; building without it");
            return 0;
        }
        try (ImageStore layout = ImageStore.open(l.directory())) {
            Optional<Descriptor> m = layout.resolve(l.tag());
            if (m.isEmpty()) {
                warn.accept(what + ": the layout has no cache named " + l.tag() + "; building without it");
                return 0;
            }
            CacheArtifact.Read read = CacheArtifact.read(layout.readBytes(m.get(), what),
                    blob -> layout.readBytes(blob, what), what);
            return add(read, new Source.Layout(l.directory()), what, warn);
        }
    }

    private int add(CacheArtifact.Read read, Source source, String what, Consumer<String> warn) {
        return switch (read) {
            case CacheArtifact.Read.None none -> {
                warn.accept(what + ": " + none.why() + "; building without it");
                yield 0;
            }
            case CacheArtifact.Read.Entries e -> {
                for (CacheArtifact.Entry entry : e.entries()) {
                    entries.putIfAbsent(entry.key(), new Hit(entry.result(), source));
                    entry.result().blob().ifPresent(b -> blobs.putIfAbsent(b.digest(), source));
                }
                yield e.entries().size();
            }
        };
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The result a cache recorded for {@code key}, unless its layer was found gone. */
    Optional<BuildCache.Result> lookup(String key) {
        Hit h = entries.get(key);
        if (h == null || h.result().blob().map(b -> dropped.contains(b.digest())).orElse(false)) {
            return Optional.empty();
        }
        return Optional.of(h.result());
    }

    /** Forgets a layer that could not be had: the entries that name it are misses from now on. */
    void drop(Digest blob) {
        dropped.add(blob);
    }

    @Override
    public List<Reference> repositories() {
        return List.copyOf(repositories);
    }

    /**
     * Starts downloading a layer the build will need (a hit of a step whose layer is in an image that goes
     * to the store), so it arrives while later steps run; {@link #ensure} waits for it.
     */
    void prefetch(ImageStore store, Descriptor blob) {
        if (!store.has(blob) && blobs.containsKey(blob.digest())) {
            prefetches.computeIfAbsent(blob.digest(), d -> {
                java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
                Thread.ofVirtual().name("berth-prefetch").start(() -> {
                    try {
                        fetch(store, blob);
                        f.complete(null);
                    } catch (RuntimeException e) {
                        f.completeExceptionally(e);
                    }
                });
                return f;
            });
        }
    }

    private final Map<Digest, java.util.concurrent.CompletableFuture<Void>> prefetches = new ConcurrentHashMap<>();

    @Override
    public boolean ensure(ImageStore store, Descriptor blob) {
        if (store.has(blob)) {
            return true;
        }
        if (!blobs.containsKey(blob.digest())) {
            return false;
        }
        java.util.concurrent.CompletableFuture<Void> started = prefetches.get(blob.digest());
        if (started != null) {
            try {
                started.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
            return true;
        }
        fetch(store, blob);
        return true;
    }

    /** Downloads a layer into the store, verified; a failure is a {@link CacheBlobException}. */
    private void fetch(ImageStore store, Descriptor blob) {
        Source source = blobs.get(blob.digest());
        try {
            switch (source) {
                case Source.Repository r -> registry.fetch(r.ref(), blob, store);
                case Source.Layout l -> {
                    try (ImageStore layout = ImageStore.open(l.directory());
                         InputStream in = layout.open(blob, "cached layer " + blob.digest())) {
                        store.put(in, Optional.of(blob.digest()), OptionalLong.of(blob.size()));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new CacheBlobException(blob.digest(), "cached layer " + blob.digest().shortHex() + " from "
                    + source.describe() + ": " + oneLine(e), e);
        }
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
