package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.registry.RegistryException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvProxySelectorTest {
    @Test
    void noProxyVariablesMeansTheJvmsSettings() {
        assertThat(EnvProxySelector.fromEnvironment(Map.of("NO_PROXY", "x"))).isEmpty();
    }

    @Test
    void httpsAndHttpProxiesAreChosenByScheme() {
        EnvProxySelector p = EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "http://proxy:3128",
                "http_proxy", "proxy2:8080")).orElseThrow();
        Proxy https = p.select(URI.create("https://registry.example/v2/")).getFirst();
        assertThat(((InetSocketAddress) https.address()).getHostString()).isEqualTo("proxy");
        assertThat(((InetSocketAddress) https.address()).getPort()).isEqualTo(3128);
        Proxy http = p.select(URI.create("http://registry.example/v2/")).getFirst();
        assertThat(((InetSocketAddress) http.address()).getPort()).isEqualTo(8080);
    }

    @Test
    void noProxyMatchesHostsDomainsPortsAndLoopbackGoesDirect() {
        EnvProxySelector p = EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "http://proxy:3128",
                "NO_PROXY", "internal.example, .corp.example,exact.example:5000,10.1.2.3")).orElseThrow();
        assertThat(p.bypass(URI.create("https://internal.example/"))).isTrue();
        assertThat(p.bypass(URI.create("https://a.internal.example/"))).isTrue();
        assertThat(p.bypass(URI.create("https://x.corp.example/"))).isTrue();
        assertThat(p.bypass(URI.create("https://corp.example/"))).isTrue();
        assertThat(p.bypass(URI.create("https://exact.example:5000/"))).isTrue();
        assertThat(p.bypass(URI.create("https://exact.example/"))).isFalse();
        assertThat(p.bypass(URI.create("https://10.1.2.3/"))).isTrue();
        assertThat(p.bypass(URI.create("https://notinternal.example/"))).isFalse();
        assertThat(p.bypass(URI.create("https://127.0.0.1:5000/"))).isTrue();
        assertThat(p.select(URI.create("https://localhost/")).getFirst()).isEqualTo(Proxy.NO_PROXY);
        assertThat(EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "*")).orElseThrow()
                .bypass(URI.create("https://anything/"))).isTrue();
    }

    @Test
    void credentialsInTheProxyUrlGiveAnAuthenticatorAndAreNeverShown() {
        EnvProxySelector p = EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "http://me:s%40cret@proxy:3128"))
                .orElseThrow();
        assertThat(p.authorization(URI.create("https://registry.example/v2/")))
                .contains("Basic " + java.util.Base64.getEncoder().encodeToString("me:s@cret".getBytes()));
        assertThat(p.authorization(URI.create("https://localhost/v2/"))).isEmpty();
        assertThatThrownBy(() -> EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "socks5://me:pw@proxy:1080")))
                .isInstanceOf(RegistryException.class).hasMessageContaining("//***@proxy").hasMessageNotContaining("pw");
    }
}
