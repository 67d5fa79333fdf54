package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class HostsTest {
    @Test
    void loopbackByNameOrLiteralOnly() {
        assertThat(Hosts.isLoopback("localhost")).isTrue();
        assertThat(Hosts.isLoopback("registry.localhost")).isTrue();
        assertThat(Hosts.isLoopback("127.0.0.1")).isTrue();
        assertThat(Hosts.isLoopback("127.8.9.10")).isTrue();
        assertThat(Hosts.isLoopback("[::1]")).isTrue();
        assertThat(Hosts.isLoopback("10.0.0.1")).isFalse();
        assertThat(Hosts.isLoopback("localhost.example.com")).isFalse();
        assertThat(Hosts.isLoopback("deadbeef.example")).isFalse();
    }

    @Test
    void originsAndHostPorts() {
        assertThat(Hosts.sameOrigin(URI.create("https://r.example/v2/"), URI.create("https://R.example:443/x"))).isTrue();
        assertThat(Hosts.sameOrigin(URI.create("https://r.example/v2/"), URI.create("http://r.example/v2/"))).isFalse();
        assertThat(Hosts.sameOrigin(URI.create("http://127.0.0.1:5000/"), URI.create("http://localhost:5000/"))).isFalse();
        assertThat(Hosts.hostPort(URI.create("https://r.example:443/x"))).isEqualTo("r.example");
        assertThat(Hosts.hostPort(URI.create("http://r.example:5000/x"))).isEqualTo("r.example:5000");
        assertThat(Hosts.hostOnly("r.example:5000")).isEqualTo("r.example");
        assertThat(Hosts.hostOnly("[::1]:5000")).isEqualTo("[::1]");
    }
}
