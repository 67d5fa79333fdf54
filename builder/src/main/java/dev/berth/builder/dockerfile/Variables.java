package dev.berth.builder.dockerfile;

import java.util.Optional;

/**
 * What variable expansion reads: a name to its value, empty when the variable is not set. A set variable
 * may be empty ({@code ENV A=}), which {@code ${A:-x}} and {@code ${A-x}} tell apart.
 */
@FunctionalInterface
public interface Variables {
    Optional<String> get(String name);

    static Variables none() {
        return name -> Optional.empty();
    }
}
