package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --add-host} and {@code --dns*}, as docker writes them into /etc/hosts and /etc/resolv.conf. */
class NameResolutionTest {
    private static final String HOST = "# the host's\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch corp\n"
            + "options ndots:2\n";

    @Test
    void hostsAreLinesAndDnsReplacesOnlyWhatItGives() {
        NameResolution n = NameResolution.parse(List.of("db:10.1.2.3", "six=fe80::1", "br:[::1]"), List.of("9.9.9.9"),
                List.of(), List.of());
        assertThat(n.hosts()).containsExactly("10.1.2.3\tdb", "fe80::1\tsix", "::1\tbr");
        assertThat(n.resolvConf(HOST)).isEqualTo("# the host's\nsearch corp\noptions ndots:2\nnameserver 9.9.9.9\n");
        assertThat(NameResolution.parse(List.of(), List.of(), List.of("a.example", "b.example"), List.of("ndots:1"))
                .resolvConf(HOST)).isEqualTo("# the host's\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n"
                        + "search a.example b.example\noptions ndots:1\n");
        assertThat(NameResolution.NONE.resolvConf(HOST)).isEqualTo(HOST);
    }

    @Test
    void badValuesAreOneLineErrorsNamingThem() {
        assertThatThrownBy(() -> NameResolution.parse(List.of("nocolon"), List.of(), List.of(), List.of()))
                .hasMessage("invalid --add-host \"nocolon\": expected HOST:IP (or HOST=IP)");
        assertThatThrownBy(() -> NameResolution.parse(List.of("x:300.1.1.1"), List.of(), List.of(), List.of()))
                .hasMessageContaining("x:300.1.1.1");
        assertThatThrownBy(() -> NameResolution.parse(List.of(), List.of("dns.example"), List.of(), List.of()))
                .hasMessage("invalid --dns \"dns.example\": not an IP address");
        assertThatThrownBy(() -> NameResolution.parse(List.of("gw:host-gateway"), List.of(), List.of(), List.of()))
                .hasMessageContaining("host-gateway");
    }
}
