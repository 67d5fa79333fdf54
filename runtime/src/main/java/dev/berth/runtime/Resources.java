package dev.berth.runtime;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cgroup limits of a container: memory in bytes, CPU time as a CFS quota per 100 ms period, and the
 * number of tasks. Empty means unlimited.
 */
public record Resources(OptionalLong memoryBytes, OptionalLong cpuQuotaMicros, OptionalLong pidsLimit) {
    public static final Resources NONE = new Resources(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
    /** The CFS period the quota is relative to (docker's and runc's default). */
    public static final long CPU_PERIOD_MICROS = 100_000;
    /** docker's minimum: below it the helper and the command's first pages do not fit. */
    public static final long MIN_MEMORY = 6L << 20;

    private static final Pattern MEMORY = Pattern.compile("(\\d+(?:\\.\\d+)?) ?([kmgtp])?(?:i?b)?",
            Pattern.CASE_INSENSITIVE);

    public Resources {
        if (memoryBytes.isPresent() && memoryBytes.getAsLong() < MIN_MEMORY) {
            throw new ContainerException("invalid --memory: the minimum is 6m (6 MiB), got "
                    + memoryBytes.getAsLong() + " bytes");
        }
        if (cpuQuotaMicros.isPresent() && cpuQuotaMicros.getAsLong() < 1000) {
            throw new ContainerException("invalid --cpus: the minimum is 0.01");
        }
        if (pidsLimit.isPresent() && pidsLimit.getAsLong() < 1) {
            throw new ContainerException("invalid --pids-limit: must be at least 1");
        }
    }

    /** Whether there is no limit at all (cheaper than {@code equals(NONE)}, whose first call links the record's methods). */
    public boolean none() {
        return memoryBytes.isEmpty() && cpuQuotaMicros.isEmpty() && pidsLimit.isEmpty();
    }

    public Resources withMemory(OptionalLong bytes) {
        return new Resources(bytes, cpuQuotaMicros, pidsLimit);
    }

    public Resources withCpuQuota(OptionalLong micros) {
        return new Resources(memoryBytes, micros, pidsLimit);
    }

    public Resources withPidsLimit(OptionalLong limit) {
        return new Resources(memoryBytes, cpuQuotaMicros, limit);
    }

    public boolean isEmpty() {
        return memoryBytes.isEmpty() && cpuQuotaMicros.isEmpty() && pidsLimit.isEmpty();
    }

    /**
     * Parses a memory size as docker does: a number with an optional binary unit {@code b}, {@code k},
     * {@code m}, {@code g}, {@code t}, {@code p} (optionally followed by {@code b} or {@code ib}):
     * {@code 256m}, {@code 1g}, {@code 1.5GiB}, {@code 1048576}.
     */
    public static long parseMemory(String text) {
        return parseBytes(text, "--memory");
    }

    /** A size as docker writes them ({@code 10m}, binary units), for {@code option}'s messages. */
    public static long parseBytes(String text, String option) {
        Matcher m = MEMORY.matcher(text.trim());
        if (!m.matches()) {
            throw new ContainerException("invalid " + option + " \"" + text
                    + "\": expected a number with an optional unit b, k, m or g (e.g. 256m)");
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 50;
        };
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(1L << shift));
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new ContainerException("invalid " + option + " \"" + text + "\": too large");
        }
        return bytes.longValue();
    }

    /** Parses {@code --cpus} (e.g. {@code 1.5}) into a CFS quota per {@link #CPU_PERIOD_MICROS}. */
    public static long parseCpus(String text) {
        BigDecimal cpus;
        try {
            cpus = new BigDecimal(text.trim());
        } catch (NumberFormatException e) {
            throw new ContainerException("invalid --cpus \"" + text + "\": expected a number such as 1.5");
        }
        int available = Runtime.getRuntime().availableProcessors();
        if (cpus.compareTo(new BigDecimal("0.01")) < 0 || cpus.compareTo(BigDecimal.valueOf(available)) > 0) {
            throw new ContainerException("invalid --cpus \"" + text + "\": the range is 0.01 to " + available
                    + " (the CPUs available)");
        }
        return cpus.multiply(BigDecimal.valueOf(CPU_PERIOD_MICROS)).longValue();
    }

    /** Parses {@code --pids-limit}: a positive number, or 0 / -1 for unlimited. */
    public static OptionalLong parsePidsLimit(String text) {
        long n;
        try {
            n = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new ContainerException("invalid --pids-limit \"" + text + "\": expected a number");
        }
        return n <= 0 ? OptionalLong.empty() : OptionalLong.of(n);
    }
}
