package dev.berth.registry.internal;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Document;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.LayerUnpacker;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PullResult;
import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpHeaders;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pulls one image from one endpoint into the store: reference, manifest (an index resolved to a platform),
 * blobs streamed and verified, then the manifest, then the name. A tag is resolved with a HEAD, and a
 * manifest or index the store already holds is not fetched again (Docker Hub counts manifest GETs).
 */
public final class Puller {
    private final ImageStore store;
    private final BlobLocations locations;

    public Puller(ImageStore store, BlobLocations locations) {
        this.store = store;
        this.locations = locations;
    }

    public PullResult pull(Transport t, Reference ref, PullOptions options) {
        String repo = ref.repository();
        List<Scope> scopes = List.of(Scope.pull(repo));
        Progress progress = options.progress();
        String what = ref.familiar();
        Platform wanted = options.platform().orElseGet(Platform::host);

        Doc top = resolve(t, ref, scopes, progress, what);
        progress.on(new ProgressEvent.Resolved(ref, top.digest, top.type));
        if (top.type.isIndex() && options.allPlatforms()) {
            return pullIndex(t, ref, top, wanted, scopes, progress);
        }

        Doc manifestDoc = top;
        Optional<Platform> indexPlatform = Optional.empty();
        if (top.type.isIndex()) {
            ImageIndex index = Json.read(top.bytes, ImageIndex.class, what + " index " + top.digest);
            Descriptor entry = select(index, wanted, what);
            indexPlatform = entry.platform();
            progress.on(new ProgressEvent.PlatformSelected(entry.platform().orElse(wanted), entry.digest()));
            manifestDoc = byDigest(t, repo, entry.digest(), Optional.of(entry.mediaType()), scopes, progress, what);
            if (!manifestDoc.type.isManifest()) {
                throw new RegistryException(what + ": the index entry for " + wanted + " is a " + manifestDoc.type
                        + ", not an image manifest");
            }
        } else if (!top.type.isManifest()) {
            throw new RegistryException(what + " is a " + top.type + ", not a container image");
        }

        Manifest manifest = imageManifest(manifestDoc, what);
        Map<Digest, Wanted> blobs = new LinkedHashMap<>();
        addBlobs(blobs, manifest, true);
        long downloaded = fetchAll(t, repo, blobs.values(), progress, what, options.unpacker());
        Platform configured = checkConfig(manifest, manifestDoc, what);
        Document<Manifest> m = new Document<>(manifest, manifestDoc.bytes, manifestDoc.type, manifestDoc.digest);
        Platform platform = indexPlatform.orElse(configured);
        if (options.platform().isPresent() && !top.type.isIndex() && !configured.satisfies(wanted)) {
            throw new RegistryException(what + " is for " + configured + ", not the requested " + wanted,
                    Optional.of("PLATFORM_UNKNOWN"), java.util.OptionalInt.empty(), false, null);
        }

        store.put(m);
        if (top.type.isIndex()) {
            store.put(top.bytes);
        }
        Descriptor named = m.descriptor().withPlatform(Optional.of(platform));
        boolean updated = name(ref, named, blobs.keySet(), downloaded);
        return new PullResult(ref, top.digest, named, platform, List.of(platform), updated, downloaded,
                t.endpoint().host());
    }

    /**
     * Every entry of an index (images and attestations), their configs and layers, then the manifests, then
     * the index, named: what skopeo's {@code copy --all} keeps. Image entries are checked as a single
     * image is; an attestation's blobs (in-toto statements, not layers) are stored as they are.
     */
    private PullResult pullIndex(Transport t, Reference ref, Doc top, Platform wanted, List<Scope> scopes,
                                 Progress progress) {
        String repo = ref.repository();
        String what = ref.familiar();
        ImageIndex index = Json.read(top.bytes, ImageIndex.class, what + " index " + top.digest);
        Map<Digest, Wanted> blobs = new LinkedHashMap<>();
        List<Doc> manifests = new ArrayList<>();
        Map<Doc, Manifest> images = new LinkedHashMap<>();
        for (Descriptor e : index.manifests()) {
            String label = what + " (" + e.platform().map(Platform::toString).orElse("no platform") + ")";
            Doc d = byDigest(t, repo, e.digest(), Optional.of(e.mediaType()), scopes, progress, label);
            if (!d.type.isManifest()) {
                throw new RegistryException(label + ": entry " + e.digest() + " is a " + d.type
                        + "; berth stores indexes of image manifests only");
            }
            boolean image = e.platform().map(p -> !p.os().equals("unknown")).orElse(true);
            Manifest m = image ? imageManifest(d, label)
                    : Json.read(d.bytes, Manifest.class, label + " manifest " + d.digest);
            addBlobs(blobs, m, image);
            manifests.add(d);
            if (image) {
                images.put(d, m);
            }
        }
        long downloaded = fetchAll(t, repo, blobs.values(), progress, what, Optional.empty());
        images.forEach((d, m) -> checkConfig(m, d, what));
        for (Doc d : manifests) {
            store.put(d.bytes);
        }
        store.put(top.bytes);
        Descriptor named = Descriptor.of(top.type, top.digest, top.bytes.length);
        boolean updated = name(ref, named, blobs.keySet(), downloaded);
        List<Platform> platforms = index.images().stream().flatMap(e -> e.platform().stream()).toList();
        Platform platform = platforms.stream().filter(p -> p.satisfies(wanted)).findFirst()
                .orElse(platforms.isEmpty() ? wanted : platforms.getFirst());
        return new PullResult(ref, top.digest, named, platform, platforms, updated, downloaded, t.endpoint().host());
    }

    private static Descriptor select(ImageIndex index, Platform wanted, String what) {
        try {
            return ImageStore.selectPlatform(index, wanted, what);
        } catch (LayersException e) {
            throw new RegistryException(e.getMessage(), Optional.of("PLATFORM_UNKNOWN"), java.util.OptionalInt.empty(),
                    false, e);
        }
    }

    /** A manifest that is an image's: a config berth reads and layers it can unpack. */
    private static Manifest imageManifest(Doc doc, String what) {
        Manifest manifest = Json.read(doc.bytes, Manifest.class, what + " manifest " + doc.digest);
        if (!manifest.config().mediaType().isConfig()) {
            throw new RegistryException(what + " is not a container image (its config is a "
                    + manifest.config().mediaType() + ")");
        }
        for (Descriptor l : manifest.layers()) {
            if (!l.mediaType().isLayer()) {
                throw new RegistryException(what + ": layer " + l.digest() + " has media type " + l.mediaType()
                        + ", which berth cannot unpack");
            }
        }
        return manifest;
    }

    /** A blob to download: its kind for progress, and whether its entries are checked as a layer's. */
    private record Wanted(Descriptor descriptor, ProgressEvent.BlobKind kind, boolean check) {}

    private static void addBlobs(Map<Digest, Wanted> blobs, Manifest m, boolean image) {
        blobs.putIfAbsent(m.config().digest(), new Wanted(m.config(), ProgressEvent.BlobKind.CONFIG, false));
        for (Descriptor l : m.layers()) {
            blobs.merge(l.digest(), new Wanted(l, ProgressEvent.BlobKind.LAYER, image),
                    (a, b) -> a.check() || !b.check() ? a : b);
        }
    }

    /** The stored config of an image: one diff_id per layer, an os and an architecture; returns its platform. */
    private Platform checkConfig(Manifest manifest, Doc manifestDoc, String what) {
        Descriptor configDescriptor = manifest.config();
        ImageConfig config;
        try {
            config = Json.read(store.readBytes(configDescriptor, what), ImageConfig.class,
                    what + " config " + configDescriptor.digest());
        } catch (LayersException e) {
            throw new RegistryException(e.getMessage(), e);
        }
        int diffIds = config.rootfs().diffIds().size();
        if (diffIds != manifest.layers().size()) {
            throw new RegistryException(what + ": image " + manifestDoc.digest + " has " + manifest.layers().size()
                    + " layers but its config lists " + diffIds + " diff_ids");
        }
        return configPlatform(config, what);
    }

    /** Names what was pulled and remembers where its blobs are; returns whether the store changed. */
    private boolean name(Reference ref, Descriptor named, java.util.Collection<Digest> blobs, long downloaded) {
        Optional<Descriptor> before = store.resolve(ref);
        store.tag(ref, named);
        for (Digest b : blobs) {
            locations.remember(b, ref.registry(), ref.repository());
        }
        return downloaded > 0 || before.map(d -> !d.digest().equals(named.digest())).orElse(true);
    }

    private static Platform configPlatform(ImageConfig config, String what) {
        if (config.os().isEmpty() || config.architecture().isEmpty()) {
            throw new RegistryException(what + ": the image config lacks "
                    + (config.os().isEmpty() ? "os" : "architecture"));
        }
        return new Platform(config.architecture(), config.os(), config.osVersion(), List.of(), config.variant(), Map.of());
    }

    /** A manifest or index: exact bytes, type, digest. */
    private record Doc(byte[] bytes, MediaType type, Digest digest) {}

    private Doc resolve(Transport t, Reference ref, List<Scope> scopes, Progress progress, String what) {
        if (ref.digest().isPresent()) {
            return byDigest(t, ref.repository(), ref.digest().get(), Optional.empty(), scopes, progress, what);
        }
        String tag = ref.tag().orElse("latest");
        Manifests.Head head = Manifests.head(t, ref.repository(), tag, scopes, progress);
        rateLimit(t, head.headers(), progress);
        if (head.descriptor().isPresent()) {
            Descriptor d = head.descriptor().get();
            return byDigest(t, ref.repository(), d.digest(), Optional.of(d.mediaType()), scopes, progress, what);
        }
        // no usable HEAD (some registries answer HEAD without a digest, and a 404 carries no error code)
        Manifests.Fetched f = Manifests.get(t, ref.repository(), tag, Optional.empty(), scopes, progress, what);
        rateLimit(t, f.headers(), progress);
        return new Doc(f.bytes(), f.mediaType(), f.digest());
    }

    /** A manifest by digest: from the store when it holds the bytes, else fetched and verified. */
    private Doc byDigest(Transport t, String repo, Digest digest, Optional<MediaType> type, List<Scope> scopes,
                         Progress progress, String what) {
        if (store.has(digest)) {
            try {
                long size = Files.size(store.blobPath(digest));
                if (size <= Manifests.MAX_SIZE) {
                    byte[] bytes;
                    try (InputStream in = store.open(digest, size, what)) {
                        bytes = in.readAllBytes();
                    }
                    return new Doc(bytes, Manifests.mediaType(bytes, type.map(MediaType::value), what), digest);
                }
            } catch (IOException | LayersException e) {
                // unreadable in the store: fetch it
            }
        }
        Manifests.Fetched f = Manifests.get(t, repo, digest.toString(), Optional.of(digest), scopes, progress, what);
        rateLimit(t, f.headers(), progress);
        return new Doc(f.bytes(), f.mediaType(), f.digest());
    }

    private static void rateLimit(Transport t, HttpHeaders headers, Progress progress) {
        Optional<Headers.RateLimitValue> remaining = Headers.rateLimit(headers, "ratelimit-remaining");
        Optional<Headers.RateLimitValue> limit = Headers.rateLimit(headers, "ratelimit-limit");
        if (remaining.isPresent() && limit.isPresent()) {
            progress.on(new ProgressEvent.RateLimit(t.endpoint().registry(), remaining.get().count(),
                    limit.get().count(), limit.get().window().or(() -> remaining.get().window())));
        }
    }

    /**
     * Downloads the blobs the store lacks, the largest first (the longest transfer bounds the pull), at most
     * the registry's concurrency at once; on the first failure the others are stopped and that failure is
     * thrown. Each new layer's entries are checked (see {@link dev.berth.layers.LayerCheck}) before anything
     * names the image, so a hostile layer fails the pull; an {@code unpacker} unpacks them in the same pass.
     * Returns the bytes downloaded.
     */
    private long fetchAll(Transport t, String repo, java.util.Collection<Wanted> blobs, Progress progress,
                          String what, Optional<LayerUnpacker> unpacker) {
        AtomicLong bytes = new AtomicLong();
        List<Wanted> missing = new ArrayList<>();
        for (Wanted w : blobs) {
            Descriptor b = w.descriptor();
            if (store.has(b)) {
                progress.on(new ProgressEvent.BlobExists(b.digest(), b.size(), w.kind()));
            } else {
                progress.on(new ProgressEvent.BlobQueued(b.digest(), b.size(), w.kind()));
                missing.add(w);
            }
        }
        missing.sort(java.util.Comparator.comparingLong((Wanted w) -> w.descriptor().size()).reversed());
        // each task takes the largest blob left once it holds a transfer, so blobs start largest first
        // however the threads are scheduled
        java.util.Queue<Wanted> queue = new java.util.concurrent.ConcurrentLinkedQueue<>(missing);
        List<Parallel.Task> tasks = new ArrayList<>();
        for (int i = 0; i < missing.size(); i++) {
            tasks.add(() -> {
                t.transfers().acquire();
                try {
                    Wanted w = queue.remove();
                    Descriptor b = w.descriptor();
                    if (!store.has(b)) {
                        bytes.addAndGet(fetch(t, repo, w, progress, what + ": layer " + b.digest(), unpacker));
                    } else {
                        progress.on(new ProgressEvent.BlobDone(b.digest(), b.size()));
                    }
                } finally {
                    t.transfers().release();
                }
            });
        }
        Parallel.runAll(tasks);
        return bytes.get();
    }

    /** One blob into the store, a layer checked (and unpacked) beside its download; returns its size. */
    private long fetch(Transport t, String repo, Wanted w, Progress progress, String layer,
                       Optional<LayerUnpacker> unpacker) {
        Descriptor b = w.descriptor();
        Optional<UnpackingCheck> unpacking = w.check() ? unpacker.map(u -> new UnpackingCheck(u, b, layer))
                : Optional.empty();
        Optional<BlobDownloader.Check> check = unpacking.<BlobDownloader.Check>map(u -> u)
                .or(() -> w.check() ? Optional.of(in -> dev.berth.layers.LayerCheck.check(in, layer)) : Optional.empty());
        boolean stored = false;
        try {
            BlobDownloader.download(t, repo, b, store, progress, check);
            stored = true;
        } catch (LayersException refused) {
            throw new RegistryException(refused.getMessage(), refused);
        } finally {
            if (stored) {
                unpacking.ifPresent(UnpackingCheck::keep);
            } else {
                unpacking.ifPresent(UnpackingCheck::discard);
            }
        }
        return b.size();
    }
}
