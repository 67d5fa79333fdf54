package dev.berth.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Times as docker's {@code --since} takes them. */
final class Times {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h)");

    private Times() {}

    /**
     * RFC 3339 ({@code 2026-01-02T15:04:05Z}, with an offset or fraction), Unix seconds ({@code 1700000000},
     * {@code 1700000000.5}), or a Go duration before {@code now} ({@code 10m}, {@code 1h30m}).
     */
    static Instant parseSince(String text, Instant now) {
        String t = text.trim();
        if (t.matches("\\d+(\\.\\d+)?")) {
            String[] p = t.split("\\.");
            long nanos = p.length > 1 ? Long.parseLong((p[1] + "000000000").substring(0, 9)) : 0;
            return Instant.ofEpochSecond(Long.parseLong(p[0]), nanos);
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            // a duration, then
        }
        Matcher m = DURATION.matcher(t);
        Duration d = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            double v = Double.parseDouble(m.group(1));
            long nanos = (long) (v * switch (m.group(2)) {
                case "ns" -> 1L;
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            });
            d = d.plusNanos(nanos);
            end = m.end();
        }
        if (end == 0 || end != t.length()) {
            throw new IllegalArgumentException("invalid --since \"" + text + "\": a time (2026-01-02T15:04:05Z), "
                    + "Unix seconds, or a duration (10m)");
        }
        return now.minus(d);
    }
}
