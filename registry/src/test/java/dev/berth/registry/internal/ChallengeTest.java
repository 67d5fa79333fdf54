package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChallengeTest {
    @Test
    void parsesDockerHubsBearerChallenge() {
        List<Challenge> c = Challenge.parse(List.of(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                        + "scope=\"repository:library/alpine:pull\""));
        assertThat(c).containsExactly(new Challenge("Bearer", Map.of("realm", "https://auth.docker.io/token",
                "service", "registry.docker.io", "scope", "repository:library/alpine:pull")));
        assertThat(c.getFirst().isBearer()).isTrue();
    }

    @Test
    void parsesSeveralChallengesInOneHeaderAndPrefersBearer() {
        List<Challenge> c = Challenge.parse(List.of(
                "Basic realm=\"Registry Realm\", Bearer realm=\"https://r.example/token\", service=r.example,"
                        + " error=\"insufficient_scope\""));
        assertThat(c).hasSize(2);
        assertThat(c.get(0).scheme()).isEqualTo("basic");
        assertThat(c.get(0).param("realm")).contains("Registry Realm");
        assertThat(c.get(1).param("service")).contains("r.example");
        assertThat(c.get(1).param("ERROR")).contains("insufficient_scope");
        assertThat(Challenge.preferred(c)).contains(c.get(1));
    }

    @Test
    void unquotesEscapesAndKeepsCommasInsideQuotes() {
        List<Challenge> c = Challenge.parse(List.of("Bearer realm=\"https://x/t?a=1,b=2\",scope=\"a \\\"b\\\"\""));
        assertThat(c.getFirst().param("realm")).contains("https://x/t?a=1,b=2");
        assertThat(c.getFirst().param("scope")).contains("a \"b\"");
    }

    @Test
    void schemeWithoutParametersAndGarbageAreTolerated() {
        assertThat(Challenge.parse(List.of("Basic"))).containsExactly(new Challenge("basic", Map.of()));
        assertThat(Challenge.parse(List.of(", ,Basic realm=x,,"))).containsExactly(new Challenge("basic", Map.of("realm", "x")));
        assertThat(Challenge.parse(List.of(""))).isEmpty();
        assertThat(Challenge.preferred(List.of(new Challenge("negotiate", Map.of())))).isEmpty();
    }
}
