package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code berth attach} to detached containers, as a user runs it: output as it comes (stdout and stderr
 * apart), input to the container's stdin or tty, the container's exit code, ^P^Q to detach, and signals
 * forwarded to a container without a tty.
 */
class AttachCommandTest {
    static Path home;

    @BeforeAll
    static void setUp() throws Exception {
        home = RunCommandsTest.busyboxHome("cli-attach-berth");
    }

    private static Tools.Result berth(byte[] stdin, String... args) {
        return Tools.run(Jvm.command(Berth.class, args), Map.of("BERTH_HOME", home.toString()), stdin);
    }

    private static Tools.Result ok(Tools.Result r) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.stderr()).isZero();
        return r;
    }

    private static ProcessBuilder attach(String name) {
        ProcessBuilder pb = new ProcessBuilder(Jvm.command(Berth.class, "attach", name));
        pb.environment().put("BERTH_HOME", home.toString());
        return pb;
    }

    /** Reads {@code in} until what was read ends with {@code text}; fails at its end. */
    private static String readUntil(java.io.InputStream in, String text) throws java.io.IOException {
        StringBuilder seen = new StringBuilder();
        while (!seen.toString().endsWith(text)) {
            int b = in.read();
            assertThat(b).as("output so far: %s", seen).isNotNegative();
            seen.append((char) b);
        }
        return seen.toString();
    }

    private static void waitForLog(String name, String text) throws InterruptedException {
        for (int i = 0; i < 1000 && !berth(null, "logs", name).stdout().contains(text); i++) {
            Thread.sleep(10);
        }
    }

    @Test
    void theOutputFromNowOnApartAndTheExitCode() throws Exception {
        ok(berth(null, "run", "-d", "--name", "att-out", "bb:cli", "sh", "-c",
                "echo before; while [ ! -e /go ]; do echo tick; sleep 0.05; done; echo out; echo err >&2; exit 7"));
        waitForLog("att-out", "before");
        Process attach = attach("att-out").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        readUntil(attach.getInputStream(), "tick\n"); // attached: the output comes as it is written
        ok(berth(null, "exec", "att-out", "touch", "/go"));
        assertThat(attach.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(attach.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String rest = new String(attach.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(rest).as(err).matches("(tick\n)*out\n");
        assertThat(err).isEqualTo("err\n");
        assertThat(attach.exitValue()).isEqualTo(7);
        ok(berth(null, "rm", "att-out"));
    }

    @Test
    void inputReachesTheStdinOfAContainerRunWithI() {
        ok(berth(null, "run", "-d", "-i", "--name", "att-in", "bb:cli", "sh", "-c", "read x; echo got $x; exit 3"));
        Tools.Result r = berth("hello\n".getBytes(StandardCharsets.UTF_8), "attach", "att-in");
        assertThat(r.stdout()).isEqualTo("got hello\n");
        assertThat(r.exitCode()).isEqualTo(3);
        ok(berth(null, "rm", "att-in"));
    }

    @Test
    void aTtyTakesTheInputAndControlPQDetaches() throws Exception {
        ok(berth(null, "run", "-d", "-t", "-i", "--name", "att-tty", "bb:cli", "sh"));
        Process attach = attach("att-tty").start();
        java.io.OutputStream in = attach.getOutputStream();
        in.write("echo hi-$((40+2))\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        readUntil(attach.getInputStream(), "hi-42\r\n"); // the tty's output: CR LF; the echo of the line first
        in.write(new byte[] {0x10, 0x11}); // ^P ^Q
        in.flush();
        assertThat(attach.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(attach.exitValue()).isZero();
        assertThat(new String(attach.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                .contains("read escape sequence");
        assertThat(ok(berth(null, "ps")).stdout()).contains("att-tty"); // still running
        Tools.Result again = berth("exit 5\n".getBytes(StandardCharsets.UTF_8), "attach", "att-tty");
        assertThat(again.exitCode()).isEqualTo(5);
        ok(berth(null, "rm", "att-tty"));
    }

    @Test
    void signalsGoToAContainerWithoutATty() throws Exception {
        ok(berth(null, "run", "-d", "--name", "att-sig", "bb:cli", "sh", "-c",
                "trap 'echo got INT; exit 9' INT; echo ready; while true; do echo tick; sleep 0.05; done"));
        waitForLog("att-sig", "ready");
        Process attach = attach("att-sig").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        readUntil(attach.getInputStream(), "tick\n"); // attached, and berth's signal handlers are in place
        Tools.run("kill", "-INT", Long.toString(attach.pid())).ok();
        assertThat(attach.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(attach.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).matches("(tick\n)*got INT\n");
        assertThat(attach.exitValue()).isEqualTo(9);
        ok(berth(null, "rm", "att-sig"));
    }

    @Test
    void refusedForAStoppedContainer() {
        ok(berth(null, "run", "--name", "att-done", "bb:cli", "true"));
        Tools.Result r = berth(null, "attach", "att-done");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).isEqualTo("berth: container att-done is not running: start it with berth start -a\n");
        ok(berth(null, "rm", "att-done"));
    }
}
