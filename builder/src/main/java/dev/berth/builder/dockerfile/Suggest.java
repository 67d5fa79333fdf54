package dev.berth.builder.dockerfile;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** "did you mean ...?": the closest option within edit distance 2, as buildkit's suggest package picks it. */
final class Suggest {
    private Suggest() {}

    static Optional<String> closest(String value, Collection<String> options, boolean caseSensitive) {
        String v = caseSensitive ? value : GoStrings.toLower(value);
        String match = null;
        int best = 3;
        for (String option : List.copyOf(options).stream().sorted().toList()) {
            String o = caseSensitive ? option : GoStrings.toLower(option);
            if (o.equals(v)) {
                return Optional.empty(); // an exact match: the error is about something else
            }
            int d = distance(v, o);
            if (d < best) {
                best = d;
                match = caseSensitive ? o : matchCase(o, value);
            }
        }
        return Optional.ofNullable(match);
    }

    private static String matchCase(String option, String original) {
        if (original.equals(GoStrings.toLower(original))) {
            return GoStrings.toLower(option);
        }
        if (original.equals(GoStrings.toUpper(original))) {
            return GoStrings.toUpper(option);
        }
        return option;
    }

    /** Levenshtein distance over code points, unit costs. */
    static int distance(String a, String b) {
        int[] x = a.codePoints().toArray();
        int[] y = b.codePoints().toArray();
        int[] prev = new int[y.length + 1];
        int[] cur = new int[y.length + 1];
        for (int j = 0; j <= y.length; j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= x.length; i++) {
            cur[0] = i;
            for (int j = 1; j <= y.length; j++) {
                int cost = x[i - 1] == y[j - 1] ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[y.length];
    }
}
