package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Json;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code berth bundle}: an OCI runtime bundle that runc (the reference runtime) runs unchanged, printing
 * what the same container prints under berth; its rootfs is what umoci unpacks.
 */
class BundleTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    /** What a container can observe of itself, minus its mount table (runc mounts /sys/fs/cgroup, berth binds /etc files). */
    static final String PROBE = "id; hostname; pwd; cat /etc/hostname; ls /; ls -A /dev; ls /sys/class/net; "
            + "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status; ulimit -n; env | sort; "
            + "echo pid=$$; touch /proc/sys/x 2>/dev/null || echo proc-sys-ro; cat /proc/timer_list | wc -c";

    private static String underRunc(Path bundle) {
        Path runc = Tools.require("runc");
        String id = "berth-test-" + bundle.getFileName();
        Tools.Result r = Tools.run(runc.toString(), "run", "--bundle", bundle.toString(), id);
        Tools.run(runc.toString(), "delete", "-f", id);
        assertThat(r.exitCode()).as("runc: %s", r.stderr()).isZero();
        return r.stdout();
    }

    @Test
    void runcRunsTheBundleAndItPrintsWhatBerthRunPrints() throws IOException {
        for (RunOptions.Builder options : List.of(
                RunOptions.builder().hostname("same-host").command("sh", "-c", PROBE),
                RunOptions.builder().hostname("same-host").user("app").workdir("/home/app/work")
                        .env("EXTRA=1").command("sh", "-c", PROBE))) {
            Path bundle = Files.createTempDirectory(f.scratch, "bundle");
            f.runtime.bundle(Fixture.BUSYBOX, bundle, options.build());
            assertThat(bundle.resolve("config.json")).isRegularFile();
            assertThat(bundle.resolve("rootfs/bin/busybox")).isRegularFile();
            String runc = underRunc(bundle);
            Fixture.Run berth = f.run(Fixture.BUSYBOX, options.remove(true));
            assertThat(berth.code()).isZero();
            assertThat(berth.out()).contains("pid=1", "proc-sys-ro", "NoNewPrivs:\t1");
            assertThat(runc).isEqualTo(berth.out());
        }
    }

    @Test
    void runcAppliesTheBundlesSeccompFilterAsBerthDoes() throws IOException {
        String script = "unshare -U -r true 2>/dev/null && echo made || echo refused; grep '^Seccomp:' /proc/self/status";
        Path bundle = Files.createTempDirectory(f.scratch, "bundle");
        f.runtime.bundle(Fixture.BUSYBOX, bundle, RunOptions.builder().command("sh", "-c", script).build());
        assertThat(Files.readString(bundle.resolve("config.json"))).contains("\"seccomp\"", "\"SCMP_CMP_MASKED_EQ\"");
        String runc = underRunc(bundle);
        assertThat(runc).isEqualTo("refused\nSeccomp:\t2\n");
        assertThat(f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("sh", "-c", script)).out())
                .isEqualTo(runc);
        Path open = Files.createTempDirectory(f.scratch, "bundle");
        f.runtime.bundle(Fixture.BUSYBOX, open, RunOptions.builder().seccomp(Seccomp.UNCONFINED)
                .command("sh", "-c", script).build());
        assertThat(underRunc(open)).isEqualTo("made\nSeccomp:\t0\n");
    }

    @Test
    void configJsonCarriesTheResolvedContainer() throws IOException {
        Path bundle = Files.createTempDirectory(f.scratch, "cfg");
        f.runtime.bundle(Fixture.BUSYBOX, bundle, RunOptions.builder().user("app").readOnly(true)
                .resources(Resources.NONE.withMemory(java.util.OptionalLong.of(64L << 20))).build());
        @SuppressWarnings("unchecked")
        Map<String, Object> config = Json.mapper().readValue(bundle.resolve("config.json").toFile(), Map.class);
        assertThat(config.get("ociVersion")).isEqualTo("1.0.2");
        assertThat(config).extracting("root").isEqualTo(Map.of("path", "rootfs", "readonly", true));
        assertThat(config).extracting("process.user").isEqualTo(Map.of("uid", 1000, "gid", 1000,
                "additionalGids", List.of(1000, 2000)));
        assertThat(config).extracting("process.args").isEqualTo(List.of("sh"));
        assertThat(config).extracting("process.capabilities.bounding").asList().hasSize(14).contains("CAP_CHOWN");
        assertThat(config).extracting("linux.resources.memory.limit").isEqualTo(64 << 20);
        assertThat(config).extracting("linux.maskedPaths").asList().contains("/proc/kcore");
    }

    @Test
    void theBundlesRootfsIsWhatUmociUnpacks() throws IOException {
        Path umoci = Tools.require("umoci");
        Path ours = Files.createTempDirectory(f.scratch, "ours");
        f.runtime.bundle("layers:test", ours, RunOptions.builder().build());
        Path theirs = f.scratch.resolve("umoci-" + ours.getFileName());
        Tools.run(umoci.toString(), "unpack", "--image", f.home.store() + ":docker.io/library/layers:test",
                theirs.toString()).ok();
        Map<String, String> a = Trees.describe(ours.resolve("rootfs"), true);
        List.of("etc/hosts", "etc/hostname", "etc/resolv.conf").forEach(a::remove); // berth's, written into it
        assertThat(a).isEqualTo(Trees.describe(theirs.resolve("rootfs"), true));
    }

    @Test
    void aBundleNeedsAnEmptyDirectoryAndHasNoInit() throws IOException {
        Path full = Files.createTempDirectory(f.scratch, "full");
        Files.writeString(full.resolve("x"), "x");
        assertThatThrownBy(() -> f.runtime.bundle(Fixture.BUSYBOX, full, RunOptions.builder().build()))
                .hasMessage("bundle busybox:test: " + full + " is not empty");
        assertThatThrownBy(() -> f.runtime.bundle(Fixture.BUSYBOX, f.scratch.resolve("new"),
                RunOptions.builder().init(true).build())).hasMessageContaining("--init is not available");
    }
}
