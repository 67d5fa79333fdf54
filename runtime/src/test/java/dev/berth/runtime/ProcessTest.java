package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PID 1, signals, zombies and terminals. */
class ProcessTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    /** Linux signal numbers of the signals berth forwards. */
    static final Map<String, Integer> SIGNALS = Map.of("INT", 2, "TERM", 15, "HUP", 1, "QUIT", 3, "USR1", 10,
            "USR2", 12);

    private static void forwardsEverySignal(boolean init) throws IOException {
        StringBuilder script = new StringBuilder("n=0; ");
        for (String s : SIGNALS.keySet()) {
            script.append("trap 'echo got ").append(s).append("; n=$((n+1))' ").append(s).append("; ");
        }
        script.append("echo ready; while [ $n -lt 6 ]; do sleep 0.02; done; echo pid $$; exit 9");
        Path out = Files.createTempFile(f.scratch, "sig", ".txt");
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().remove(true).init(init)
                .stdout(Stdio.file(out)).command("sh", "-c", script.toString()).build());
        CgroupTest.waitFor(out, "ready");
        for (Map.Entry<String, Integer> s : SIGNALS.entrySet()) {
            assertThat(c.signal(s.getValue())).isTrue();
            CgroupTest.waitFor(out, "got " + s.getKey());
        }
        RunResult r = c.await();
        assertThat(r.exitCode()).isEqualTo(9);
        assertThat(Files.readString(out)).endsWith("pid " + (init ? 2 : 1) + "\n");
    }

    @Test
    void theInitForwardsIntTermHupQuitUsr1AndUsr2ToTheCommand() throws IOException {
        forwardsEverySignal(true);
    }

    @Test
    void withoutInitTheSignalsGoToTheCommandAsPid1() throws IOException {
        forwardsEverySignal(false);
    }

    @Test
    void theInitReapsOrphansAndExitsWithTheCommandsStatus() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).init(true).command("sh", "-c",
                "for i in 1 2 3; do (sleep 0.1 &); done; sleep 1; ps -o stat,comm; exit 5"));
        assertThat(r.code()).isEqualTo(5);
        List<String> states = r.out().lines().skip(1).map(l -> l.trim().split("\\s+")[0]).toList();
        assertThat(states).as("no zombie: the init reaped the orphaned sleeps").noneMatch(s -> s.startsWith("Z"));
        assertThat(r.out()).doesNotContain("sleep");
        Fixture.Run killed = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).init(true)
                .command("sh", "-c", "kill -USR1 $$"));
        assertThat(killed.code()).isEqualTo(128 + 10);
    }

    @Test
    void aTerminalIsAPtyInTheContainer() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).tty(true).command("sh", "-c",
                "tty; [ -t 1 ] && echo is-a-tty; echo TERM=$TERM; ls /dev/console; echo err >&2"));
        assertThat(r.code()).isZero();
        assertThat(r.out()).as("a pty turns \\n into \\r\\n").isEqualTo("/dev/pts/0\r\nis-a-tty\r\nTERM=xterm\r\n"
                + "/dev/console\r\nerr\r\n");
    }

    @Test
    void interactiveInputReachesTheCommandThroughThePty() throws IOException {
        Path in = f.scratch.resolve("typed.txt");
        Files.writeString(in, "echo typed-$((40+2))\nexit 3\n");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).tty(true).interactive(true)
                .stdin(Stdio.file(in)).command("sh"));
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.out()).contains("typed-42\r\n");
    }

    @Test
    void interactiveInputWithoutATerminalIsAPlainStream() throws IOException {
        Path in = f.scratch.resolve("lines.txt");
        Files.writeString(in, "b\na\nc\n");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).interactive(true)
                .stdin(Stdio.file(in)).command("sort"));
        assertThat(r.out()).isEqualTo("a\nb\nc\n");
        Fixture.Run closed = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("cat"));
        assertThat(closed.out()).as("without -i, stdin is /dev/null").isEmpty();
        assertThat(closed.code()).isZero();
    }
}
