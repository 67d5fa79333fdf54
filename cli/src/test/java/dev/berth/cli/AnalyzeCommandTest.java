package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth analyze} as a user runs it: an image of the store, of an OCI layout and of an archive, the
 * budgets that fail a CI job, and the line {@code berth build} prints.
 */
class AnalyzeCommandTest {
    static Path home;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        home = RunCommandsTest.busyboxHome("cli-analyze-berth");
    }

    private static Tools.Result berth(String... args) {
        return Tools.run(Jvm.command(Berth.class, args), Map.of("BERTH_HOME", home.toString()), null);
    }

    private static Tools.Result ok(Tools.Result r) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.stderr()).isZero();
        return r;
    }

    @Test
    void anImageThatWastesWhatItDeletesAndItsBudgets() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        Files.write(ctx.resolve("big"), new byte[300_000]);
        Files.writeString(ctx.resolve("Dockerfile"), "FROM bb:cli\nCOPY big /tmp/big\nRUN rm /tmp/big\n");
        Tools.Result build = ok(berth("build", "--progress", "plain", "-t", "waste:1", ctx.toString()));
        assertThat(build.stderr()).containsPattern("image [0-9.]+MB in 3 layers; 300kB wasted, most in layer 2 \\(COPY big /tmp/big\\)");
        Tools.Result text = ok(berth("analyze", "waste:1"));
        assertThat(text.stdout()).contains("300kB      /tmp/big  (layer 2, deleted in layer 3)")
                .contains("/bin/busybox  static");
        Tools.Result over = berth("analyze", "--fail-wasted", "100k", "waste:1");
        assertThat(over.exitCode()).isEqualTo(1);
        assertThat(over.stderr()).isEqualTo("berth: analyze waste:1: 300kB wasted, over the budget of 100k\n");
        ok(berth("analyze", "--fail-wasted", "1m", "--fail-size", "100m", "waste:1"));
        Tools.Result big = berth("analyze", "--fail-size", "1k", "waste:1");
        assertThat(big.exitCode()).isEqualTo(1);
        assertThat(big.stderr()).startsWith("berth: analyze waste:1: the image is ").endsWith("over the budget of 1k\n");
    }

    @Test
    void anArchiveAndAnOciLayoutAsTheStoresImage() throws Exception {
        Path tar = dir.resolve("bb.tar");
        ok(berth("save", "-o", tar.toString(), "bb:cli"));
        String inStore = ok(berth("analyze", "--format", "json", "bb:cli")).stdout();
        assertThat(ok(berth("analyze", "--format", "json", "docker-archive:" + tar)).stdout()).isEqualTo(inStore);
        assertThat(ok(berth("analyze", "--format", "json", "oci-archive:" + tar)).stdout()).isEqualTo(inStore);
        Path layout = Files.createDirectories(dir.resolve("layout"));
        Tools.run("tar", "-C", layout.toString(), "-xf", tar.toString()).ok();
        assertThat(ok(berth("analyze", "--format", "json", "oci:" + layout)).stdout()).isEqualTo(inStore);
        Tools.Result none = berth("analyze", "oci:" + dir.resolve("nothing"));
        assertThat(none.exitCode()).isNotZero();
        assertThat(none.stderr()).contains("is not an OCI layout");
        assertThat(home.resolve("tmp")).isEmptyDirectory(); // the archive's scratch store is gone
    }
}
