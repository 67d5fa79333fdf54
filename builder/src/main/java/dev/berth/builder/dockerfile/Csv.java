package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** One CSV record split as Go's {@code encoding/csv} splits it, which is how BuildKit reads {@code --mount}. */
public final class Csv {
    private Csv() {}

    /** The fields of {@code line}: commas separate, quotes group, {@code ""} inside quotes is a quote. */
    public static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        boolean fieldStart = true;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        f.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    f.append(c);
                }
            } else if (c == ',') {
                out.add(f.toString());
                f.setLength(0);
                fieldStart = true;
                continue;
            } else if (c == '"' && fieldStart) {
                quoted = true;
            } else if (c == '"') {
                throw new BuildException("failed to parse csv mounts: bare \" in non-quoted field: " + line);
            } else {
                f.append(c);
            }
            fieldStart = false;
        }
        if (quoted) {
            throw new BuildException("failed to parse csv mounts: extraneous or missing \" in quoted field: " + line);
        }
        out.add(f.toString());
        return out;
    }

    /** The value of field {@code key} ({@code key=value}, the key in any case), the last one when repeated. */
    public static Optional<String> value(String line, String key) {
        Optional<String> found = Optional.empty();
        for (String f : fields(line)) {
            int eq = f.indexOf('=');
            if (eq > 0 && f.substring(0, eq).toLowerCase(Locale.ROOT).equals(key)) {
                found = Optional.of(f.substring(eq + 1));
            }
        }
        return found;
    }
}
