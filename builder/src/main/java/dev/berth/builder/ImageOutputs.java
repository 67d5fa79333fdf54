package dev.berth.builder;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.ImageArchive;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The end of a build: the image's config and manifest, then its outputs (OCI layout, docker-archive, the
 * store's names, pushes), in the order that keeps a failure from naming anything half written.
 */
final class ImageOutputs {
    private final BuildRequest request;
    private final ImageStore store;
    private final BuildCache cache;
    private final Optional<ImagePusher> pusher;
    private final Consumer<BuildEvent> events;
    private final LazyBlobs lazy;

    ImageOutputs(BuildRequest request, ImageStore store, BuildCache cache, Optional<ImagePusher> pusher,
                 Consumer<BuildEvent> events, LazyBlobs lazy) {
        this.request = request;
        this.store = store;
        this.cache = cache;
        this.pusher = pusher;
        this.events = events;
        this.lazy = lazy;
    }

    /** Refuses outputs that cannot be written, before anything is built. */
    void check(List<BuildOutput> outputs) {
        for (BuildOutput o : outputs) {
            switch (o) {
                case BuildOutput.Push p -> checkPush();
                case BuildOutput.Registry r -> checkPush();
                case BuildOutput.DockerArchive a -> {
                    if (request.tags().isEmpty()) {
                        throw new BuildException("--output docker-archive:" + a.file()
                                + " needs a name (docker load names images by it): add -t NAME:TAG");
                    }
                }
                case BuildOutput.OciLayout l -> { }
                case BuildOutput.Store s -> { }
            }
        }
    }

    private void checkPush() {
        if (pusher.isEmpty()) {
            throw new BuildException("--push needs a registry: this builder was made without a pusher "
                    + "(Builder.withPusher)");
        }
        if (request.tags().isEmpty()) {
            throw new BuildException("--push needs a name to push to: add -t REGISTRY/NAME:TAG");
        }
    }

    /**
     * Writes the image's config and manifest. {@code created} (and the history entries of this build) is
     * {@code epoch} when given, else the build time; a rebuild with the same recipe reuses the image and so
     * its time, as docker's cache does ({@code --no-cache} takes a new time).
     *
     * @param pending the {@code created} value that stands for the build time in history entries
     * @param inline the cache entries the config carries ({@code --cache-to type=inline}); none without
     */
    BuildCache.ImageRecord finish(StageState s, Optional<Instant> epoch, String pending,
                                  List<CacheArtifact.Entry> inline) {
        ImageConfig config = s.config;
        if (!request.labels().isEmpty()) {
            ContainerConfig.Builder c = config.containerConfig().toBuilder();
            c.labels.putAll(request.labels());
            config = config.withContainerConfig(c.build());
        }
        // The manifest is OCI: a base image's Docker layer types are given their OCI names (same bytes),
        // since registries may refuse a manifest that mixes the two families.
        List<Descriptor> layers = s.fs.layers().stream().map(ImageFs.Layer::blob).map(Descriptor::withOciLayerType)
                .toList();
        String time = epoch.orElseGet(Instant::now).toString();
        List<ImageConfig.History> history = new ArrayList<>();
        for (ImageConfig.History h : config.history()) {
            history.add(h.created().equals(Optional.of(pending))
                    ? new ImageConfig.History(Optional.of(time), h.createdBy(), h.author(), h.comment(), h.emptyLayer(), h.extra())
                    : h);
        }
        Map<String, Object> extra = new LinkedHashMap<>(config.extra());
        extra.remove(CacheArtifact.INLINE_KEY); // a base image's keys are not this image's
        if (request.inlineCache()) {
            extra.put(CacheArtifact.INLINE_KEY, CacheArtifact.inlineDocument(inline, layers, config.rootfs().diffIds()));
        }
        config = new ImageConfig(Optional.of(time), config.author(), config.architecture(), config.os(),
                config.osVersion(), config.osFeatures(), config.variant(), config.config(), config.rootfs(), history,
                extra);
        config.checkHistory();
        Document<ImageConfig> configDoc = Document.of(config, MediaType.OCI_CONFIG);
        store.put(configDoc);
        Map<String, String> annotations = new LinkedHashMap<>();
        s.base.ifPresent(b -> {
            annotations.put("org.opencontainers.image.base.name", b.ref().toString());
            annotations.put("org.opencontainers.image.base.digest", b.image().digest().toString());
        });
        Document<Manifest> manifest = Document.of(Manifest.of(MediaType.OCI_MANIFEST, configDoc.descriptor(), layers,
                annotations), MediaType.OCI_MANIFEST);
        return new BuildCache.ImageRecord(store.put(manifest), configDoc.digest());
    }


    /**
     * Writes the outputs: OCI layout and archive first, then the local store's names (after every file
     * output succeeded), then the pushes.
     */
    void write(List<BuildOutput> outputs, Descriptor manifest) {
        events.accept(new BuildEvent.Note("writing image " + manifest.digest()));
        Descriptor plain = manifest.withPlatform(Optional.empty());
        if (outputs.stream().anyMatch(o -> !(o instanceof BuildOutput.Push || o instanceof BuildOutput.Registry))) {
            // layers a cache gave without downloading: every output but a push needs their bytes
            // (a non-distributable layer, with URLs, stays where it is, as pushes and pulls leave it)
            lazy.ensureAll(store, store.reachable(List.of(plain)).stream().filter(d -> d.urls().isEmpty()).toList());
        }
        for (BuildOutput o : outputs) {
            switch (o) {
                case BuildOutput.OciLayout l -> writeOciLayout(l.directory(), plain);
                case BuildOutput.DockerArchive a -> writeDockerArchive(a.file(), plain);
                default -> { }
            }
        }
        if (outputs.stream().anyMatch(o -> o instanceof BuildOutput.Store)) {
            // index.json is replaced (new inode) on every change: when it is as this build's names left it
            // last time, the names are in place and reading it (and JSON) can be skipped.
            Path index = store.root().resolve("index.json");
            String names = BuildCache.sha256(store.root() + " " + request.tags() + " " + plain.digest());
            Optional<ContextDir.Stat> now = stat(index);
            boolean inPlace = !request.noCache() && now.isPresent() && cache.namesInPlace(names, now.get());
            if (!inPlace) {
                if (request.tags().isEmpty()) {
                    store.addUnnamed(plain);
                }
                for (Reference tag : request.tags()) {
                    store.tag(tag, plain);
                }
                stat(index).ifPresent(st -> cache.recordNames(names, st));
            }
            request.tags().forEach(tag -> events.accept(new BuildEvent.Note("naming to " + tag.familiar())));
        }
        // Pushing comes after the local names: the pusher sends what the store names (a failed push
        // leaves a built and named image, to push again).
        for (BuildOutput o : outputs) {
            if (o instanceof BuildOutput.Push || o instanceof BuildOutput.Registry) {
                for (Reference tag : request.tags()) {
                    events.accept(new BuildEvent.Note("pushing " + tag.familiar()));
                    pusher.orElseThrow().push(store, plain, tag, lazy);
                }
            }
        }
    }

    private static Optional<ContextDir.Stat> stat(Path p) {
        try {
            return Optional.of(ContextDir.stat(p));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void writeOciLayout(Path dir, Descriptor manifest) {
        try (ImageStore layout = ImageStore.open(dir)) {
            layout.copyFrom(store, manifest);
            if (request.tags().isEmpty()) {
                layout.addUnnamed(manifest);
            }
            for (Reference tag : request.tags()) {
                layout.tag(tag, manifest);
            }
        }
        events.accept(new BuildEvent.Note("wrote OCI layout " + dir));
    }

    /**
     * A docker-archive describes one image per name ({@code manifest.json} has no platforms): of a
     * multi-platform build, this machine's platform when it was built, else the first; the note says which.
     */
    private void writeDockerArchive(Path file, Descriptor manifest) {
        Platform host = Platform.host();
        Platform which = request.multiPlatform() ? request.platforms().stream().filter(p -> p.satisfies(host)).findFirst()
                .orElse(request.platforms().getFirst()) : host;
        try {
            Map<Reference, Descriptor> named = new LinkedHashMap<>();
            request.tags().forEach(t -> named.put(t, manifest));
            ImageArchive.writeFile(store, named, which, file);
        } catch (IOException e) {
            throw new BuildException("--output docker-archive:" + file + ": " + e.getMessage(), e);
        }
        events.accept(new BuildEvent.Note("wrote docker-archive " + file + (request.multiPlatform()
                ? " (" + which + " only: a docker-archive holds one platform)" : "")));
    }
}
