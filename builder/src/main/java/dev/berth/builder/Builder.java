package dev.berth.builder;

import dev.berth.layers.BerthHome;
import dev.berth.layers.DiskTree;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.berth.layers.Platform;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code berth build} as a library: Dockerfile in, image out, no daemon.
 *
 * <pre>{@code
 * BuildResult r = Builder.create(BerthHome.fromEnvironment())
 *         .build(BuildRequest.builder(Path.of(".")).tag("app:1").build(), event -> {});
 * }</pre>
 *
 * <p>What a build guarantees: nothing is built when the Dockerfile asks for what berth cannot do (a RUN
 * without a {@link StepRunner}, a base image that cannot be had); new layers are reproducible (same sources, same time, same diff_id);
 * a step's layer is reused while its parent layers, its expanded instruction and the content of its
 * sources are unchanged (see {@link BuildCache}); the image is named only when the image and every file
 * output have been written (a push comes after, and sends what the store names), so a failed build names
 * nothing, and the store never shows a partly written blob.
 */
public final class Builder {
    private final BerthHome home;
    private final BaseImages baseImages;
    private final Optional<ImagePusher> pusher;
    private final StepRunner steps;
    private final CacheRegistry caches;

    private Builder(BerthHome home, BaseImages baseImages, Optional<ImagePusher> pusher, StepRunner steps,
                    CacheRegistry caches) {
        this.home = Objects.requireNonNull(home, "home");
        this.baseImages = baseImages;
        this.pusher = pusher;
        this.steps = steps;
        this.caches = caches;
    }

    /** A builder over the store and cache of {@code home}, images taken only from the local store. */
    public static Builder create(BerthHome home) {
        return new Builder(home, BaseImages.NONE, Optional.empty(), StepRunner.NONE, CacheRegistry.NONE);
    }

    /** Where images the store lacks come from (the registry's puller). */
    public Builder withBaseImages(BaseImages source) {
        return new Builder(home, Objects.requireNonNull(source, "source"), pusher, steps, caches);
    }

    /** How {@code --push} pushes (the registry's pusher); without one {@code --push} is refused before building. */
    public Builder withPusher(ImagePusher value) {
        return new Builder(home, baseImages, Optional.of(value), steps, caches);
    }

    /** What runs RUN steps (the runtime's containers); without one a Dockerfile that needs RUN is refused. */
    public Builder withStepRunner(StepRunner value) {
        return new Builder(home, baseImages, pusher, Objects.requireNonNull(value, "value"), caches);
    }

    /** How registry caches ({@code --cache-to/--cache-from type=registry}) are read and written. */
    public Builder withCacheRegistry(CacheRegistry value) {
        return new Builder(home, baseImages, pusher, steps, Objects.requireNonNull(value, "value"));
    }

    /** What {@link #pruneCache} removed. */
    public record CachePruned(long entries, long bytes) {}

    /**
     * Empties the build cache ({@code cache/build/}: every step is built again) and the cache mounts'
     * directories ({@code RUN --mount=type=cache}); a cache mount a running build holds is left alone.
     */
    public CachePruned pruneCache() {
        long[] counts = new long[2];
        Path build = home.cache().resolve("build");
        Path mounts = home.cache().resolve("mounts");
        try {
            if (Files.isDirectory(build)) {
                // renamed first, so a concurrent build sees either the whole cache or none of it
                Path gone = home.tmp().resolve("pruned-cache-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
                Files.createDirectories(home.tmp());
                Files.move(build, gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                count(gone, counts);
                LayerExtractor.deleteTree(gone);
            }
            if (Files.isDirectory(mounts)) {
                try (var instances = Files.list(mounts)) {
                    for (Path instance : instances.toList()) {
                        Optional<AutoCloseable> lock = CacheLocks.tryAcquire(instance.resolve("lock"), true);
                        if (lock.isPresent()) {
                            try (AutoCloseable held = lock.get()) {
                                Path data = instance.resolve("data");
                                if (Files.exists(data)) {
                                    count(data, counts);
                                    steps.deleteTree(data);
                                }
                            }
                        }
                    }
                }
            }
        } catch (Exception e) {
            throw new BuildException("cannot prune the build cache in " + home.cache() + ": " + e.getMessage(), e);
        }
        return new CachePruned(counts[0], counts[1]);
    }

    private static void count(Path dir, long[] counts) throws IOException {
        DiskTree.Usage u = DiskTree.usage(dir);
        counts[0] += u.files();
        counts[1] += u.bytes();
    }

    /** Builds, reporting progress to {@code events}; throws {@link BuildException} (a one-line message) on failure. */
    public BuildResult build(BuildRequest request, Consumer<BuildEvent> events) {
        try (ImageStore store = home.openStore()) {
            RemoteCache remote = request.cacheFrom().isEmpty() || request.noCache() ? RemoteCache.empty()
                    : RemoteCache.load(request.cacheFrom(), caches, store,
                            request.platforms().isEmpty() ? List.of(Platform.host()) : request.platforms(),
                            w -> events.accept(new BuildEvent.Warning(w)));
            // A cached layer that cannot be had when its bytes are needed (gone, corrupt) is a miss: the
            // build starts again without it, and the local cache makes the steps before it instant.
            for (int attempt = 1; ; attempt++) {
                CacheExports exports = new CacheExports();
                BuildRun.Workspace ws = new BuildRun.Workspace(store, new BuildCache(home.cache().resolve("build")),
                        home.tmp(), home.cache().resolve("mounts"), baseImages, pusher, steps, new SharedStages(),
                        remote, exports);
                try {
                    BuildResult r = request.multiPlatform() ? new PlatformBuilds(request, events, ws).run()
                            : new BuildRun(request, events, ws, "").run();
                    exports.write(request.cacheTo(), store, caches, remote, events);
                    return r;
                } catch (CacheBlobException e) {
                    if (attempt > MAX_CACHE_RETRIES) {
                        throw new BuildException(e.getMessage(), e);
                    }
                    remote.drop(e.blob());
                    events.accept(new BuildEvent.Warning(e.getMessage() + "; building without it"));
                }
            }
        }
    }

    /** How many cached layers may turn out unusable in one build before it gives up on its caches. */
    private static final int MAX_CACHE_RETRIES = 16;
}
