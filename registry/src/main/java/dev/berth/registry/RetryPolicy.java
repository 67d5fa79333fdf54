package dev.berth.registry;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often and how patiently a failed request is tried again. Requests that fail with 408, 429, 500, 502,
 * 503, 504, a reset connection or a timeout are retried up to {@code attempts} times in all, waiting
 * {@code initialDelay} doubled after each failure (up to {@code maxDelay}) with jitter, or what the
 * registry's {@code Retry-After} asks for when it asks for at most {@code maxRetryAfter}.
 */
public record RetryPolicy(int attempts, Duration initialDelay, Duration maxDelay, Duration maxRetryAfter) {
    /** Six attempts, 0.5 s doubling to 20 s: about 15 s of waiting before giving up. */
    public static final RetryPolicy DEFAULT =
            new RetryPolicy(6, Duration.ofMillis(500), Duration.ofSeconds(20), Duration.ofSeconds(60));

    public RetryPolicy {
        if (attempts < 1) {
            throw new RegistryException("retry attempts must be at least 1, not " + attempts);
        }
        if (initialDelay.isNegative() || maxDelay.isNegative() || maxRetryAfter.isNegative()) {
            throw new RegistryException("retry delays must not be negative");
        }
    }

    /**
     * The wait before the next try after {@code failures} failed tries (1 after the first): exponential
     * with "equal jitter" (between half and all of the step), so that many clients do not retry in step.
     */
    public Duration backoff(int failures) {
        long base = initialDelay.toMillis();
        long step = base << Math.min(Math.max(failures - 1, 0), 20);
        long capped = Math.min(step, maxDelay.toMillis());
        long half = capped / 2;
        long jitter = half > 0 ? ThreadLocalRandom.current().nextLong(half + 1) : 0;
        return Duration.ofMillis(half + jitter);
    }
}
