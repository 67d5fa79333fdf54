package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.ContainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The options of berth run, parsed and combined as docker does; no container is started here. */
class OptionsTest {
    @Test
    void memorySizesAreBinaryUnitsAsInDocker() {
        assertThat(Resources.parseMemory("256m")).isEqualTo(256L << 20);
        assertThat(Resources.parseMemory("1g")).isEqualTo(1L << 30);
        assertThat(Resources.parseMemory("1.5GiB")).isEqualTo(3L << 29);
        assertThat(Resources.parseMemory("512KB")).isEqualTo(512L << 10);
        assertThat(Resources.parseMemory("1048576")).isEqualTo(1L << 20);
        assertThat(Resources.parseMemory("64 m")).isEqualTo(64L << 20);
        for (String bad : List.of("", "m", "-1m", "1x", "1.2.3m", "ten")) {
            assertThatThrownBy(() -> Resources.parseMemory(bad)).as(bad).isInstanceOf(ContainerException.class)
                    .hasMessageStartingWith("invalid --memory");
        }
        assertThatThrownBy(() -> Resources.parseMemory("99999999p")).hasMessageContaining("too large");
    }

    @Test
    void cpusBecomeACfsQuotaAndPidsLimitsArePositive() {
        assertThat(Resources.parseCpus("1.5")).isEqualTo(150_000);
        assertThat(Resources.parseCpus("0.01")).isEqualTo(1_000);
        assertThatThrownBy(() -> Resources.parseCpus("0")).hasMessageContaining("the range is 0.01 to");
        assertThatThrownBy(() -> Resources.parseCpus("99999")).hasMessageContaining("the range is 0.01 to");
        assertThatThrownBy(() -> Resources.parseCpus("half")).hasMessageContaining("expected a number");
        assertThat(Resources.parsePidsLimit("100")).hasValue(100);
        assertThat(Resources.parsePidsLimit("-1")).isEmpty();
        assertThat(Resources.parsePidsLimit("0")).isEmpty();
        assertThatThrownBy(() -> Resources.parsePidsLimit("many")).hasMessageContaining("expected a number");
        assertThatThrownBy(() -> new Resources(OptionalLong.of(5L << 20), OptionalLong.empty(), OptionalLong.empty()))
                .hasMessageContaining("the minimum is 6m");
    }

    @Test
    void volumesAndNetworks(@TempDir Path dir) {
        assertThat(Volume.parse(dir + ":/data")).isEqualTo(new Volume(dir, "/data", false));
        assertThat(Volume.parse(dir + ":/data/../x/./y/:ro")).isEqualTo(new Volume(dir, "/x/y", true));
        assertThat(Volume.parse(dir + ":/data:rw").readOnly()).isFalse();
        assertThatThrownBy(() -> Volume.parse("/only-one-part")).hasMessageContaining("expected HOST:CONTAINER[:ro]");
        assertThat(NetworkMode.parse("HOST")).isEqualTo(NetworkMode.HOST);
        assertThatThrownBy(() -> NetworkMode.parse("bridge"))
                .hasMessage("invalid --network \"bridge\": berth supports none (loopback only), host and container:NAME");
    }

    private static ContainerConfig image(List<String> entrypoint, List<String> cmd) {
        ContainerConfig.Builder b = ContainerConfig.EMPTY.toBuilder();
        b.entrypoint = entrypoint == null ? Optional.empty() : Optional.of(entrypoint);
        b.cmd = cmd == null ? Optional.empty() : Optional.of(cmd);
        return b.build();
    }

    private static List<String> command(ContainerConfig image, RunOptions.Builder o) {
        return ContainerPlan.command("img:latest", image, o.build());
    }

    @Test
    void entrypointAndCmdCombineAsInDockerRun() {
        ContainerConfig both = image(List.of("/entry", "-x"), List.of("default", "args"));
        assertThat(command(both, RunOptions.builder())).containsExactly("/entry", "-x", "default", "args");
        assertThat(command(both, RunOptions.builder().command("mine"))).containsExactly("/entry", "-x", "mine");
        assertThat(command(both, RunOptions.builder().entrypoint("/other")))
                .as("--entrypoint drops the image's CMD").containsExactly("/other");
        assertThat(command(both, RunOptions.builder().entrypoint("/other").command("a"))).containsExactly("/other", "a");
        assertThat(command(both, RunOptions.builder().entrypoint("").command("sh"))).containsExactly("sh");
        assertThat(command(image(null, List.of("sh", "-c", "x")), RunOptions.builder())).containsExactly("sh", "-c", "x");
        assertThat(command(image(List.of("/e"), null), RunOptions.builder())).containsExactly("/e");
        assertThatThrownBy(() -> command(image(null, null), RunOptions.builder()))
                .hasMessage("image img:latest has no command (no ENTRYPOINT or CMD): give one after the image name, "
                        + "e.g. berth run img:latest /bin/sh");
        assertThatThrownBy(() -> command(both, RunOptions.builder().entrypoint(""))).hasMessageContaining("no command");
    }

    @Test
    void theEnvironmentFollowsDockersOrderAndRules(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("env");
        Files.writeString(file, "  # comment\n\nFILE=1\nSHARED=file\nFROM_HOST\n");
        ImageUser user = new ImageUser(1000, 1000, List.of(1000), "/home/u");
        List<String> env = Environment.build(List.of("PATH=/image/bin", "SHARED=image", "IMG=1"), List.of(file),
                List.of("SHARED=flag", "FLAG=a=b", "ABSENT_ON_HOST"), "h1", user, true,
                Map.of("FROM_HOST", "yes"));
        assertThat(env).containsExactly("PATH=/image/bin", "HOSTNAME=h1", "TERM=xterm", "SHARED=flag", "IMG=1",
                "FILE=1", "FROM_HOST=yes", "FLAG=a=b", "HOME=/home/u");
        assertThat(Environment.build(List.of(), List.of(), List.of("HOME=/custom"), "h", user, false, Map.of()))
                .containsExactly("PATH=" + Defaults.PATH, "HOSTNAME=h", "HOME=/custom");
        assertThatThrownBy(() -> Environment.build(List.of(), List.of(), List.of("BAD NAME=1"), "h", user, false,
                Map.of())).hasMessage("invalid environment variable \"BAD NAME=1\" in -e");
        assertThatThrownBy(() -> Environment.build(List.of(), List.of(dir.resolve("missing")), List.of(), "h", user,
                false, Map.of())).hasMessageStartingWith("cannot read --env-file");
    }
}
