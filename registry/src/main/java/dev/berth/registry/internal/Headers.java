package dev.berth.registry.internal;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for the response headers the distribution protocol relies on. */
public final class Headers {
    private Headers() {}

    /** {@code Retry-After}: delay-seconds or an HTTP date, relative to {@code now}; never negative. */
    public static Optional<Duration> retryAfter(HttpHeaders headers, Instant now) {
        Optional<String> v = headers.firstValue("Retry-After").map(String::trim);
        if (v.isEmpty() || v.get().isEmpty()) {
            return Optional.empty();
        }
        String s = v.get();
        if (s.chars().allMatch(Character::isDigit)) {
            try {
                return Optional.of(Duration.ofSeconds(Long.parseLong(s)));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        try {
            Instant at = ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration d = Duration.between(now, at);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static final Pattern LINK = Pattern.compile("<([^>]*)>\\s*((?:;\\s*[^;,]+)*)");
    private static final Pattern REL_NEXT = Pattern.compile(";\\s*rel\\s*=\\s*\"?([^\";]*)\"?");

    /** The target of the {@code rel="next"} link (RFC 8288), resolved against {@code base}. */
    public static Optional<URI> nextLink(HttpHeaders headers, URI base) {
        for (String value : headers.allValues("Link")) {
            Matcher m = LINK.matcher(value);
            while (m.find()) {
                Matcher rel = REL_NEXT.matcher(m.group(2));
                while (rel.find()) {
                    for (String r : rel.group(1).trim().split("\\s+")) {
                        if (r.equalsIgnoreCase("next")) {
                            try {
                                return Optional.of(base.resolve(m.group(1).trim()));
                            } catch (IllegalArgumentException e) {
                                return Optional.empty();
                            }
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static final Pattern UPLOAD_RANGE = Pattern.compile("(?:bytes=)?(\\d+)-(\\d+)");

    /**
     * How many bytes an upload session holds, from its {@code Range: 0-<last>} header (the distribution
     * spec's non-standard use, with or without {@code bytes=}). {@code 0-0} is read as nothing received:
     * registries send it for an empty session, and re-sending one byte is harmless.
     */
    public static OptionalLong uploadOffset(HttpHeaders headers) {
        Optional<String> v = headers.firstValue("Range");
        if (v.isEmpty()) {
            return OptionalLong.empty();
        }
        Matcher m = UPLOAD_RANGE.matcher(v.get().trim());
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        OptionalLong last = number(m.group(2));
        if (last.isEmpty() || last.getAsLong() == Long.MAX_VALUE) {
            return OptionalLong.empty(); // more than any upload holds: not an offset to resume from
        }
        return OptionalLong.of(last.getAsLong() == 0 ? 0 : last.getAsLong() + 1);
    }

    /** Digits as a long; empty when they do not fit (a header is not trusted to hold a sane number). */
    private static OptionalLong number(String digits) {
        try {
            return OptionalLong.of(Long.parseLong(digits));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");

    /** The first byte offset of a 206 response's {@code Content-Range: bytes S-E/T}. */
    public static OptionalLong contentRangeStart(HttpHeaders headers) {
        Optional<String> v = headers.firstValue("Content-Range");
        if (v.isEmpty()) {
            return OptionalLong.empty();
        }
        Matcher m = CONTENT_RANGE.matcher(v.get().trim());
        return m.matches() ? number(m.group(1)) : OptionalLong.empty();
    }

    /** A rate-limit header value, {@code 76;w=21600}: the count and the window, when given. */
    public record RateLimitValue(long count, Optional<Duration> window) {}

    private static final Pattern RATE = Pattern.compile("\\s*(\\d+)\\s*(?:;\\s*w\\s*=\\s*(\\d+))?.*");

    public static Optional<RateLimitValue> rateLimit(HttpHeaders headers, String name) {
        Optional<String> v = headers.firstValue(name);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = RATE.matcher(v.get());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new RateLimitValue(Long.parseLong(m.group(1)),
                    m.group(2) == null ? Optional.empty() : Optional.of(Duration.ofSeconds(Long.parseLong(m.group(2))))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static final Pattern WARNING_299 = Pattern.compile("\\s*299\\s+\\S+\\s+\"((?:[^\"\\\\]|\\\\.)*)\".*");

    /** The texts of {@code Warning: 299 - "text"} headers, which registries use for deprecation notices. */
    public static List<String> warnings(HttpHeaders headers) {
        return headers.allValues("Warning").stream()
                .map(WARNING_299::matcher)
                .filter(Matcher::matches)
                .map(m -> m.group(1).replaceAll("\\\\(.)", "$1"))
                .toList();
    }

    /** A media type without its parameters, in lowercase. */
    public static Optional<String> contentType(HttpHeaders headers) {
        return headers.firstValue("Content-Type")
                .map(v -> v.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT))
                .filter(v -> !v.isEmpty());
    }

    /** The body length a response announces ({@code Content-Length}), when it gives a valid one. */
    public static java.util.OptionalLong contentLength(HttpHeaders headers) {
        Optional<String> v = headers.firstValue("Content-Length");
        if (v.isPresent() && v.get().trim().matches("\\d{1,18}")) {
            return java.util.OptionalLong.of(Long.parseLong(v.get().trim()));
        }
        return java.util.OptionalLong.empty();
    }
}
