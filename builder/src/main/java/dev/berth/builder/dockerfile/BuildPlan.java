package dev.berth.builder.dockerfile;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The stages one build runs, in file order, each with its expanded FROM and what it builds on.
 *
 * @param target the stage whose result is the image
 * @param stages the target and every stage it needs, nothing else
 * @param globals the global args the FROMs were expanded with
 */
public record BuildPlan(Stage target, List<PlannedStage> stages, Environment globals) {
    public BuildPlan {
        Objects.requireNonNull(target, "target");
        stages = List.copyOf(stages);
        Objects.requireNonNull(globals, "globals");
    }

    /**
     * One stage to build.
     *
     * @param from the FROM with its image and platform expanded, and the global args it used
     * @param base an earlier stage, an image or scratch
     * @param triggers the ONBUILD instructions of the parent stage, parsed and located at this FROM; they
     *     run before the stage's own instructions (triggers of a base image come from its config, which
     *     only the builder sees)
     */
    public record PlannedStage(Stage stage, Expanded<Instruction.From> from, ImageSource base, List<Instruction> triggers) {
        public PlannedStage {
            Objects.requireNonNull(stage, "stage");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(base, "base");
            triggers = List.copyOf(triggers);
        }
    }

    public Optional<PlannedStage> stage(int index) {
        return stages.stream().filter(p -> p.stage().index() == index).findFirst();
    }

    /** Whether the build needs that stage. */
    public boolean includes(int index) {
        return stage(index).isPresent();
    }
}
