package dev.berth.cli;

import dev.berth.builder.CacheRegistry;
import dev.berth.builder.ImagePusher;
import dev.berth.builder.LazyBlobs;
import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Reference;
import dev.berth.registry.PushOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RegistryException;
import java.util.Optional;
import java.util.Set;

/**
 * The registry as {@code berth build} uses it: base images, {@code --push}, and registry caches, all through
 * one client made on first use (a build that needs no registry never makes one), with the credentials,
 * mirrors and TLS settings of {@code berth pull} and {@code berth push}.
 */
final class BuildRegistry implements CacheRegistry, ImagePusher, AutoCloseable {
    /** Answers of a registry that refuses a manifest's form (an artifact type or config type it does not take). */
    private static final Set<String> REFUSED = Set.of("MANIFEST_INVALID", "UNSUPPORTED", "MANIFEST_UNVERIFIED",
            "BLOB_UNKNOWN", "UNKNOWN");

    private RegistryClient client;

    synchronized RegistryClient get() {
        if (client == null) {
            client = RegistryClient.create(RegistryConfig.fromEnvironment());
        }
        return client;
    }

    @Override
    public void push(ImageStore store, Descriptor image, Reference target) {
        get().push(store, image, target, PushOptions.defaults());
    }

    @Override
    public void push(ImageStore store, Descriptor image, Reference target, LazyBlobs lazy) {
        get().push(store, image, target, options(store, lazy));
    }

    @Override
    public Optional<Fetched> manifest(Reference ref) {
        if (get().head(ref).isEmpty()) {
            return Optional.empty();
        }
        RegistryClient.RemoteManifest m = get().manifest(ref);
        return Optional.of(new Fetched(m.mediaType(), m.bytes()));
    }

    @Override
    public void fetch(Reference repository, Descriptor blob, ImageStore store) {
        get().fetchBlob(repository, blob, store);
    }

    @Override
    public void push(ImageStore store, Descriptor artifact, Descriptor fallback, Reference target, LazyBlobs lazy) {
        PushOptions options = options(store, lazy);
        try {
            get().push(store, artifact, target, options);
        } catch (RegistryException e) {
            int status = e.status().orElse(0);
            boolean refused = status == 400 || status == 415 || status == 422
                    || e.code().map(REFUSED::contains).orElse(false) && status < 500 && status != 401 && status != 403;
            if (!refused) {
                throw e;
            }
            // a registry without OCI artifacts: the same blobs under a plain image manifest
            get().push(store, fallback, target, options);
        }
    }

    private static PushOptions options(ImageStore store, LazyBlobs lazy) {
        return PushOptions.defaults().withMountFrom(lazy.repositories()).withMissing(blob -> lazy.ensure(store, blob));
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
        }
    }
}
