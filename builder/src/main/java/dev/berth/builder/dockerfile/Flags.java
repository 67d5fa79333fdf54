package dev.berth.builder.dockerfile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code --name[=value]} flags of one instruction, validated as buildkit's {@code BFlags} does: only
 * defined flags, no repeats except for list flags, {@code --bool}, {@code --bool=true|false} (any case),
 * {@code --string=value} (a value is required, an empty one allowed).
 */
final class Flags {
    private enum Kind { BOOL, STRING, STRINGS }

    /** A flag error; the caller adds the location. */
    static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    private final Map<String, Kind> defined = new LinkedHashMap<>();
    private final Map<String, String> values = new HashMap<>();
    private final Map<String, List<String>> lists = new HashMap<>();

    Flags defineBool(String name) {
        defined.put(name, Kind.BOOL);
        return this;
    }

    Flags defineString(String name) {
        defined.put(name, Kind.STRING);
        return this;
    }

    Flags defineStrings(String name) {
        defined.put(name, Kind.STRINGS);
        return this;
    }

    Flags parse(List<String> args) {
        for (String a : args) {
            if (a.equals("--")) {
                return this; // the end of options, as in POSIX utilities
            }
            if (!a.startsWith("--")) {
                throw new Invalid("arg should start with -- : " + a);
            }
            int eq = a.indexOf('=');
            String flag = eq < 0 ? a : a.substring(0, eq);
            boolean hasValue = eq >= 0;
            String value = hasValue ? a.substring(eq + 1) : "";
            String name = flag.substring(2);
            Kind kind = defined.get(name);
            if (kind == null) {
                String hint = Suggest.closest(name, defined.keySet(), true).map(s -> " (did you mean --" + s + "?)").orElse("");
                throw new Invalid("unknown flag: " + flag + hint);
            }
            if (kind != Kind.STRINGS && values.containsKey(name)) {
                throw new Invalid("duplicate flag specified: " + flag);
            }
            switch (kind) {
                case BOOL -> {
                    if (hasValue && value.isEmpty()) {
                        throw new Invalid("missing a value on flag: " + flag);
                    }
                    String v = GoStrings.toLower(value);
                    if (v.equals("true") || v.isEmpty()) {
                        values.put(name, "true");
                    } else if (v.equals("false")) {
                        values.put(name, "false");
                    } else {
                        throw new Invalid("expecting boolean value for flag " + flag + ", not: " + value);
                    }
                }
                case STRING -> {
                    if (!hasValue) {
                        throw new Invalid("missing a value on flag: " + flag);
                    }
                    values.put(name, value);
                }
                case STRINGS -> {
                    if (!hasValue) {
                        throw new Invalid("missing a value on flag: " + flag);
                    }
                    lists.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                }
            }
        }
        return this;
    }

    boolean isTrue(String name) {
        return "true".equals(values.get(name));
    }

    /** A boolean flag's value when it was given. */
    Optional<Boolean> boolIfGiven(String name) {
        return Optional.ofNullable(values.get(name)).map("true"::equals);
    }

    Optional<String> string(String name) {
        return Optional.ofNullable(values.get(name));
    }

    List<String> strings(String name) {
        return List.copyOf(lists.getOrDefault(name, List.of()));
    }
}
