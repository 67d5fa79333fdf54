package dev.berth.builder;

import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.layers.ImageStore;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The caches beyond this machine's that a build's steps consult and feed: {@code --cache-from}'s entries
 * (looked up by portable key after the local cache missed; their layers downloaded only when their bytes
 * are needed) and the records {@code --cache-to} writes after the build.
 */
final class StepCaches {
    private final ImageStore store;
    private final RemoteCache remote;
    private final CacheExports exports;
    private final boolean reading;
    private final boolean exporting;
    /** Whether an output needs the image's layers in the store (all but pushes do). */
    private final boolean prefetch;
    /** The stages whose layers the image holds (the target and the stages it is built FROM): mode=min's. */
    private final Set<Integer> imageStages;

    StepCaches(ImageStore store, RemoteCache remote, CacheExports exports, BuildRequest request, BuildPlan plan) {
        this.store = store;
        this.remote = remote;
        this.exports = exports;
        this.reading = !request.noCache() && !remote.isEmpty();
        this.exporting = !request.cacheTo().isEmpty();
        this.prefetch = request.effectiveOutputs().stream()
                .anyMatch(o -> !(o instanceof BuildOutput.Push || o instanceof BuildOutput.Registry));
        Set<Integer> stages = new java.util.HashSet<>();
        for (Optional<BuildPlan.PlannedStage> ps = stage(plan, plan.target().index()); ps.isPresent(); ) {
            stages.add(ps.get().stage().index());
            ps = ps.get().base() instanceof ImageSource.FromStage(int index) ? stage(plan, index) : Optional.empty();
        }
        this.imageStages = Set.copyOf(stages);
    }

    private static Optional<BuildPlan.PlannedStage> stage(BuildPlan plan, int index) {
        return plan.stages().stream().filter(p -> p.stage().index() == index).findFirst();
    }

    /** Whether any {@code --cache-from} gave entries. */
    boolean reading() {
        return reading;
    }

    /** The result a {@code --cache-from} recorded for a step's portable key; its layer may not be in the store yet. */
    Optional<BuildCache.Result> lookup(StageState s, String key) {
        Optional<BuildCache.Result> hit = reading ? remote.lookup(key) : Optional.empty();
        if (hit.isPresent() && hit.get().blob().isPresent() && prefetch && imageStages.contains(s.planned.stage().index())) {
            remote.prefetch(store, hit.get().blob().get()); // the image's layer: an output will need its bytes
        }
        return hit;
    }

    /** Records a step's result under its portable key, for {@code --cache-to}. */
    void record(StageState s, String key, BuildCache.Result result) {
        record(s, () -> key, result);
    }

    /** The same with a key made only when an export needs it (it may read the step's sources). */
    void record(StageState s, Supplier<String> key, BuildCache.Result result) {
        if (exporting) {
            exports.add(imageStages.contains(s.planned.stage().index()), key.get(), result);
        }
    }

    /** Brings the blobs of {@code layers} that a cache gave without downloading into the store. */
    void materialize(List<ImageFs.Layer> layers) {
        remote.ensureAll(store, layers.stream().map(ImageFs.Layer::blob).toList());
    }
}
