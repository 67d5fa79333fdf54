package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import dev.berth.registry.testing.TokenIssuer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real registry with bearer-token auth ({@code auth.token}), trusting JWTs from a token service in the
 * test, as Docker Hub trusts auth.docker.io: anonymous and authenticated tokens, scopes, caching, expiry,
 * {@code insufficient_scope}, OAuth2 identity tokens and registry tokens.
 */
class TokenAuthTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static TokenIssuer issuer;
    static LocalRegistry registry;
    static Descriptor published;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        issuer = TokenIssuer.start(shared, "berth-test-registry").user("alice", "wonderland");
        registry = LocalRegistry.start(shared.resolve("registry"), new LocalRegistry.Auth.Token(issuer), Optional.empty());
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient alice = RegistryClient.create(Fixtures.config(shared).build(), aliceCredentials())) {
            Reference local = Reference.parse("public:1");
            published = TestImages.create(source, local, AMD64, 1, 100_000, 200_000);
            alice.push(source, local, Reference.parse(registry.host() + "/team/public:1"), PushOptions.defaults());
        }
    }

    @AfterAll
    static void stop() {
        registry.close();
        issuer.close();
    }

    @BeforeEach
    void reset() {
        issuer.policy(TokenIssuer.PULL_ANONYMOUS).lifetime(Duration.ofMinutes(5), Duration.ofMinutes(5)).oauthPost(true)
                .expireNext(0);
        issuer.clearRequests();
    }

    static CredentialProvider aliceCredentials() {
        return (registry, repository) -> Optional.of(new Credentials.Basic("alice", "wonderland"));
    }

    private Reference ref(String s) {
        return Reference.parse(registry.host() + "/" + s);
    }

    @Test
    void anonymousPullGetsOnePullTokenForTheWholeImage() {
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            assertThat(client.pull(target, ref("team/public:1"), PullOptions.defaults()).digest()).isEqualTo(published.digest());
            assertThat(issuer.requests()).singleElement().satisfies(r -> {
                assertThat(r.method()).isEqualTo("GET");
                assertThat(r.user()).isEmpty();
                assertThat(r.service()).contains("berth-test-registry");
                assertThat(r.scopes()).containsExactly("repository:team/public:pull");
            });
        }
    }

    @Test
    void pushAsksForPushAndPullWithTheUsersCredentials() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient alice = RegistryClient.create(Fixtures.config(tmp).build(),
                aliceCredentials())) {
            Reference local = Reference.parse("mine:1");
            TestImages.create(source, local, AMD64, 2, 10_000);
            alice.push(source, local, ref("alice/mine:1"), PushOptions.defaults());
            assertThat(issuer.requests()).isNotEmpty().allSatisfy(r -> {
                assertThat(r.user()).contains("alice");
                assertThat(r.scopes()).first().isEqualTo("repository:alice/mine:pull,push");
            });
            assertThat(issuer.requests()).hasSize(1);
        }
    }

    @Test
    void anonymousPushIsRefusedWithTheRegistrysCodeAndAHint() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            Reference local = Reference.parse("nope:1");
            TestImages.create(source, local, AMD64, 3, 1000);
            assertThatThrownBy(() -> client.push(source, local, ref("team/nope:1"), PushOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageStartingWith("push " + registry.host() + "/team/nope:1: ")
                    .hasMessageContaining("(UNAUTHORIZED)")
                    .hasMessageEndingWith("not logged in to " + registry.host() + " (berth login " + registry.host() + ")");
        }
    }

    @Test
    void aTokenMissingTheScopeIsReplacedOnceWithTheChallengedScope() {
        AtomicInteger calls = new AtomicInteger();
        // the first token of the run grants nothing, as a token service with a stale view of permissions might
        issuer.policy((user, scope) -> calls.getAndIncrement() == 0 ? Set.of() : scope.actions());
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            assertThat(client.pull(target, ref("team/public:1"), PullOptions.defaults()).digest()).isEqualTo(published.digest());
            assertThat(issuer.requests()).hasSize(2);
            assertThat(issuer.requests().get(1).scopes()).first().isEqualTo("repository:team/public:pull");
        }
    }

    @Test
    void aTokenTheRegistryRejectsIsRenewedOnce() {
        issuer.expireNext(1);
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            assertThat(client.pull(target, ref("team/public:1"), PullOptions.defaults()).digest()).isEqualTo(published.digest());
            assertThat(issuer.requests()).hasSize(2);
        }
        issuer.clearRequests();
        issuer.expireNext(5);
        try (ImageStore target = Fixtures.store(tmp.resolve("b")); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            assertThatThrownBy(() -> client.pull(target, ref("team/public:1"), PullOptions.defaults()))
                    .hasMessageContaining("(UNAUTHORIZED)");
            assertThat(issuer.requests()).hasSize(2);
        }
    }

    @Test
    void tokensAreReusedUntilTheyExpire() {
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            client.pull(target, ref("team/public:1"), PullOptions.defaults());
            client.head(ref("team/public:1"));
            client.tags(Reference.parseRepository(registry.host() + "/team/public"));
            assertThat(issuer.requests()).hasSize(1);
        }
    }

    @Test
    void anIdentityTokenIsExchangedWithTheOAuth2Post() {
        String refresh = issuer.refreshToken("alice");
        CredentialProvider identity = (r, repo) -> Optional.of(new Credentials.IdentityToken("<token>", refresh));
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = RegistryClient.create(Fixtures.config(tmp).build(), identity)) {
            Reference local = Reference.parse("oauth:1");
            TestImages.create(source, local, AMD64, 4, 1000);
            client.push(source, local, ref("alice/oauth:1"), PushOptions.defaults());
            assertThat(issuer.requests()).singleElement().satisfies(r -> {
                assertThat(r.method()).isEqualTo("POST");
                assertThat(r.grantType()).contains("refresh_token");
                assertThat(r.user()).contains("alice");
                assertThat(r.scopes()).first().isEqualTo("repository:alice/oauth:pull,push");
            });
        }
    }

    @Test
    void withoutOAuth2PostTheTokenServiceIsAskedWithGet() {
        issuer.oauthPost(false);
        CredentialProvider identity = (r, repo) -> Optional.of(new Credentials.IdentityToken("<token>", "whatever"));
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = RegistryClient.create(Fixtures.config(tmp).build(), identity)) {
            client.pull(target, ref("team/public:1"), PullOptions.defaults());
            assertThat(issuer.requests()).extracting(TokenIssuer.Request::method).containsExactly("POST", "GET");
        }
    }

    @Test
    void aRegistryTokenIsSentAsItIs() {
        String token = issuer.mint("alice", "team/public", Set.of("pull"));
        CredentialProvider bearer = (r, repo) -> Optional.of(new Credentials.RegistryToken(token));
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = RegistryClient.create(Fixtures.config(tmp).build(), bearer)) {
            assertThat(client.pull(target, ref("team/public:1"), PullOptions.defaults()).digest()).isEqualTo(published.digest());
            assertThat(issuer.requests()).isEmpty();
        }
    }

    @Test
    void loginGetsATokenWithTheCredentials() {
        RegistryConfig config = Fixtures.config(tmp).environment(Map.of("HOME", tmp.toString(),
                "DOCKER_CONFIG", tmp.resolve("docker").toString())).build();
        try (RegistryClient client = RegistryClient.create(config)) {
            assertThatThrownBy(() -> client.login(registry.host(), new Credentials.Basic("alice", "nope")))
                    .hasMessage("login to " + registry.host() + " failed: the token service of " + registry.host()
                            + " refused access as alice: incorrect username or password");
            assertThat(client.login(registry.host(), new Credentials.Basic("alice", "wonderland")).storedIn())
                    .endsWith("config.json");
            assertThat(issuer.requests()).extracting(r -> r.user().orElse("")).containsExactly("alice", "alice");
        }
        try (RegistryClient client = RegistryClient.create(config); ImageStore source = Fixtures.store(tmp)) {
            Reference local = Reference.parse("afterlogin:1");
            TestImages.create(source, local, AMD64, 5, 1000);
            client.push(source, local, ref("alice/afterlogin:1"), PushOptions.defaults());
            assertThat(client.tags(Reference.parseRepository(registry.host() + "/alice/afterlogin"))).containsExactly("1");
        }
    }

    @Test
    void mountsAskForPullOnTheSourceRepositoryInTheSameToken() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient alice = RegistryClient.create(
                Fixtures.config(tmp).build(), aliceCredentials())) {
            Reference local = Reference.parse("shared:1");
            TestImages.create(source, local, AMD64, 6, 50_000);
            alice.push(source, local, ref("alice/first:1"), PushOptions.defaults());
            issuer.clearRequests();
            PushResult r = alice.push(source, local, ref("alice/second:1"), PushOptions.defaults());
            assertThat(r.mounted()).isEqualTo(2);
            assertThat(issuer.requests()).singleElement().satisfies(t -> assertThat(t.scopes())
                    .containsExactly("repository:alice/second:pull,push", "repository:alice/first:pull"));
        }
    }
}
