package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class HeadersTest {
    private static HttpHeaders headers(String... pairs) {
        Map<String, List<String>> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.computeIfAbsent(pairs[i], k -> new java.util.ArrayList<>()).add(pairs[i + 1]);
        }
        return HttpHeaders.of(m, (a, b) -> true);
    }

    @Test
    void retryAfterInSecondsOrAsADate() {
        Instant now = Instant.parse("2026-01-01T10:00:00Z");
        assertThat(Headers.retryAfter(headers("Retry-After", "7"), now)).contains(Duration.ofSeconds(7));
        assertThat(Headers.retryAfter(headers("Retry-After", "Thu, 01 Jan 2026 10:01:30 GMT"), now))
                .contains(Duration.ofSeconds(90));
        assertThat(Headers.retryAfter(headers("Retry-After", "Thu, 01 Jan 2026 09:00:00 GMT"), now)).contains(Duration.ZERO);
        assertThat(Headers.retryAfter(headers("Retry-After", "soon"), now)).isEmpty();
        assertThat(Headers.retryAfter(headers(), now)).isEmpty();
    }

    @Test
    void nextLinkIsResolvedAgainstTheRequest() {
        URI base = URI.create("http://r.example:5000/v2/app/tags/list?n=2");
        assertThat(Headers.nextLink(headers("Link", "</v2/app/tags/list?last=b&n=2>; rel=\"next\""), base))
                .contains(URI.create("http://r.example:5000/v2/app/tags/list?last=b&n=2"));
        assertThat(Headers.nextLink(headers("Link", "<https://other/x>; rel=\"prev\", <https://r2/y>; rel=next"), base))
                .contains(URI.create("https://r2/y"));
        assertThat(Headers.nextLink(headers(), base)).isEmpty();
    }

    @Test
    void uploadOffsetFromTheSessionsRange() {
        assertThat(Headers.uploadOffset(headers("Range", "0-1023"))).isEqualTo(OptionalLong.of(1024));
        assertThat(Headers.uploadOffset(headers("Range", "bytes=0-99"))).isEqualTo(OptionalLong.of(100));
        assertThat(Headers.uploadOffset(headers("Range", "0-0"))).isEqualTo(OptionalLong.of(0));
        assertThat(Headers.uploadOffset(headers())).isEmpty();
    }

    @Test
    void contentRangeStart() {
        assertThat(Headers.contentRangeStart(headers("Content-Range", "bytes 100-199/200"))).isEqualTo(OptionalLong.of(100));
        assertThat(Headers.contentRangeStart(headers("Content-Range", "bytes 0-1/*"))).isEqualTo(OptionalLong.of(0));
        assertThat(Headers.contentRangeStart(headers("Content-Range", "items 1-2"))).isEmpty();
    }

    @Test
    void dockerHubRateLimitHeaders() {
        HttpHeaders h = headers("ratelimit-limit", "100;w=21600", "ratelimit-remaining", "76;w=21600");
        assertThat(Headers.rateLimit(h, "ratelimit-remaining"))
                .contains(new Headers.RateLimitValue(76, Optional.of(Duration.ofHours(6))));
        assertThat(Headers.rateLimit(headers("ratelimit-limit", "5000"), "ratelimit-limit"))
                .contains(new Headers.RateLimitValue(5000, Optional.empty()));
    }

    @Test
    void warningsWithCode299() {
        assertThat(Headers.warnings(headers("Warning", "299 - \"this image is deprecated\"", "Warning", "199 - \"misc\"")))
                .containsExactly("this image is deprecated");
    }
}
