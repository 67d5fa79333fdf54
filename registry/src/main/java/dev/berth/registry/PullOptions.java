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
 */
public record PullOptions(Optional<Platform> platform, boolean allPlatforms, Progress progress) {
    public static PullOptions defaults() {
        return new PullOptions(Optional.empty(), false, Progress.NONE);
    }

    public PullOptions withPlatform(Platform value) {
        return new PullOptions(Optional.of(value), allPlatforms, progress);
    }

    public PullOptions withAllPlatforms(boolean value) {
        return new PullOptions(platform, value, progress);
    }

    public PullOptions withProgress(Progress value) {
        return new PullOptions(platform, allPlatforms, value);
    }
}
