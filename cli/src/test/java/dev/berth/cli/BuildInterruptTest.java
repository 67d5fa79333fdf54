package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build stopped in the middle of a RUN, as a user stops it: INT (Ctrl-C) cleans up at once; after
 * {@code kill -9} the container dies with berth and the next build cleans up what was left.
 */
class BuildInterruptTest {
    static Path home;

    @TempDir
    Path ctx;

    @BeforeAll
    static void setUp() {
        home = TestBases.busybox("run-interrupt");
    }

    private Process start(String marker) throws IOException {
        Builds.write(ctx, "secret", "interrupt-secret");
        Builds.dockerfile(ctx, "FROM busybox:test",
                "RUN --mount=type=secret,id=s --mount=type=cache,target=/c sh -c 'echo started; sleep " + marker + "'");
        List<String> cmd = new ArrayList<>(Jvm.command(Berth.class, "build", "--progress", "plain", "--secret",
                "id=s,src=" + ctx.resolve("secret"), "-t", "stopped:1", ctx.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("BERTH_HOME", home.toString());
        Process p = pb.start();
        // wait for the step's output: the container runs
        var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            if (line.endsWith(" started")) {
                break;
            }
        }
        Thread.ofVirtual().start(() -> lines.lines().forEach(l -> { }));
        return p;
    }

    private static boolean sleeping(String marker) {
        return Tools.run("pgrep", "-f", "sleep " + marker).exitCode() == 0;
    }

    @Test
    @Timeout(60)
    void ctrlCStopsTheStepAndLeavesNothing() throws Exception {
        Process p = start("61.25");
        assertThat(sleeping("61.25")).isTrue();
        Tools.run("kill", "-INT", Long.toString(p.pid())).ok();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(sleeping("61.25")).isFalse();
        assertThat(Builds.leftovers(home)).isEmpty();
        assertThat(RunStepTest.cgroupsOf(home)).isEmpty();
        assertThat(secretDirsOf(p.pid())).isEmpty();
        assertThat(CliRun.berth(home, "images").out()).doesNotContain("stopped");
    }

    @Test
    @Timeout(60)
    void afterKill9TheContainerIsGoneAndTheNextBuildCleansUp() throws Exception {
        Process p = start("62.5");
        p.destroyForcibly();
        p.waitFor();
        for (int i = 0; i < 100 && sleeping("62.5"); i++) {
            Thread.sleep(50);
        }
        assertThat(sleeping("62.5")).as("the container died with berth").isFalse();
        assertThat(Builds.leftovers(home)).as("what the killed build left").isNotEmpty();
        Builds.build(home, ctx, "FROM busybox:test", "RUN echo next");
        assertThat(Builds.leftovers(home)).isEmpty();
        assertThat(RunStepTest.cgroupsOf(home)).isEmpty();
        assertThat(secretDirsOf(p.pid())).isEmpty();
    }

    private static List<Path> secretDirsOf(long pid) throws IOException {
        try (var s = Files.list(Path.of("/dev/shm"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("berth-secrets-" + pid + "-")).toList();
        }
    }
}
