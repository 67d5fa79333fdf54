package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryConfigTest {
    @TempDir
    Path tmp;

    @Test
    void configDirectoryFollowsBerthThenXdgThenHome() {
        assertThat(RegistryConfig.configDirectory(Map.of("BERTH_CONFIG_DIR", "/etc/b", "XDG_CONFIG_HOME", "/x")))
                .isEqualTo(Path.of("/etc/b"));
        assertThat(RegistryConfig.configDirectory(Map.of("XDG_CONFIG_HOME", "/x", "HOME", "/h"))).isEqualTo(Path.of("/x/berth"));
        assertThat(RegistryConfig.configDirectory(Map.of("XDG_CONFIG_HOME", "relative", "HOME", "/h")))
                .isEqualTo(Path.of("/h/.config/berth"));
    }

    @Test
    void defaultsWithoutAFile() {
        RegistryConfig c = RegistryConfig.load(Map.of("BERTH_CONFIG_DIR", tmp.toString()), Optional.empty());
        assertThat(c.concurrency()).isEqualTo(4);
        assertThat(c.chunkSize()).isEqualTo(32L << 20);
        assertThat(c.mirrors()).isEmpty();
        assertThat(c.certDirectories()).startsWith(tmp.resolve("certs.d"), Path.of("/etc/docker/certs.d"));
        assertThat(c.settings("docker.io")).isEqualTo(RegistryConfig.RegistrySettings.NONE);
    }

    @Test
    void readsTheFileAndTheEnvironment() throws Exception {
        Files.writeString(tmp.resolve("registries.json"), """
                {"mirrors": ["https://mirror.example"], "insecure": ["old.example:5000"], "concurrency": 6,
                 "chunkSize": "4MiB", "monolithicLimit": 1048576, "timeout": 30, "minSpeed": "2KiB", "http1": true, "tagPageSize": 50,
                 "registries": {
                   "index.docker.io": {"endpoint": "http://127.0.0.1:5000"},
                   "ghcr.io": {"chunkSize": "4 MiB", "concurrency": 2}}}
                """);
        RegistryConfig c = RegistryConfig.load(Map.of("BERTH_CONFIG_DIR", tmp.toString(),
                "BERTH_REGISTRY_MIRRORS", "mirror.local:5000, https://m2.example",
                "BERTH_INSECURE_REGISTRIES", "dev.example"), Optional.empty());
        assertThat(c.mirrors()).containsExactly("mirror.local:5000", "https://m2.example", "https://mirror.example");
        assertThat(c.concurrency("docker.io")).isEqualTo(6);
        assertThat(c.concurrency("ghcr.io")).isEqualTo(2);
        assertThat(c.chunkSize("ghcr.io")).isEqualTo(4L << 20);
        assertThat(c.chunkSize("quay.io")).isEqualTo(4L << 20);
        assertThat(c.monolithicLimit()).isEqualTo(1 << 20);
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.minSpeed()).isEqualTo(2048);
        assertThat(c.http1("any")).isTrue();
        assertThat(c.tagPageSize()).isEqualTo(50);
        assertThat(c.settings("docker.io").endpoint()).contains("http://127.0.0.1:5000");
        assertThat(c.settings("old.example:5000").insecure()).isTrue();
        assertThat(c.settings("dev.example").insecure()).isTrue();
        assertThat(c.settings("ghcr.io").insecure()).isFalse();
    }

    @Test
    void unknownSettingsAndBadValuesAreErrorsNamingTheFile() throws Exception {
        Path f = tmp.resolve("registries.json");
        Files.writeString(f, "{\"mirror\": []}");
        assertThatThrownBy(() -> RegistryConfig.load(Map.of("BERTH_CONFIG_DIR", tmp.toString()), Optional.empty()))
                .isInstanceOf(RegistryException.class)
                .hasMessageStartingWith(f + ": unknown setting \"mirror\"");
        Files.writeString(f, "{\"registries\": {\"x\": {\"chunkSize\": \"lots\"}}}");
        assertThatThrownBy(() -> RegistryConfig.load(Map.of("BERTH_CONFIG_DIR", tmp.toString()), Optional.empty()))
                .hasMessage(f + ": registries.x.chunkSize: expected a size such as 4194304 or \"4MiB\"");
        Files.writeString(f, "{");
        assertThatThrownBy(() -> RegistryConfig.load(Map.of("BERTH_CONFIG_DIR", tmp.toString()), Optional.empty()))
                .hasMessageStartingWith(f + ": invalid JSON");
    }

    @Test
    void registryNamesAreNormalised() {
        assertThat(RegistryConfig.normaliseRegistry("https://index.docker.io/v1/")).isEqualTo("docker.io");
        assertThat(RegistryConfig.normaliseRegistry("registry-1.docker.io")).isEqualTo("docker.io");
        assertThat(RegistryConfig.normaliseRegistry("HTTP://Reg.Example:5000/")).isEqualTo("reg.example:5000");
        assertThatThrownBy(() -> RegistryConfig.normaliseRegistry("https://")).isInstanceOf(RegistryException.class);
    }

    @Test
    void backoffGrowsAndStaysWithinBounds() {
        RetryPolicy p = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(1000), Duration.ofSeconds(5));
        for (int i = 0; i < 50; i++) {
            assertThat(p.backoff(1)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
            assertThat(p.backoff(3)).isBetween(Duration.ofMillis(200), Duration.ofMillis(400));
            assertThat(p.backoff(30)).isBetween(Duration.ofMillis(500), Duration.ofMillis(1000));
        }
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO, Duration.ZERO))
                .isInstanceOf(RegistryException.class);
    }

    @Test
    void builderSettingsPerRegistry() {
        RegistryConfig c = RegistryConfig.builder().endpoint("docker.io", "http://127.0.0.1:1").insecure("r.example")
                .mirrors(List.of("m")).build();
        assertThat(c.settings("index.docker.io").endpoint()).contains("http://127.0.0.1:1");
        assertThat(c.settings("r.example").insecure()).isTrue();
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }
}
