package dev.berth.registry;

import dev.berth.layers.Platform;
import java.util.Optional;

/**
 * How to pull.
 *
 * @param platform the platform to pick from an index; empty for the host's ({@link Platform#host()}). When
 *     given, a single-platform image must match it.
 * @param allPlatforms store an index whole (every entry's manifest, config and layers) and name the index,
 *     as skopeo's {@code copy --all}; a single-platform image is pulled as it is
 * @param progress where events go
 * @param unpacker what else to do with each layer as it downloads (not for {@code allPlatforms}, whose
 *     images are stored to be copied on rather than run)
 */
public record PullOptions(Optional<Platform> platform, boolean allPlatforms, Progress progress,
                          Optional<LayerUnpacker> unpacker) {
    public static PullOptions defaults() {
        return new PullOptions(Optional.empty(), false, Progress.NONE, Optional.empty());
    }

    public PullOptions withPlatform(Platform value) {
        return new PullOptions(Optional.of(value), allPlatforms, progress, unpacker);
    }

    public PullOptions withAllPlatforms(boolean value) {
        return new PullOptions(platform, value, progress, unpacker);
    }

    public PullOptions withProgress(Progress value) {
        return new PullOptions(platform, allPlatforms, value, unpacker);
    }

    public PullOptions withUnpacker(LayerUnpacker value) {
        return new PullOptions(platform, allPlatforms, progress, Optional.of(value));
    }
}
