package dev.berth.cli;

import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * docker's {@code --format} templates, the part scripts use: text with {@code {{.Field}}} and
 * {@code {{.A.B}}} (fields of the row, nested into objects), {@code {{json .}}} and {@code {{json .Field}}};
 * {@code \t} and {@code \n} stand for a tab and a newline, as docker reads them. A {@code table } prefix
 * prints a header row (each field's column name, as docker's table shows it) and aligns the columns at the
 * tabs. Anything else in {@code {{ }}} is a one-line error naming it.
 */
final class GoTemplate {
    private final String format;
    private final boolean table;

    private GoTemplate(String format) {
        this.table = format.startsWith("table ") || format.equals("table");
        this.format = (table ? format.substring(Math.min(6, format.length())) : format).replace("\\t", "\t")
                .replace("\\n", "\n");
    }

    /** Whether {@code --format}'s value is a template (not a name such as {@code json} or {@code table}). */
    static boolean isTemplate(String format) {
        return format.contains("{{");
    }

    /**
     * The template {@code --format} gives, or empty for one of {@code names}; anything else is a one-line
     * error naming both.
     */
    static java.util.Optional<GoTemplate> forFormat(String format, String... names) {
        if (isTemplate(format)) {
            return java.util.Optional.of(parse(format));
        }
        if (!List.of(names).contains(format)) {
            throw new LayersException("--format: unknown format \"" + format + "\" (use " + String.join(", ", names)
                    + " or a template)");
        }
        return java.util.Optional.empty();
    }

    static GoTemplate parse(String format) {
        GoTemplate t = new GoTemplate(format);
        t.render(Map.of(), true); // every action checked before any output
        return t;
    }

    /**
     * The rows as text: one rendered line each, or a table with a header from {@code headers} (a field's
     * column name; others are the field's name in capitals).
     */
    String render(List<? extends Map<String, ?>> rows, Map<String, String> headers) {
        StringBuilder out = new StringBuilder();
        if (!table) {
            for (Map<String, ?> r : rows) {
                out.append(render(r, false)).append('\n');
            }
            return out.toString();
        }
        List<String[]> cells = new ArrayList<>();
        cells.add(header(headers).split("\t", -1));
        for (Map<String, ?> r : rows) {
            cells.add(render(r, false).split("\t", -1));
        }
        int cols = cells.stream().mapToInt(c -> c.length).max().orElse(1);
        List<String[]> even = cells.stream().map(c -> java.util.Arrays.copyOf(c, cols)).map(c -> {
            for (int i = 0; i < c.length; i++) {
                c[i] = c[i] == null ? "" : c[i];
            }
            return c;
        }).toList();
        return Format.table(even);
    }

    private String header(Map<String, String> headers) {
        return expand((action, field) -> {
            String name = field.equals(".") ? "" : field.substring(field.lastIndexOf('.') + 1);
            return headers.getOrDefault(name, name.replaceAll("([a-z])([A-Z])", "$1 $2")
                    .toUpperCase(java.util.Locale.ROOT));
        });
    }

    private String render(Map<String, ?> row, boolean checkOnly) {
        return expand((action, field) -> {
            if (checkOnly) {
                return "";
            }
            Object v = lookup(row, field);
            return action.startsWith("json ") || v instanceof Map<?, ?> || v instanceof List<?>
                    ? new String(Json.writePlain(v), StandardCharsets.UTF_8) : v == null ? "<no value>" : v.toString();
        });
    }

    /** The format with each {@code {{action}}} replaced by what {@code f} makes of it and its field. */
    private String expand(java.util.function.BiFunction<String, String, String> f) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int open = format.indexOf("{{", at);
            if (open < 0) {
                return out.append(format.substring(at)).toString();
            }
            int close = format.indexOf("}}", open);
            if (close < 0) {
                throw new LayersException("--format: unclosed {{ in \"" + format + "\"");
            }
            out.append(format, at, open);
            String action = format.substring(open + 2, close).strip();
            String field = action.startsWith("json ") ? action.substring(5).strip() : action;
            if (!field.equals(".") && !field.matches("(\\.[A-Za-z_][A-Za-z0-9_]*)+")) {
                throw new LayersException("--format: berth's templates take {{.Field}}, {{.A.B}}, {{json .}} and "
                        + "{{json .Field}}, not {{" + action + "}}");
            }
            out.append(f.apply(action, field));
            at = close + 2;
        }
    }

    private static Object lookup(Object value, String field) {
        if (field.equals(".")) {
            return value;
        }
        Object v = value;
        for (String part : field.substring(1).split("\\.")) {
            if (!(v instanceof Map<?, ?> m)) {
                return null;
            }
            v = m.get(part);
        }
        return v;
    }
}
