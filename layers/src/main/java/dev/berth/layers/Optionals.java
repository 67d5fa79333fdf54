package dev.berth.layers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Null-to-empty normalisation for record components that Jackson may leave null. */
final class Optionals {
    private Optionals() {}

    static <T> Optional<T> orEmpty(Optional<T> value) {
        return value == null ? Optional.empty() : value;
    }

    /** An unmodifiable copy that keeps insertion order (JSON field order matters for stable bytes). */
    static <K, V> Map<K, V> frozen(Map<K, V> map) {
        return map == null || map.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : Collections.unmodifiableList(new java.util.ArrayList<>(list));
    }

    /** Whether a list holds a null (JSON's {@code [null]}); asked of any list, {@code List.of()} included. */
    static boolean hasNull(List<?> list) {
        return list.stream().anyMatch(java.util.Objects::isNull);
    }
}
