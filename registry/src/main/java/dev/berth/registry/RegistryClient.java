package dev.berth.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.BerthException;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import dev.berth.layers.MediaType;
import dev.berth.layers.Reference;
import dev.berth.registry.internal.BlobDownloader;
import dev.berth.registry.internal.BlobLocations;
import dev.berth.registry.internal.BlobUploader;
import dev.berth.registry.internal.Call;
import dev.berth.registry.internal.Endpoint;
import dev.berth.registry.internal.Headers;
import dev.berth.registry.internal.Hosts;
import dev.berth.registry.internal.Manifests;
import dev.berth.registry.internal.Puller;
import dev.berth.registry.internal.Pusher;
import dev.berth.registry.internal.Response;
import dev.berth.registry.internal.Scope;
import dev.berth.registry.internal.Transport;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * berth's registry client: the OCI distribution protocol (Docker Registry HTTP API v2) to Docker Hub and
 * any other registry, on Java's own HTTP client. One client serves any number of registries and threads;
 * it keeps one connection pool and token cache per registry endpoint. Close it when done.
 *
 * <pre>{@code
 * try (RegistryClient registry = RegistryClient.create(); ImageStore store = home.openStore()) {
 *     PullResult pulled = registry.pull(store, Reference.parse("alpine:3.20"), PullOptions.defaults());
 *     registry.push(store, Reference.parse("app:1"), Reference.parse("registry.example/app:1"), PushOptions.defaults());
 * }
 * }</pre>
 *
 * Errors are {@link RegistryException}s whose message starts with what was done ({@code pull
 * docker.io/library/alpine:3.20: manifest unknown (MANIFEST_UNKNOWN)}).
 */
public final class RegistryClient implements AutoCloseable {
    private final RegistryConfig config;
    private final CredentialProvider credentials;
    private final BlobLocations locations;
    private final Map<String, Transport> transports = new ConcurrentHashMap<>();

    private RegistryClient(RegistryConfig config, CredentialProvider credentials) {
        this.config = config;
        this.credentials = credentials;
        this.locations = new BlobLocations(config.cacheDirectory());
    }

    /** A client configured from the environment and berth's config directory, with docker's credentials. */
    public static RegistryClient create() {
        return create(RegistryConfig.fromEnvironment());
    }

    /** A client with the credentials docker and podman would use in {@code config}'s environment. */
    public static RegistryClient create(RegistryConfig config) {
        return new RegistryClient(config, CredentialStore.fromEnvironment(config.environment()));
    }

    public static RegistryClient create(RegistryConfig config, CredentialProvider credentials) {
        return new RegistryClient(config, credentials);
    }

    public RegistryConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ pull

    /**
     * Pulls an image into the store and names it {@code ref}. For an index, the manifest for the options'
     * platform (default: the host's) is pulled and named. docker.io references are tried on the configured
     * mirrors first, then on Docker Hub.
     */
    public PullResult pull(ImageStore store, Reference ref, PullOptions options) {
        String context = "pull " + ref;
        List<Endpoint> endpoints = endpoints(ref.registry(), true);
        Puller puller = new Puller(store, locations);
        for (int i = 0; i < endpoints.size(); i++) {
            Endpoint e = endpoints.get(i);
            try {
                return puller.pull(transport(e), ref, options);
            } catch (BerthException ex) {
                boolean last = i == endpoints.size() - 1;
                if (!e.mirror() || last) {
                    throw contextual(ex, context);
                }
                options.progress().on(new ProgressEvent.Warning("mirror " + e.host() + ": " + ex.getMessage()
                        + "; trying " + endpoints.get(i + 1).host()));
            }
        }
        throw new IllegalStateException("no endpoint for " + ref.registry());
    }

    // ------------------------------------------------------------------ push

    /**
     * Pushes the image (or index and its images) the store names {@code source} to {@code destination}.
     * Blobs the repository has are not sent, blobs another repository of the registry has are mounted, and
     * an image the registry already has under that name is not sent at all.
     */
    public PushResult push(ImageStore store, Reference source, Reference destination, PushOptions options) {
        String context = "push " + destination;
        try {
            Descriptor top = store.resolve(source).orElseThrow(() -> new RegistryException(
                    "image " + source.familiar() + " is not in the store"));
            return pushTop(store, top, source, destination, options);
        } catch (BerthException e) {
            throw contextual(e, context);
        }
    }

    private PushResult pushTop(ImageStore store, Descriptor top, Reference source, Reference destination,
                               PushOptions options) {
        Transport t = transport(endpoints(destination.registry(), false).getFirst());
        Pusher pusher = new Pusher(store, locations, new BlobUploader.Limits(
                config.chunkSize(destination.registry()), config.monolithicLimit(destination.registry())));
        return pusher.push(t, top, source, destination, options);
    }

    /**
     * Pushes the manifest or index {@code top}, which the store holds (named or not), to {@code destination},
     * as {@link #push(ImageStore, Reference, Reference, PushOptions)} does.
     */
    public PushResult push(ImageStore store, Descriptor top, Reference destination, PushOptions options) {
        String context = "push " + destination;
        try {
            return pushTop(store, top, destination, destination, options);
        } catch (BerthException e) {
            throw contextual(e, context);
        }
    }

    /**
     * Downloads one blob of {@code repository} into the store (resumable, verified against its digest and
     * size, as a pull's blobs are), and remembers that the repository holds it (a mount source for pushes).
     */
    public void fetchBlob(Reference repository, Descriptor blob, ImageStore store) {
        try {
            Transport t = transport(endpoints(repository.registry(), false).getFirst());
            BlobDownloader.download(t, repository.repository(), blob, store, Progress.NONE);
            locations.remember(blob.digest(), repository.registry(), repository.repository());
        } catch (BerthException e) {
            throw contextual(e, "fetch blob " + blob.digest().shortHex() + " of " + repository.name());
        }
    }

    // ------------------------------------------------------------------ queries

    /** The tags of a repository, following {@code Link} pagination, in the order the registry lists them. */
    public List<String> tags(Reference repository) {
        String context = "list tags of " + repository.name();
        try {
            Transport t = transport(endpoints(repository.registry(), false).getFirst());
            List<Scope> scopes = List.of(Scope.pull(repository.repository()));
            URI base = t.base(Progress.NONE);
            String first = "/v2/" + repository.repository() + "/tags/list"
                    + (config.tagPageSize() > 0 ? "?n=" + config.tagPageSize() : "");
            URI next = base.resolve(first);
            List<String> tags = new ArrayList<>();
            Set<URI> seen = new LinkedHashSet<>();
            while (next != null && seen.add(next)) {
                if (!Hosts.sameOrigin(base, next)) {
                    throw new RegistryException("the registry's next page is on another host (" + next.getHost() + ")");
                }
                Response<byte[]> r = t.execute(Call.of("GET", next, scopes, Progress.NONE, "list tags")
                        .reading(info -> Transport.bytesUpTo(info, 64 << 20, "the tag list " + t.describe() + " served")));
                if (!r.ok()) {
                    throw t.error(r, scopes);
                }
                JsonNode n = Json.read(r.body().orElse(new byte[0]), JsonNode.class, "tag list");
                for (JsonNode tag : n.path("tags")) {
                    tags.add(tag.asText());
                }
                next = Headers.nextLink(r.headers(), r.uri()).orElse(null);
            }
            return tags;
        } catch (BerthException e) {
            throw contextual(e, context);
        }
    }

    /**
     * What a reference names in its registry, by a HEAD (which Docker Hub does not count as a pull):
     * digest, media type and size; empty when the registry has no such manifest.
     */
    public Optional<Descriptor> head(Reference ref) {
        try {
            Transport t = transport(endpoints(ref.registry(), false).getFirst());
            List<Scope> scopes = List.of(Scope.pull(ref.repository()));
            Manifests.Head h = Manifests.head(t, ref.repository(), ref.manifestReference(), scopes, Progress.NONE);
            if (h.descriptor().isPresent()) {
                return h.descriptor();
            }
            if (h.status() == 404) {
                return Optional.empty();
            }
            RemoteManifest m = manifest(ref);
            return Optional.of(Descriptor.of(m.mediaType(), m.digest(), m.bytes().length));
        } catch (BerthException e) {
            throw contextual(e, "resolve " + ref);
        }
    }

    /** A manifest or index as the registry serves it, verified against the reference's digest if it has one. */
    public record RemoteManifest(MediaType mediaType, Digest digest, byte[] bytes) {}

    public RemoteManifest manifest(Reference ref) {
        try {
            Transport t = transport(endpoints(ref.registry(), false).getFirst());
            List<Scope> scopes = List.of(Scope.pull(ref.repository()));
            Manifests.Fetched f = Manifests.get(t, ref.repository(), ref.manifestReference(), ref.digest(), scopes,
                    Progress.NONE, ref.familiar());
            return new RemoteManifest(f.mediaType(), f.digest(), f.bytes());
        } catch (BerthException e) {
            throw contextual(e, "fetch manifest " + ref);
        }
    }

    // ------------------------------------------------------------------ login

    /** Where {@link #login} put the credentials. */
    public record LoginResult(String registry, String storedIn) {}

    /**
     * Checks credentials against a registry (Basic, or by getting a token with them) and stores them where
     * docker would ({@link CredentialStore#store}). Needs a client created with a {@link CredentialStore}.
     */
    public LoginResult login(String registry, Credentials.Basic credentials) {
        String name = RegistryConfig.normaliseRegistry(registry);
        String context = "login to " + name;
        CredentialStore store = credentialStore("log in");
        try (RegistryClient probe = new RegistryClient(config, (r, repo) -> Optional.of(credentials))) {
            Transport t = probe.transport(probe.endpoints(name, false).getFirst());
            Response<Void> r;
            try {
                r = t.execute(Call.of("GET", URI.create("/v2/"), List.of(), Progress.NONE, "log in"));
            } catch (RegistryException e) {
                // the token service refused the credentials, or the registry could not be reached
                boolean refused = e.status().isPresent() && (e.status().getAsInt() == 401 || e.status().getAsInt() == 403);
                throw refused ? new RegistryException(context + " failed: " + e.getMessage(), e.code(), e.status(), false, e)
                        : e.withContext(context);
            }
            if (r.status() == 401) {
                RegistryException e = t.error(r, List.of());
                throw new RegistryException(context + " failed: incorrect user name or password ("
                        + e.code().orElse("UNAUTHORIZED") + ")", e.code(), e.status(), false, e);
            }
            if (!r.ok()) {
                throw t.error(r, List.of()).withContext(context);
            }
        }
        return new LoginResult(name, store.store(name, credentials));
    }

    /** Removes stored credentials for a registry; returns whether there were any. */
    public boolean logout(String registry) {
        return credentialStore("log out").erase(RegistryConfig.normaliseRegistry(registry));
    }

    private CredentialStore credentialStore(String what) {
        if (credentials instanceof CredentialStore s) {
            return s;
        }
        throw new IllegalStateException("cannot " + what + ": this client was created with its own credential provider");
    }

    // ------------------------------------------------------------------ endpoints

    /**
     * Where a registry is reached: its configured endpoint, or Docker Hub's API host, or its own name; for
     * a docker.io pull, the mirrors first.
     */
    private List<Endpoint> endpoints(String registry, boolean forPull) {
        RegistryConfig.RegistrySettings s = config.settings(registry);
        List<Endpoint> out = new ArrayList<>();
        if (forPull && registry.equals(Reference.DOCKER_HUB)) {
            for (String m : config.mirrors()) {
                Endpoint parsed = Endpoint.parse(registry, m, false, true);
                String mirrorName = parsed.host();
                RegistryConfig.RegistrySettings ms = config.settings(mirrorName);
                Endpoint e = Endpoint.parse(mirrorName, m, ms.insecure(), true);
                out.add(ms.endpoint().map(ep -> Endpoint.parse(mirrorName, ep, ms.insecure(), true)).orElse(e));
            }
        }
        String target = s.endpoint().orElse(registry.equals(Reference.DOCKER_HUB)
                ? "https://" + Reference.DOCKER_HUB_HOST : registry);
        out.add(Endpoint.parse(registry, target, s.insecure(), false));
        return out;
    }

    private Transport transport(Endpoint e) {
        String key = e.registry() + "|" + e.host() + "|" + e.scheme().orElse("") + "|" + e.insecure() + "|" + e.mirror();
        return transports.computeIfAbsent(key, k -> new Transport(e, config, credentials));
    }

    private static RegistryException contextual(BerthException e, String context) {
        if (e instanceof RegistryException r) {
            return r.withContext(context);
        }
        if (e instanceof LayersException) {
            return new RegistryException(context + ": " + e.getMessage(), e);
        }
        return new RegistryException(context + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        transports.values().forEach(Transport::close);
        transports.clear();
    }
}
