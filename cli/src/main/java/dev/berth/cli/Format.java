package dev.berth.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Renders sizes, times and tables as docker does. */
final class Format {
    private Format() {}

    /** Decimal units with three significant digits: {@code 7.81MB}, {@code 512B}. */
    static String size(long bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        if (u == 0) {
            return bytes + "B";
        }
        String s = v >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : v >= 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.2f", v);
        return s + units[u];
    }

    static Optional<Instant> instant(Optional<String> rfc3339) {
        try {
            return rfc3339.map(Instant::parse);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** {@code 3 hours ago}, {@code 56 years ago}, {@code N/A}. */
    static String ago(Optional<Instant> when) {
        if (when.isEmpty()) {
            return "N/A";
        }
        Duration d = Duration.between(when.get(), Instant.now());
        if (d.isNegative()) {
            return "in the future";
        }
        long s = d.toSeconds();
        if (s < 60) {
            return "Less than a minute ago";
        }
        if (s < 3600) {
            return plural(s / 60, "minute") + " ago";
        }
        if (s < 86400 * 2) {
            return plural(s / 3600, "hour") + " ago";
        }
        if (s < 86400 * 14) {
            return plural(s / 86400, "day") + " ago";
        }
        if (s < 86400 * 60) {
            return plural(s / (86400 * 7), "week") + " ago";
        }
        if (s < 86400L * 365 * 2) {
            return plural(s / (86400 * 30), "month") + " ago";
        }
        return plural(s / (86400L * 365), "year") + " ago";
    }

    private static String plural(long n, String unit) {
        return n + " " + unit + (n == 1 ? "" : "s");
    }

    /** Left-aligned columns separated by three spaces, as docker's tables. */
    static String table(List<String[]> rows) {
        int cols = rows.getFirst().length;
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                line.append(r[i]);
                if (i < cols - 1) {
                    line.append(" ".repeat(width[i] - r[i].length() + 3));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
