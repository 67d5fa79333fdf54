package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code berth exec}: a command in a running (detached) container, in every one of its namespaces and
 * its cgroup, with its capabilities, environment, user and working directory unless told otherwise, and
 * docker's exit codes.
 */
class ExecTest {
    static Fixture f;
    static RunningContainer c;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
        c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT).env("FROM_RUN=run")
                .env("BOTH=run").workdir("/home").hostname("exec-host")
                .command("sh", "-c", "echo main > /tmp/main; while true; do sleep 1; done").build());
    }

    @AfterAll
    static void tearDown() {
        if (c != null) {
            f.runtime.remove(List.of(c.name()), true);
        }
    }

    /** Runs the command in c; its stdout and its exit code. */
    private static Result exec(List<String> command, Optional<String> user, Optional<String> workdir,
                               List<String> env, boolean privileged) throws IOException {
        Path out = Files.createTempFile(f.scratch, "exec", ".out");
        ExecOptions o = new ExecOptions(command, user, workdir, env, false, false, privileged, Stdio.NULL,
                Stdio.file(out), Stdio.INHERIT);
        int code = f.runtime.exec(c.name(), o).await();
        return new Result(Files.readString(out, StandardCharsets.UTF_8), code);
    }

    private static Result sh(String script) throws IOException {
        return exec(List.of("sh", "-c", script), Optional.empty(), Optional.empty(), List.of(), false);
    }

    private record Result(String out, int code) {}

    /** A field of this JVM's own /proc/self/status. */
    private static String own(String field) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith(field + ":"))
                .map(l -> l.substring(field.length() + 1).strip()).findFirst().orElseThrow();
    }

    @Test
    void itJoinsEveryNamespaceAndTheCgroupOfTheContainer() throws IOException {
        Result r = sh("for n in user mnt pid uts ipc net cgroup; do"
                + " [ \"$(readlink /proc/self/ns/$n)\" = \"$(readlink /proc/1/ns/$n)\" ] && echo same $n; done;"
                + " [ \"$(cat /proc/self/cgroup)\" = \"$(cat /proc/1/cgroup)\" ] && echo same cgroups;"
                + " hostname; cat /tmp/main; ps -o pid,args");
        assertThat(r.code()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.subList(0, 10)).containsExactly("same user", "same mnt", "same pid", "same uts", "same ipc",
                "same net", "same cgroup", "same cgroups", "exec-host", "main");
        assertThat(lines.get(11)).as("the container's own PID 1").matches(" *1 sh -c echo main.*");
        assertThat(r.out()).doesNotContain("java");
        // what an exec writes, the container sees
        assertThat(sh("echo from-exec > /tmp/x").code()).isZero();
        assertThat(sh("cat /tmp/x").out()).isEqualTo("from-exec\n");
    }

    @Test
    void itHasTheContainersCapabilitiesAndNoNewPrivsUnlessPrivileged() throws IOException {
        String script = "grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status";
        String main = sh("grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/1/status").out();
        assertThat(sh(script).out()).isEqualTo(main).contains("CapEff:\t00000000a80425fb").contains("NoNewPrivs:\t1");
        Result all = exec(List.of("sh", "-c", script), Optional.empty(), Optional.empty(), List.of(), true);
        assertThat(all.out()).contains("NoNewPrivs:\t0").doesNotContain("a80425fb")
                .contains("CapEff:\t" + own("CapBnd"));
    }

    @Test
    void itTakesTheContainersEnvironmentUserAndDirectoryUnlessToldOtherwise() throws IOException {
        Result r = sh("echo $FROM_RUN $BOTH $HOSTNAME $HOME; id -u; pwd");
        assertThat(r.out()).isEqualTo("run run exec-host /root\n0\n/home\n");
        Result as = exec(List.of("sh", "-c", "echo $BOTH $NEW $HOME; id; pwd"), Optional.of("app"),
                Optional.of("app"), List.of("BOTH=exec", "NEW=new"), false);
        assertThat(as.out()).isEqualTo("exec new /home/app\nuid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n"
                + "/home/app\n");
    }

    @Test
    void statsSeeTheContainersProcessesAndWhatTheyUse() throws Exception {
        RunningExec busy = f.runtime.exec(c.name(), new ExecOptions(List.of("sh", "-c", "while true; do :; done"),
                Optional.empty(), Optional.empty(), List.of(), false, false, false, Stdio.NULL, Stdio.NULL, Stdio.NULL));
        ContainerStats first = f.runtime.control().stats(c.name());
        for (int i = 0; i < 300 && first.pids().size() < 3; i++) { // until the exec has joined
            Thread.sleep(10);
            first = f.runtime.control().stats(c.name());
        }
        assertThat(first.pids()).as("PID 1, its sleep, and the exec").hasSizeGreaterThanOrEqualTo(3)
                .contains(c.pid().getAsLong());
        ContainerStats second = first;
        for (int i = 0; i < 3000 && second.cpuTicks() - first.cpuTicks() <= 10; i++) { // however loaded the machine
            Thread.sleep(10);
            second = f.runtime.control().stats(c.name());
        }
        assertThat(second.cpuTicks() - first.cpuTicks()).as("the busy exec's CPU time, in ticks of 10 ms")
                .isGreaterThan(10);
        assertThat(second.memoryUsage()).isPositive().isLessThan(second.memoryLimit());
        assertThat(second.name()).isEqualTo(c.name());
        busy.signal(9);
        assertThat(busy.await()).isEqualTo(137);
    }

    @Test
    void itsExitCodesAreDockers() throws IOException {
        assertThat(sh("exit 7").code()).isEqualTo(7);
        assertThat(sh("kill -TERM $$").code()).isEqualTo(128 + 15);
        assertThatThrownBy(() -> exec(List.of("no-such-command"), Optional.empty(), Optional.empty(), List.of(), false))
                .isInstanceOfSatisfying(ContainerException.class, e -> assertThat(e.exitCode()).isEqualTo(127))
                .hasMessageContaining("no-such-command");
        assertThatThrownBy(() -> exec(List.of("/etc/passwd"), Optional.empty(), Optional.empty(), List.of(), false))
                .isInstanceOfSatisfying(ContainerException.class, e -> assertThat(e.exitCode()).isEqualTo(126));
        assertThatThrownBy(() -> exec(List.of("true"), Optional.empty(), Optional.of("/no/such/dir"), List.of(), false))
                .hasMessageContaining("working directory /no/such/dir");
        assertThatThrownBy(() -> exec(List.of("true"), Optional.of("nobody-here"), Optional.empty(), List.of(), false))
                .hasMessageContaining("nobody-here");
    }

    @Test
    void aStoppedOrMissingContainerIsRefused() {
        RunningContainer done = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .command("true").build());
        f.runtime.control().waitFor(done.name());
        assertThatThrownBy(() -> f.runtime.exec(done.name(), ExecOptions.of(List.of("true"), Optional.empty(),
                Optional.empty(), List.of(), false, false, false)))
                .isInstanceOfSatisfying(ContainerException.class, e -> assertThat(e.exitCode()).isEqualTo(1))
                .hasMessage("container " + done.name() + " is not running");
        assertThatThrownBy(() -> f.runtime.exec("no-such-container", ExecOptions.of(List.of("true"), Optional.empty(),
                Optional.empty(), List.of(), false, false, false))).hasMessage("no such container: no-such-container");
        f.runtime.remove(List.of(done.name()), false);
    }

    @Test
    void anExecStillRunningWhenTheContainerStopsIsKilledWithIt() throws IOException {
        RunningContainer short_ = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .command("sh", "-c", "while true; do sleep 1; done").build());
        RunningExec e = f.runtime.exec(short_.name(), new ExecOptions(List.of("sleep", "60"), Optional.empty(),
                Optional.empty(), List.of(), false, false, false, Stdio.NULL, Stdio.NULL, Stdio.NULL));
        long t0 = System.nanoTime();
        f.runtime.control().stop(short_.name(), Duration.ofMillis(200));
        assertThat(e.await()).as("killed with the PID namespace").isEqualTo(137);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
        f.runtime.remove(List.of(short_.name()), false);
    }
}
