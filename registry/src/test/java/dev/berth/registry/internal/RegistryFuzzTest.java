package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.berth.registry.RegistryException;
import dev.berth.layers.testing.Fuzzing;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fuzz targets of what a registry sends back and berth parses: {@code WWW-Authenticate} challenges, the
 * {@code Link} header of paginated lists, the other headers the protocol reads, error bodies. In the suite
 * each replays its corpus ({@code testdata/fuzz/<target>/}); {@code bench/fuzz.sh} mutates them.
 *
 * <p>These parsers never fail: a malformed header or body means "not there" (their contract), so nothing
 * at all may escape them, not even a {@link RegistryException}. An input's lines are the header's values.
 */
class RegistryFuzzTest {
    private static final int MAX_INPUT = 16 << 10;
    private static final long BOUND = 32L << 20;
    private static final URI BASE = URI.create("https://registry.example:5000/v2/team/app/tags/list?n=100");
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void everyTargetHasACorpus() throws Exception {
        List<String> targets = Fuzzing.targets(RegistryFuzzTest.class);
        assertThat(targets).isNotEmpty();
        for (String t : targets) {
            assertThat(Fuzzing.corpus(RegistryFuzzTest.class, t)).as("corpus of " + t).isNotEmpty();
        }
    }

    /** The challenges of a 401, the one berth answers, and the scopes it asks for. */
    @FuzzTest(maxDuration = "10m")
    void wwwAuthenticate(byte[] input) throws Exception {
        if (input.length > MAX_INPUT) {
            return;
        }
        Fuzzing.expect(NoException.class, BOUND, () -> {
            List<Challenge> all = Challenge.parse(lines(input));
            Challenge.preferred(all).ifPresent(c -> {
                List<Scope> asked = c.param("scope").map(Scope::parseAll).orElse(List.of());
                Scope.merge(List.of(Scope.pull("team/app")), asked).forEach(Scope::toString);
                c.param("realm");
                c.param("service");
            });
        });
    }

    /** The next page of a paginated list ({@code tags/list}, {@code _catalog}). */
    @FuzzTest(maxDuration = "10m")
    void link(byte[] input) throws Exception {
        if (input.length > MAX_INPUT) {
            return;
        }
        Fuzzing.expect(NoException.class, BOUND, () ->
                Headers.nextLink(headers("Link", lines(input)), BASE).ifPresent(u -> assertThat(u.isAbsolute()).isTrue()));
    }

    /** Retry-After, an upload's Range, Content-Range, rate limits, Warning and Content-Type: each line for each. */
    @FuzzTest(maxDuration = "10m")
    void headers(byte[] input) throws Exception {
        if (input.length > MAX_INPUT) {
            return;
        }
        List<String> values = lines(input);
        Fuzzing.expect(NoException.class, BOUND, () -> {
            for (String v : values) {
                Headers.retryAfter(headers("Retry-After", List.of(v)), NOW)
                        .ifPresent(d -> assertThat(d.isNegative()).isFalse());
                Headers.uploadOffset(headers("Range", List.of(v)));
                Headers.contentRangeStart(headers("Content-Range", List.of(v)));
                Headers.rateLimit(headers("ratelimit-remaining", List.of(v)), "ratelimit-remaining");
                Headers.contentType(headers("Content-Type", List.of(v)));
            }
            Headers.warnings(headers("Warning", values));
        });
    }

    /** A registry's error body (JSON or anything else), as failures are described. */
    @FuzzTest(maxDuration = "10m")
    void errorBody(byte[] input) throws Exception {
        if (input.length > MAX_INPUT) {
            return;
        }
        Fuzzing.expect(NoException.class, BOUND, () -> {
            ErrorBody body = ErrorBody.parse(input);
            body.describe();
            body.firstCode();
        });
    }

    /** Allowed to escape: nothing. */
    private static final class NoException extends RuntimeException {
        private NoException() {
            super("never thrown");
        }
    }

    private static List<String> lines(byte[] input) {
        return Arrays.stream(new String(input, StandardCharsets.UTF_8).split("\n"))
                .map(l -> l.endsWith("\r") ? l.substring(0, l.length() - 1) : l)
                .toList();
    }

    private static HttpHeaders headers(String name, List<String> values) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(name, values);
        return HttpHeaders.of(m, (a, b) -> true);
    }
}
