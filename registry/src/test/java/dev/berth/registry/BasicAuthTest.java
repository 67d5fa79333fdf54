package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real registry with htpasswd Basic auth: credentials from providers and docker's files, login, logout. */
class BasicAuthTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static LocalRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        registry = LocalRegistry.start(shared.resolve("registry"),
                new LocalRegistry.Auth.Htpasswd(Map.of("alice", "wonderland")), Optional.empty());
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private Reference ref(String s) {
        return Reference.parse(registry.host() + "/" + s);
    }

    private RegistryClient as(String user, String password) {
        return RegistryClient.create(Fixtures.config(tmp).build(),
                CredentialProvider.of(Map.of(registry.host(), new Credentials.Basic(user, password))));
    }

    @Test
    void credentialsGetInAndAnonymousAccessIsRefusedWithAHint() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient alice = as("alice", "wonderland");
             RegistryClient nobody = Fixtures.anonymous(Fixtures.config(tmp).build());
             RegistryClient mallory = as("alice", "guess")) {
            Reference local = Reference.parse("secret:1");
            TestImages.create(source, local, AMD64, 1, 100_000);
            alice.push(source, local, ref("secret:1"), PushOptions.defaults());
            assertThat(alice.pull(target, ref("secret:1"), PullOptions.defaults()).digest())
                    .isEqualTo(source.resolve(local).orElseThrow().digest());

            assertThatThrownBy(() -> nobody.pull(target, ref("secret:1"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessage("pull " + registry.host() + "/secret:1: authentication required (UNAUTHORIZED); not logged in to "
                            + registry.host() + " (berth login " + registry.host() + ")")
                    .satisfies(e -> assertThat(((RegistryException) e).code()).contains("UNAUTHORIZED"));
            assertThatThrownBy(() -> mallory.pull(target, ref("secret:1"), PullOptions.defaults()))
                    .hasMessage("pull " + registry.host() + "/secret:1: authentication required (UNAUTHORIZED)");
        }
    }

    @Test
    void loginChecksStoresWhereDockerWouldAndLogoutRemoves() throws Exception {
        Map<String, String> env = new HashMap<>(Map.of("HOME", tmp.toString(), "DOCKER_CONFIG", tmp.resolve("docker").toString()));
        RegistryConfig config = Fixtures.config(tmp).environment(env).build();
        try (RegistryClient client = RegistryClient.create(config); ImageStore source = Fixtures.store(tmp.resolve("a"))) {
            assertThatThrownBy(() -> client.login(registry.host(), new Credentials.Basic("alice", "wrong")))
                    .isInstanceOf(RegistryException.class)
                    .hasMessage("login to " + registry.host() + " failed: incorrect user name or password (UNAUTHORIZED)");
            assertThat(Files.exists(tmp.resolve("docker/config.json"))).isFalse();

            RegistryClient.LoginResult r = client.login(registry.host(), new Credentials.Basic("alice", "wonderland"));
            assertThat(r.storedIn()).isEqualTo(tmp.resolve("docker/config.json").toString());
            assertThat(Files.readString(tmp.resolve("docker/config.json"))).contains(registry.host());
        }
        // a new client finds them in the file
        try (RegistryClient client = RegistryClient.create(config); ImageStore source = Fixtures.store(tmp.resolve("a"))) {
            Reference local = Reference.parse("fromfile:1");
            TestImages.create(source, local, AMD64, 2, 1000);
            client.push(source, local, ref("fromfile:1"), PushOptions.defaults());
            assertThat(client.logout(registry.host())).isTrue();
            assertThat(client.logout(registry.host())).isFalse();
        }
        try (RegistryClient client = RegistryClient.create(config); ImageStore target = Fixtures.store(tmp.resolve("b"))) {
            assertThatThrownBy(() -> client.pull(target, ref("fromfile:1"), PullOptions.defaults()))
                    .hasMessageContaining("UNAUTHORIZED");
        }
    }

    /**
     * A registry that is not on loopback and speaks plain HTTP (reached through a forward proxy as
     * {@code registry.test}) may be used when configured insecure, but never gets the password.
     */
    @Test
    void credentialsNeverGoOverPlainHttpToAnotherHost() {
        try (FaultProxy forward = FaultProxy.forward(Map.of("registry.test:80",
                new InetSocketAddress("127.0.0.1", registry.port())))) {
            RegistryConfig config = Fixtures.config(tmp).insecure("registry.test")
                    .environment(Map.of("HTTP_PROXY", forward.uri().toString(), "HTTPS_PROXY", forward.uri().toString()))
                    .build();
            try (RegistryClient client = RegistryClient.create(config,
                    CredentialProvider.of(Map.of("registry.test", new Credentials.Basic("alice", "wonderland"))));
                 ImageStore target = Fixtures.store(tmp)) {
                assertThatThrownBy(() -> client.pull(target, Reference.parse("registry.test/secret:1"), PullOptions.defaults()))
                        .isInstanceOf(RegistryException.class)
                        .hasMessageContaining("refusing to send credentials for registry.test to http://registry.test over plain HTTP");
            }
            assertThat(forward.requests()).isNotEmpty().allSatisfy(r -> assertThat(r.header("authorization")).isEmpty());
        }
    }
}
