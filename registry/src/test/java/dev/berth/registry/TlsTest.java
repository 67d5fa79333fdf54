package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestCerts;
import dev.berth.registry.testing.TestImages;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry serving HTTPS (HTTP/2) with a certificate from a test CA: trusted through a certs.d directory,
 * refused without it, accepted unverified when configured insecure, and reached through an HTTPS proxy
 * from the environment under a name only the proxy knows.
 */
class TlsTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static TestCerts.KeyPair ca;
    static LocalRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ca = TestCerts.authority(shared, "berth-test-ca");
        TestCerts.KeyPair server = TestCerts.server(shared, ca, "registry",
                List.of("localhost", "registry.test"), List.of("127.0.0.1"));
        registry = LocalRegistry.start(shared.resolve("registry"),
                new LocalRegistry.Auth.Htpasswd(Map.of("alice", "wonderland")), Optional.of(server));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    /** A certs.d directory holding the test CA for {@code hostPort}. */
    private Path certsFor(String hostPort) throws Exception {
        Path dir = tmp.resolve("certs.d");
        Files.createDirectories(dir.resolve(hostPort));
        Files.copy(ca.certificate(), dir.resolve(hostPort).resolve("ca.crt"));
        return dir;
    }

    private static CredentialProvider alice() {
        return (r, repo) -> Optional.of(new Credentials.Basic("alice", "wonderland"));
    }

    @Test
    void aCaInCertsDirectoryIsTrustedAndCredentialsGoOverTls() throws Exception {
        RegistryConfig config = Fixtures.config(tmp).certDirectories(List.of(certsFor(registry.host()))).build();
        for (boolean http1 : List.of(false, true)) {
            try (ImageStore source = Fixtures.store(tmp.resolve("a" + http1)); ImageStore target = Fixtures.store(tmp.resolve("b" + http1));
                 RegistryClient client = RegistryClient.create(config.toBuilder().http1(http1).build(), alice())) {
                Reference local = Reference.parse("tls:1");
                Descriptor made = TestImages.create(source, local, AMD64, http1 ? 2 : 1, 300_000, 5000);
                Reference remote = Reference.parse(registry.host() + "/tls:" + (http1 ? "h1" : "h2"));
                client.push(source, local, remote, PushOptions.defaults());
                assertThat(client.pull(target, remote, PullOptions.defaults()).digest()).isEqualTo(made.digest());
            }
        }
    }

    @Test
    void anUnknownCaIsRefusedWithWhereToPutIt() throws Exception {
        Path certs = tmp.resolve("empty-certs.d");
        RegistryConfig config = Fixtures.config(tmp).certDirectories(List.of(certs)).build();
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = RegistryClient.create(config, alice())) {
            assertThatThrownBy(() -> client.pull(target, Reference.parse(registry.host() + "/tls:h2"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("TLS: the certificate of " + registry.host() + " is not trusted")
                    .hasMessageContaining(certs.resolve(registry.host()).resolve("ca.crt").toString());
        }
    }

    @Test
    void anInsecureRegistryIsUsedWithoutVerification() {
        RegistryConfig config = Fixtures.config(tmp).insecure(registry.host()).build();
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = RegistryClient.create(config, alice())) {
            Reference local = Reference.parse("insecure:1");
            Descriptor made = TestImages.create(source, local, AMD64, 3, 1000);
            Reference remote = Reference.parse(registry.host() + "/insecure:1");
            client.push(source, local, remote, PushOptions.defaults());
            assertThat(client.pull(target, remote, PullOptions.defaults()).digest()).isEqualTo(made.digest());
        }
    }

    /** {@code registry.test} resolves nowhere; only the proxy from {@code HTTPS_PROXY} knows where it is. */
    @Test
    void httpsProxyFromTheEnvironmentTunnelsToTheRegistry() throws Exception {
        try (FaultProxy proxy = FaultProxy.forward(Map.of("registry.test:443",
                new InetSocketAddress("127.0.0.1", registry.port())))) {
            RegistryConfig config = Fixtures.config(tmp).certDirectories(List.of(certsFor("registry.test")))
                    .environment(Map.of("HTTPS_PROXY", proxy.uri().toString(), "NO_PROXY", "localhost,127.0.0.1"))
                    .build();
            try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
                 RegistryClient client = RegistryClient.create(config, alice())) {
                Reference local = Reference.parse("proxied:1");
                Descriptor made = TestImages.create(source, local, AMD64, 4, 100_000);
                client.push(source, local, Reference.parse("registry.test/proxied:1"), PushOptions.defaults());
                assertThat(client.pull(target, Reference.parse("registry.test/proxied:1"), PullOptions.defaults()).digest())
                        .isEqualTo(made.digest());
            }
            assertThat(proxy.tunnels()).isNotEmpty().containsOnly("registry.test:443");
        }
    }
}
