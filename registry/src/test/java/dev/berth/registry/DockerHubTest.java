package dev.berth.registry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import dev.berth.registry.testing.TokenIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docker Hub's behaviour, imitated locally (the Hub is not reachable from the test machines): docker.io's
 * endpoint is pointed at a proxy in front of a token-auth registry whose token service calls itself
 * {@code registry.docker.io}; the proxy adds Hub's rate-limit headers and can answer 429 TOOMANYREQUESTS.
 */
class DockerHubTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    private static final String TOO_MANY = "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"You have reached your "
            + "unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit\"}]}";

    @TempDir
    static Path shared;
    static TokenIssuer issuer;
    static LocalRegistry registry;
    static Descriptor hello;
    FaultProxy hub;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        issuer = TokenIssuer.start(shared, "registry.docker.io").user("alice", "wonderland");
        registry = LocalRegistry.start(shared.resolve("registry"), new LocalRegistry.Auth.Token(issuer), Optional.empty());
        RegistryConfig config = Fixtures.config(shared).endpoint("docker.io", registry.uri().toString()).build();
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient alice = RegistryClient.create(config,
                     (r, repo) -> Optional.of(new Credentials.Basic("alice", "wonderland")))) {
            Reference local = Reference.parse("hello:1");
            hello = TestImages.create(source, local, AMD64, 1, 50_000);
            alice.push(source, local, Reference.parse("hello:1"), PushOptions.defaults());
        }
    }

    @AfterAll
    static void stop() {
        registry.close();
        issuer.close();
    }

    @BeforeEach
    void hub() {
        hub = FaultProxy.reverse(registry.uri());
        hub.addHeaders("*", ".*/manifests/.*", Map.of("ratelimit-limit", "100;w=21600",
                "ratelimit-remaining", "99;w=21600", "docker-ratelimit-source", "127.0.0.1"));
        issuer.clearRequests();
    }

    @AfterEach
    void closeHub() {
        hub.close();
    }

    private RegistryConfig.Builder config() {
        return Fixtures.config(tmp).endpoint("docker.io", hub.uri().toString());
    }

    @Test
    void shortNamesAreLibraryImagesOnTheHubAndTheLimitIsReported() {
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config().build())) {
            Fixtures.Events events = new Fixtures.Events();
            PullResult r = client.pull(target, Reference.parse("hello:1"), PullOptions.defaults().withProgress(events));
            assertThat(r.digest()).isEqualTo(hello.digest());
            assertThat(r.reference().toString()).isEqualTo("docker.io/library/hello:1");
            assertThat(target.resolve(Reference.parse("docker.io/library/hello:1"))).isPresent();
            assertThat(events.of(ProgressEvent.RateLimit.class)).first()
                    .isEqualTo(new ProgressEvent.RateLimit("docker.io", 99, 100, Optional.of(Duration.ofHours(6))));
            assertThat(issuer.requests()).singleElement().satisfies(t -> {
                assertThat(t.service()).contains("registry.docker.io");
                assertThat(t.scopes()).containsExactly("repository:library/hello:pull");
            });
            assertThat(hub.requests()).allSatisfy(req -> assertThat(req.path()).matches("/v2/(library/hello/.*)?"));

            // index.docker.io and registry-1.docker.io are the same registry, and a known digest needs no GET
            hub.clearRequests();
            for (String alias : new String[] {"index.docker.io/hello:1", "registry-1.docker.io/library/hello:1"}) {
                PullResult again = client.pull(target, Reference.parse(alias), PullOptions.defaults());
                assertThat(again.reference().toString()).isEqualTo("docker.io/library/hello:1");
                assertThat(again.updated()).isFalse();
            }
            assertThat(hub.requests()).extracting(FaultProxy.Seen::method).containsOnly("HEAD");
        }
    }

    @Test
    void thePullLimitIsSaidPlainlyAndNotHammered() {
        Map<String, String> exhausted = Map.of("ratelimit-limit", "100;w=21600", "ratelimit-remaining", "0;w=21600");
        hub.on("*", ".*/manifests/.*").times(Integer.MAX_VALUE).respond(429, exhausted, TOO_MANY);
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config().build())) {
            assertThatThrownBy(() -> client.pull(target, Reference.parse("hello:1"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessage("pull docker.io/library/hello:1: Docker Hub's pull rate limit is reached (100 pulls per 6 h);"
                            + " it resets within 6 h; logged-in users get a higher limit (berth login): You have reached your"
                            + " unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit (TOOMANYREQUESTS)")
                    .satisfies(e -> assertThat(((RegistryException) e).code()).contains("TOOMANYREQUESTS"));
            assertThat(hub.requests("GET", ".*/manifests/.*")).as(hub.requests().toString()).hasSize(1);
        }
    }

    @Test
    void theHubsCredentialsComeFromDockersKey() throws Exception {
        Path config = tmp.resolve("home/.docker/config.json");
        Files.createDirectories(config.getParent());
        Files.writeString(config, "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \""
                + Base64.getEncoder().encodeToString("alice:wonderland".getBytes(UTF_8)) + "\"}}}");
        RegistryConfig c = config().environment(Map.of("HOME", tmp.resolve("home").toString())).build();
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = RegistryClient.create(c)) {
            client.pull(target, Reference.parse("hello:1"), PullOptions.defaults());
            assertThat(issuer.requests()).singleElement().satisfies(t -> assertThat(t.user()).contains("alice"));
        }
    }
}
