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

        Doc manifestDoc = top;
        Optional<Platform> indexPlatform = Optional.empty();
        if (top.type.isIndex()) {
            ImageIndex index = Json.read(top.bytes, ImageIndex.class, what + " index " + top.digest);
            Descriptor entry;
            try {
                entry = ImageStore.selectPlatform(index, wanted, what);
            } catch (LayersException e) {
                throw new RegistryException(e.getMessage(), Optional.of("PLATFORM_UNKNOWN"), java.util.OptionalInt.empty(),
                        false, e);
            }
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

        Manifest manifest = Json.read(manifestDoc.bytes, Manifest.class, what + " manifest " + manifestDoc.digest);
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

        Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        blobs.put(manifest.config().digest(), manifest.config());
        for (Descriptor l : manifest.layers()) {
            blobs.putIfAbsent(l.digest(), l);
        }
        long downloaded = fetchAll(t, repo, new ArrayList<>(blobs.values()), manifest.config().digest(), progress,
                what);

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
        Platform configured = configPlatform(config, what);
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
        Optional<Descriptor> before = store.resolve(ref);
        store.tag(ref, named);
        for (Descriptor b : blobs.values()) {
            locations.remember(b.digest(), ref.registry(), repo);
        }
        boolean updated = downloaded > 0 || before.map(d -> !d.digest().equals(named.digest())).orElse(true);
        return new PullResult(ref, top.digest, named, platform, updated, downloaded, t.endpoint().host());
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
     * Downloads the blobs the store lacks, at most the registry's concurrency at once; on the first failure
     * the others are stopped and that failure is thrown. Returns the bytes downloaded.
     */
    /**
     * Downloads the blobs the store lacks, in parallel; each new layer's entries are checked (see
     * {@link dev.berth.layers.LayerCheck}) before anything names the image, so a hostile layer fails the pull.
     */
    private long fetchAll(Transport t, String repo, List<Descriptor> blobs, Digest config, Progress progress,
                          String what) {
        AtomicLong bytes = new AtomicLong();
        List<Parallel.Task> tasks = new ArrayList<>();
        for (Descriptor b : blobs) {
            ProgressEvent.BlobKind kind = b.digest().equals(config) ? ProgressEvent.BlobKind.CONFIG
                    : ProgressEvent.BlobKind.LAYER;
            if (store.has(b)) {
                progress.on(new ProgressEvent.BlobExists(b.digest(), b.size(), kind));
                continue;
            }
            progress.on(new ProgressEvent.BlobQueued(b.digest(), b.size(), kind));
            tasks.add(() -> {
                t.transfers().acquire();
                try {
                    if (!store.has(b)) {
                        Optional<BlobDownloader.Check> check = kind == ProgressEvent.BlobKind.LAYER
                                ? Optional.of(in -> dev.berth.layers.LayerCheck.check(in, what + ": layer " + b.digest()))
                                : Optional.empty();
                        try {
                            BlobDownloader.download(t, repo, b, store, progress, check);
                        } catch (LayersException refused) {
                            throw new RegistryException(refused.getMessage(), refused);
                        }
                        bytes.addAndGet(b.size());
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
}
