package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth cp} as a user types it: CONTAINER:PATH on either side, - for a tar, the usage errors. */
class CpCommandTest {
    static Path home;

    @TempDir
    Path host;

    @org.junit.jupiter.api.BeforeAll
    static void setUp() throws java.io.IOException {
        home = RunCommandsTest.busyboxHome("cli-cp-berth");
    }

    private static Tools.Result berth(String... args) {
        return Tools.run(dev.berth.layers.testing.Jvm.command(Berth.class, args), java.util.Map.of("BERTH_HOME",
                home.toString()), null);
    }

    @Test
    void bothWaysAndATarOnStdout() throws Exception {
        DetachedCommandsTest.ok(berth("run", "-d", "--name", "cp-target", "bb:cli", "sleep", "1000"));
        Path file = Files.writeString(host.resolve("note"), "from the host\n");
        DetachedCommandsTest.ok(berth("cp", file.toString(), "cp-target:/"));
        DetachedCommandsTest.ok(berth("cp", "cp-target:/note", host.resolve("back").toString()));
        assertThat(Files.readString(host.resolve("back"))).isEqualTo("from the host\n");
        java.util.List<String> sh = new java.util.ArrayList<>(java.util.List.of("sh", "-c", "\"$@\" | tar -tv", "sh"));
        sh.addAll(dev.berth.layers.testing.Jvm.command(Berth.class, "cp", "cp-target:/note", "-"));
        Tools.Result listed = Tools.run(sh, java.util.Map.of("BERTH_HOME", home.toString()), null);
        assertThat(listed.exitCode()).as(listed.stderr()).isZero();
        assertThat(listed.stdout()).contains("0/0").contains(" note\n");
        Tools.Result missing = berth("cp", "cp-target:/nothing", host.toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).isEqualTo("berth: cp cp-target:/nothing: no such file or directory\n");
        DetachedCommandsTest.ok(berth("rm", "-f", "cp-target"));
    }

    @Test
    void oneSideMustBeAContainer() {
        Tools.Result local = berth("cp", "a", "b");
        assertThat(local.exitCode()).isEqualTo(1);
        assertThat(local.stderr()).isEqualTo("berth: cp: one of SRC and DEST must be CONTAINER:PATH (a host path with"
                + " a colon: ./a)\n");
        Tools.Result both = berth("cp", "x:/a", "y:/b");
        assertThat(both.stderr()).contains("copying between containers is not supported");
    }
}
