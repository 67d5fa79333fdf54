package dev.berth.builder.dockerfile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable, ordered set of variables: an image's {@code Environment}, a stage's environment, the global
 * build args. Order is kept because an image config's {@code Environment} is a list; setting an existing name
 * replaces its value in place, as docker does.
 */
public final class Environment implements Variables {
    private static final Environment EMPTY = new Environment(new LinkedHashMap<>());

    private final Map<String, String> vars;

    private Environment(LinkedHashMap<String, String> vars) {
        this.vars = Collections.unmodifiableMap(vars);
    }

    public static Environment empty() {
        return EMPTY;
    }

    public static Environment of(Map<String, String> vars) {
        return new Environment(new LinkedHashMap<>(vars));
    }

    /**
     * From {@code NAME=value} entries as an image config holds them (buildkit's {@code EnvsFromSlice}): the
     * last entry of a name wins, and an entry without {@code =} sets the name to the empty string.
     */
    public static Environment parse(List<String> entries) {
        LinkedHashMap<String, String> map = new LinkedHashMap<>();
        for (String e : entries) {
            int eq = e.indexOf('=');
            if (eq < 0) {
                map.put(e, "");
            } else {
                map.put(e.substring(0, eq), e.substring(eq + 1));
            }
        }
        return new Environment(map);
    }

    @Override
    public Optional<String> get(String name) {
        return Optional.ofNullable(vars.get(name));
    }

    public boolean contains(String name) {
        return vars.containsKey(name);
    }

    /** This environment with {@code name} set to {@code value} (in place if already set, else appended). */
    public Environment with(String name, String value) {
        LinkedHashMap<String, String> copy = new LinkedHashMap<>(vars);
        copy.put(name, value);
        return new Environment(copy);
    }

    /** This environment with each pair set in turn, as {@link #with} would, in one copy. */
    public Environment with(List<KeyValue> pairs) {
        LinkedHashMap<String, String> copy = new LinkedHashMap<>(vars);
        pairs.forEach(kv -> copy.put(kv.key(), kv.value()));
        return new Environment(copy);
    }

    /** This environment with every variable of {@code other} set, in {@code other}'s order. */
    public Environment withAll(Environment other) {
        LinkedHashMap<String, String> copy = new LinkedHashMap<>(vars);
        copy.putAll(other.vars);
        return new Environment(copy);
    }

    public Environment without(String name) {
        if (!vars.containsKey(name)) {
            return this;
        }
        LinkedHashMap<String, String> copy = new LinkedHashMap<>(vars);
        copy.remove(name);
        return new Environment(copy);
    }

    public Set<String> names() {
        return vars.keySet();
    }

    public Map<String, String> asMap() {
        return vars;
    }

    /** The {@code NAME=value} list an image config stores. */
    public List<String> toList() {
        return vars.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    public int size() {
        return vars.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Environment other && List.copyOf(vars.entrySet()).equals(List.copyOf(other.vars.entrySet()));
    }

    @Override
    public int hashCode() {
        return vars.hashCode();
    }

    @Override
    public String toString() {
        return toList().toString();
    }
}
