package dev.berth.builder.dockerfile;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * An instruction after variable expansion, with the variables it read: {@code referenced} were set,
 * {@code undefined} were not (the builder uses both for the cache key and to warn about unused or
 * misspelt build args).
 */
public record Expanded<I extends Instruction>(I instruction, Set<String> referenced, Set<String> undefined) {
    public Expanded {
        Objects.requireNonNull(instruction, "instruction");
        referenced = Collections.unmodifiableSet(new LinkedHashSet<>(referenced));
        undefined = Collections.unmodifiableSet(new LinkedHashSet<>(undefined));
    }
}
