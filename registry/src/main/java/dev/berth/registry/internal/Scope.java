package dev.berth.registry.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A token scope from the distribution token spec: {@code repository:library/alpine:pull,push}. Order of
 * scopes in a request matters to some registries (only the first is read), so lists keep theirs.
 */
public record Scope(String type, String name, Set<String> actions) {
    public Scope {
        actions = Set.copyOf(new LinkedHashSet<>(actions));
    }

    public static Scope pull(String repository) {
        return new Scope("repository", repository, Set.of("pull"));
    }

    public static Scope pushPull(String repository) {
        return new Scope("repository", repository, Set.of("pull", "push"));
    }

    /** Parses {@code type:name:action,action}; the name may contain colons (a registry with a port). */
    public static Scope parse(String text) {
        int first = text.indexOf(':');
        int last = text.lastIndexOf(':');
        if (first < 0 || last == first) {
            return new Scope("repository", text, Set.of());
        }
        Set<String> actions = new LinkedHashSet<>();
        for (String a : text.substring(last + 1).split(",")) {
            if (!a.isBlank()) {
                actions.add(a.trim());
            }
        }
        return new Scope(text.substring(0, first), text.substring(first + 1, last), actions);
    }

    /** Parses a challenge's {@code scope} parameter, which may list several scopes separated by spaces. */
    public static List<Scope> parseAll(String text) {
        List<Scope> out = new ArrayList<>();
        for (String s : text.trim().split("\\s+")) {
            if (!s.isEmpty()) {
                out.add(parse(s));
            }
        }
        return out;
    }

    /**
     * Merges scopes: the same resource's actions are united; the first occurrence keeps its place
     * ({@code first} come first, because some registries read only the first scope).
     */
    public static List<Scope> merge(Collection<Scope> first, Collection<Scope> rest) {
        Map<String, Set<String>> byResource = new LinkedHashMap<>();
        for (Collection<Scope> group : List.of(first, rest)) {
            for (Scope s : group) {
                byResource.computeIfAbsent(s.type + ":" + s.name, k -> new LinkedHashSet<>()).addAll(s.actions);
            }
        }
        List<Scope> out = new ArrayList<>();
        byResource.forEach((k, v) -> {
            int colon = k.indexOf(':');
            out.add(new Scope(k.substring(0, colon), k.substring(colon + 1), v));
        });
        return out;
    }

    /** Whether this scope grants at least what {@code other} asks for. */
    public boolean covers(Scope other) {
        return type.equals(other.type) && name.equals(other.name) && actions.containsAll(other.actions);
    }

    /** Actions in a stable order (pull before push), as registries expect. */
    @Override
    public String toString() {
        List<String> sorted = new ArrayList<>(actions);
        sorted.sort(null);
        return type + ":" + name + ":" + String.join(",", sorted);
    }
}
