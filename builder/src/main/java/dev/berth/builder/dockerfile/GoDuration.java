package dev.berth.builder.dockerfile;

import java.time.Duration;
import java.util.Map;

/**
 * Go's {@code time.ParseDuration}, which HEALTHCHECK flags use: a sequence of decimal numbers with units
 * ({@code 300ms}, {@code 1.5h}, {@code 2h45m}), an optional sign, {@code 0} without a unit. Units are
 * ns, us (or µs/μs), ms, s, m, h. Arithmetic is on unsigned 64-bit nanoseconds like Go's, so the
 * overflow limits are the same.
 */
final class GoDuration {
    private GoDuration() {}

    private static final long SIGN_BIT = Long.MIN_VALUE; // 1<<63 as an unsigned value
    private static final Map<String, Long> UNITS = Map.of(
            "ns", 1L, "us", 1_000L, "\u00b5s", 1_000L, "\u03bcs", 1_000L, "ms", 1_000_000L,
            "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    /** Thrown with Go's message ({@code time: invalid duration "x"}). */
    static final class Invalid extends IllegalArgumentException {
        Invalid(String message) {
            super(message);
        }
    }

    static Duration parse(String text) {
        String s = text;
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw invalid(text);
        }
        long total = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (!(c == '.' || (c >= '0' && c <= '9'))) {
                throw invalid(text);
            }
            // [0-9]*
            int start = i;
            long v = 0;
            while (i < s.length() && isDigit(s.charAt(i))) {
                if (Long.compareUnsigned(v, Long.divideUnsigned(SIGN_BIT, 10)) > 0) {
                    throw invalid(text);
                }
                v = v * 10 + (s.charAt(i) - '0');
                if (Long.compareUnsigned(v, SIGN_BIT) > 0) {
                    throw invalid(text);
                }
                i++;
            }
            boolean pre = i != start;
            // (\.[0-9]*)?
            long f = 0;
            double scale = 1;
            boolean post = false;
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                int fracStart = i;
                boolean overflow = false;
                while (i < s.length() && isDigit(s.charAt(i))) {
                    if (!overflow) {
                        if (Long.compareUnsigned(f, Long.MAX_VALUE / 10) > 0) {
                            overflow = true;
                        } else {
                            long y = f * 10 + (s.charAt(i) - '0');
                            if (Long.compareUnsigned(y, SIGN_BIT) > 0) {
                                overflow = true;
                            } else {
                                f = y;
                                scale *= 10;
                            }
                        }
                    }
                    i++;
                }
                post = i != fracStart;
            }
            if (!pre && !post) {
                throw invalid(text);
            }
            // unit
            int unitStart = i;
            while (i < s.length() && s.charAt(i) != '.' && !isDigit(s.charAt(i))) {
                i++;
            }
            if (i == unitStart) {
                throw new Invalid("time: missing unit in duration " + GoStrings.quote(text));
            }
            String u = s.substring(unitStart, i);
            Long unit = UNITS.get(u);
            if (unit == null) {
                throw new Invalid("time: unknown unit " + GoStrings.quote(u) + " in duration " + GoStrings.quote(text));
            }
            if (Long.compareUnsigned(v, Long.divideUnsigned(SIGN_BIT, unit)) > 0) {
                throw invalid(text);
            }
            v *= unit;
            if (f > 0) {
                v += (long) (unsignedToDouble(f) * ((double) unit / scale));
                if (Long.compareUnsigned(v, SIGN_BIT) > 0) {
                    throw invalid(text);
                }
            }
            total += v;
            if (Long.compareUnsigned(total, SIGN_BIT) > 0) {
                throw invalid(text);
            }
        }
        if (negative) {
            return Duration.ofNanos(-total);
        }
        if (Long.compareUnsigned(total, Long.MAX_VALUE) > 0) {
            throw invalid(text);
        }
        return Duration.ofNanos(total);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static double unsignedToDouble(long x) {
        return x >= 0 ? (double) x : ((x >>> 1) | (x & 1)) * 2.0;
    }

    private static Invalid invalid(String text) {
        return new Invalid("time: invalid duration " + GoStrings.quote(text));
    }
}
