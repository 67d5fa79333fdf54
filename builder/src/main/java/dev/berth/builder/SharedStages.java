package dev.berth.builder;

import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Environment;
import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.Stages;
import dev.berth.layers.Platform;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The stages a build for several platforms builds once: a stage whose result cannot depend on the target
 * platform ({@code FROM --platform=$BUILDPLATFORM golang AS build}, declaring no {@code TARGET*} arg, built
 * on stages of the same kind) is built by the first platform's build and reused by the others, as BuildKit
 * merges the equal vertices of their graphs. A stage's key is what its result is a function of, besides
 * what all the platforms share (the Dockerfile, the context, the build args): its index, the platform it
 * runs for, its expanded FROM, the values of the global args it declares, the keys of the stages it reads.
 */
final class SharedStages {
    /** A built stage and the part of the image recipe it wrote. */
    record Stage(StageState state, String recipe) {}

    private final Map<String, Stage> built = new HashMap<>();

    Optional<Stage> get(String key) {
        return Optional.ofNullable(built.get(key));
    }

    void put(String key, Stage stage) {
        built.put(key, stage);
    }

    /** The key of a planned stage; {@code keys} holds those of the stages built before it. */
    String key(BuildPlan.PlannedStage ps, Platform platform, Environment globals, Stages stages,
               Map<Integer, String> keys) {
        StringBuilder k = new StringBuilder().append(ps.stage().index()).append(' ').append(platform).append(' ')
                .append(ps.from().instruction().image()).append('\n');
        List<ImageSource> reads = new ArrayList<>(List.of(ps.base()));
        List<Instruction> all = new ArrayList<>(ps.triggers());
        all.addAll(ps.stage().instructions());
        for (Instruction i : all) {
            switch (i) {
                case Instruction.Arg a -> a.args().forEach(d -> k.append("arg ").append(d.name()).append('=')
                        .append(globals.get(d.name()).orElse("<unset>")).append('\n'));
                case Instruction.Copy c -> stages.copySource(c).ifPresent(reads::add);
                case Instruction.Run r -> reads.addAll(stages.mountSources(r));
                default -> { }
            }
        }
        for (ImageSource source : reads) {
            if (source instanceof ImageSource.FromStage(int index)) {
                k.append("stage ").append(keys.getOrDefault(index, "?" + index)).append('\n');
            }
        }
        return BuildCache.sha256(k.toString());
    }
}
