package dev.berth.registry.internal;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.Manifest;
import dev.berth.layers.Reference;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import dev.berth.registry.PushOptions;
import dev.berth.registry.PushResult;
import dev.berth.registry.RegistryException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pushes an image (or an index and every image in it) from the store to one repository. If the registry
 * already has the same digest under the name, nothing is sent. Otherwise each blob is checked with a
 * HEAD, then mounted from another repository of the same registry known to hold it (any mount error falls
 * back to an upload), then uploaded; manifests go last, an index after its images.
 */
public final class Pusher {
    /** Mount sources asked for in one token: a few, since every one is a scope in each token request. */
    private static final int MAX_MOUNT_SOURCES = 4;

    private final ImageStore store;
    private final BlobLocations locations;
    private final BlobUploader.Limits limits;
    /** Where blobs the store lacks come from; set for one push. */
    private Optional<PushOptions.MissingBlobs> missing = Optional.empty();

    public Pusher(ImageStore store, BlobLocations locations, BlobUploader.Limits limits) {
        this.store = store;
        this.locations = locations;
        this.limits = limits;
    }

    private record Counts(AtomicInteger uploaded, AtomicInteger mounted, AtomicInteger existing, AtomicLong bytes) {
        Counts() {
            this(new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicLong());
        }
    }

    public PushResult push(Transport t, Descriptor top, Reference source, Reference dest, PushOptions options) {
        Progress progress = options.progress();
        String repo = dest.repository();
        String what = source.familiar();
        if (dest.digest().isPresent() && !dest.digest().get().equals(top.digest())) {
            throw new RegistryException("cannot push " + what + " as " + dest.familiar() + ": the image's digest is "
                    + top.digest());
        }
        String reference = dest.tag().orElseGet(() -> top.digest().toString());
        missing = options.missing();

        // everything the push will touch, read from the store first so that a missing blob fails early
        Map<Digest, Descriptor> manifests = new LinkedHashMap<>();
        Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        Set<Digest> configs = new LinkedHashSet<>();
        collect(top, what, manifests, blobs, configs);

        List<String> sources = mountSources(t, source, dest, options, blobs.keySet());
        List<Scope> scopes = new ArrayList<>();
        scopes.add(Scope.pushPull(repo));
        sources.forEach(s -> scopes.add(Scope.pull(s)));

        Manifests.Head head = Manifests.head(t, repo, reference, scopes, progress);
        if (head.descriptor().map(d -> d.digest().equals(top.digest())).orElse(false)) {
            for (Descriptor b : blobs.values()) {
                progress.on(new ProgressEvent.BlobExists(b.digest(), b.size(), kind(b, configs)));
            }
            return new PushResult(dest, top.digest(), top.size(), top.mediaType(), true, 0, 0, blobs.size(), 0);
        }

        Counts counts = new Counts();
        pushBlobs(t, repo, new ArrayList<>(blobs.values()), configs, sources, scopes, counts, progress);

        // images before the index that lists them; each by digest, the top one by the name asked for
        for (Descriptor m : manifests.values()) {
            byte[] bytes = store.readBytes(m, what);
            boolean isTop = m.digest().equals(top.digest());
            if (!isTop) {
                Manifests.Head existing = Manifests.head(t, repo, m.digest().toString(), scopes, progress);
                if (existing.status() == 200) {
                    continue;
                }
            }
            Manifests.put(t, repo, isTop ? reference : m.digest().toString(), bytes, m.mediaType(), m.digest(),
                    scopes, progress);
            if (isTop) {
                progress.on(new ProgressEvent.ManifestPushed(dest, m.digest(), bytes.length));
            }
        }
        for (Descriptor b : blobs.values()) {
            locations.remember(b.digest(), dest.registry(), repo);
        }
        return new PushResult(dest, top.digest(), top.size(), top.mediaType(), false, counts.uploaded.get(),
                counts.mounted.get(), counts.existing.get(), counts.bytes.get());
    }

    /** Walks an index or manifest: manifests in push order (children first), blobs, configs. */
    private void collect(Descriptor d, String what, Map<Digest, Descriptor> manifests, Map<Digest, Descriptor> blobs,
                         Set<Digest> configs) {
        if (!store.has(d)) {
            throw new RegistryException("cannot push " + what + ": " + d.mediaType() + " " + d.digest()
                    + d.platform().map(p -> " (" + p + ")").orElse("") + " is not in the store");
        }
        if (d.mediaType().isIndex()) {
            ImageIndex index = Json.read(store.readBytes(d, what), ImageIndex.class, what + " index " + d.digest());
            for (Descriptor child : index.manifests()) {
                collect(child, what, manifests, blobs, configs);
            }
        } else if (d.mediaType().isManifest()) {
            Manifest m = Json.read(store.readBytes(d, what), Manifest.class, what + " manifest " + d.digest());
            for (Descriptor b : concat(m.config(), m.layers())) {
                if (isForeign(b)) {
                    continue;
                }
                if (!store.has(b) && missing.isEmpty()) {
                    throw new RegistryException("cannot push " + what + ": blob " + b.digest()
                            + " is not in the store");
                }
                blobs.putIfAbsent(b.digest(), b);
            }
            configs.add(m.config().digest());
        } else {
            throw new RegistryException("cannot push " + what + ": unsupported media type " + d.mediaType());
        }
        manifests.putIfAbsent(d.digest(), d.withAnnotations(Map.of()));
    }

    /** Non-distributable layers (with URLs) stay where they are, as docker leaves them. */
    private static boolean isForeign(Descriptor b) {
        return !b.urls().isEmpty() && (b.mediaType().value().contains("foreign")
                || b.mediaType().value().contains("nondistributable"));
    }

    private static List<Descriptor> concat(Descriptor first, List<Descriptor> rest) {
        List<Descriptor> out = new ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }

    private static ProgressEvent.BlobKind kind(Descriptor b, Set<Digest> configs) {
        return configs.contains(b.digest()) ? ProgressEvent.BlobKind.CONFIG : ProgressEvent.BlobKind.LAYER;
    }

    /** Other repositories of the destination's registry that may hold the blobs. */
    private List<String> mountSources(Transport t, Reference source, Reference dest, PushOptions options,
                                      Set<Digest> digests) {
        Set<String> out = new LinkedHashSet<>();
        for (Reference r : options.mountFrom()) {
            if (r.registry().equals(dest.registry())) {
                out.add(r.repository());
            }
        }
        if (source.registry().equals(dest.registry())) {
            out.add(source.repository());
        }
        for (Digest d : digests) {
            out.addAll(locations.repositories(d, dest.registry()));
        }
        out.remove(dest.repository());
        return out.stream().limit(MAX_MOUNT_SOURCES).toList();
    }

    private void pushBlobs(Transport t, String repo, List<Descriptor> blobs, Set<Digest> configs, List<String> sources,
                           List<Scope> scopes, Counts counts, Progress progress) {
        List<Parallel.Task> tasks = new ArrayList<>();
        for (Descriptor b : blobs) {
            progress.on(new ProgressEvent.BlobQueued(b.digest(), b.size(), kind(b, configs)));
            tasks.add(() -> {
                t.transfers().acquire();
                try {
                    pushBlob(t, repo, b, kind(b, configs), sources, scopes, counts, progress);
                } finally {
                    t.transfers().release();
                }
            });
        }
        Parallel.runAll(tasks);
    }

    private void pushBlob(Transport t, String repo, Descriptor b, ProgressEvent.BlobKind kind, List<String> sources,
                          List<Scope> scopes, Counts counts, Progress progress) {
        String what = "check " + b.digest().shortHex();
        Response<Void> head = t.execute(Call.of("HEAD", URI.create("/v2/" + repo + "/blobs/" + b.digest()), scopes,
                progress, what));
        if (head.ok()) {
            counts.existing.incrementAndGet();
            progress.on(new ProgressEvent.BlobExists(b.digest(), b.size(), kind));
            return;
        }
        if (head.status() != 404) {
            throw t.error(head, scopes);
        }
        Optional<URI> session = Optional.empty();
        List<String> candidates = new ArrayList<>(locations.repositories(b.digest(), t.endpoint().registry()));
        candidates.retainAll(sources);
        for (String s : sources) {
            if (!candidates.contains(s)) {
                candidates.add(s);
            }
        }
        for (String from : candidates) {
            URI mount = URI.create("/v2/" + repo + "/blobs/uploads/?mount=" + enc(b.digest().toString())
                    + "&from=" + enc(from));
            Response<Void> r;
            try {
                r = t.execute(Call.of("POST", mount, scopes, progress, "mount " + b.digest().shortHex())
                        .body(Body.bytes(new byte[0], "application/octet-stream")));
            } catch (RegistryException e) {
                progress.on(new ProgressEvent.Warning("mount of " + b.digest().shortHex() + " from " + from
                        + " failed (" + e.getMessage() + "); uploading instead"));
                continue;
            }
            if (r.status() == 201) {
                counts.mounted.incrementAndGet();
                progress.on(new ProgressEvent.BlobMounted(b.digest(), from));
                return;
            }
            if (r.status() == 202 && r.headers().firstValue("Location").isPresent()) {
                // the registry could not mount (the source lacks the blob, or we may not read it) and opened an
                // upload instead: use it
                session = Optional.of(BlobUploader.sessionOf(r));
                break;
            }
            // any other answer (400 on Docker Hub for some names, 401/403 without access): just upload
        }
        if (!store.has(b) && !missing.map(m -> m.fetch(b)).orElse(false)) {
            throw new RegistryException("cannot push blob " + b.digest() + ": it is not in the store, and no "
                    + "repository of " + t.endpoint().registry() + " could mount it");
        }
        long sent = BlobUploader.upload(t, repo, scopes, store.blobPath(b.digest()), b, session, limits, progress);
        counts.uploaded.incrementAndGet();
        counts.bytes.addAndGet(sent);
        progress.on(new ProgressEvent.BlobDone(b.digest(), b.size()));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
