package dev.berth.registry;

import dev.berth.layers.Platform;
import java.util.Optional;

/**
 * How to pull.
 *
 * @param platform the platform to pick from an index; empty for the host's ({@link Platform#host()}). When
 *     given, a single-platform image must match it.
 * @param progress where events go
 */
public record PullOptions(Optional<Platform> platform, Progress progress) {
    public static PullOptions defaults() {
        return new PullOptions(Optional.empty(), Progress.NONE);
    }

    public PullOptions withPlatform(Platform value) {
        return new PullOptions(Optional.of(value), progress);
    }

    public PullOptions withProgress(Progress value) {
        return new PullOptions(platform, value);
    }
}
