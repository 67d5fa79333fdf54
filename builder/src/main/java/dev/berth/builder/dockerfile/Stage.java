package dev.berth.builder.dockerfile;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One build stage: a FROM and the instructions up to the next FROM.
 *
 * @param index the stage's position, from 0; {@code COPY --from=1} refers to it
 * @param name the {@code AS} name, lower-cased
 */
public record Stage(int index, Optional<String> name, Instruction.From from, List<Instruction> instructions) {
    public Stage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(from, "from");
        instructions = List.copyOf(instructions);
    }

    /** The name, or {@code stage-N} for an unnamed stage (how buildkit names them in messages). */
    public String displayName() {
        return name.orElse("stage-" + index);
    }

    /** The ONBUILD instructions of this stage: triggers for stages built FROM it. */
    public List<Instruction.Onbuild> onbuilds() {
        return instructions.stream()
                .filter(i -> i instanceof Instruction.Onbuild)
                .map(i -> (Instruction.Onbuild) i)
                .toList();
    }
}
