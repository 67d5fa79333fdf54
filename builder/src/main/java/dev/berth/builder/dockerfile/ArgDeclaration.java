package dev.berth.builder.dockerfile;

import java.util.Objects;
import java.util.Optional;

/**
 * One name of an ARG instruction, with its default value as written (quotes and variables still in it;
 * {@code ARG A=} has the empty default, {@code ARG A} none).
 */
public record ArgDeclaration(String name, Optional<String> defaultValue) {
    public ArgDeclaration {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(defaultValue, "defaultValue");
    }

    @Override
    public String toString() {
        return defaultValue.map(v -> name + "=" + v).orElse(name);
    }
}
