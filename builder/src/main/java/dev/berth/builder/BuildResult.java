package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import java.util.List;

/**
 * A finished build.
 *
 * @param manifest the image's manifest descriptor (in the store)
 * @param imageId the config's digest (docker's image id)
 * @param steps how every step ended
 * @param warnings the warnings the build reported
 */
public record BuildResult(Descriptor manifest, Digest imageId, List<BuildEvent.StepDone> steps, List<String> warnings) {
    public BuildResult {
        steps = List.copyOf(steps);
        warnings = List.copyOf(warnings);
    }

    /** The manifest's digest: the image's name in the store and in registries ({@code name@digest}). */
    public Digest digest() {
        return manifest.digest();
    }

    /** How many steps came from the cache. */
    public long cachedSteps() {
        return steps.stream().filter(BuildEvent.StepDone::cached).count();
    }
}
