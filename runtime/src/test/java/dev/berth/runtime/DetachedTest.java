package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.runtime.internal.Linux;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Containers that outlive their start ({@code berth run -d}): kept by the helper's monitor, their output in
 * a json-file log, their end recorded from the monitor's exit file by the next berth that looks (these
 * tests give no exit command, so that berth is the test), stopped, killed, waited for.
 */
class DetachedTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static RunningContainer detached(String image, DetachOptions d, String script) {
        RunningContainer c = f.runtime.start(image, RunOptions.builder().detach(d).command("sh", "-c", script).build());
        assertThat(c.detached()).as("detached before it ended").isTrue();
        return c;
    }

    private static String[] logs(String name, ContainerLogs.Query q) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        f.runtime.control().logs(name, q, out, err);
        return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    private static final ContainerLogs.Query ALL = new ContainerLogs.Query(false, OptionalInt.empty(), Optional.empty(),
            false);

    @Test
    void itsOutputIsAJsonFileLogAndItsExitIsRecorded() throws IOException {
        RunningContainer c = detached(Fixture.BUSYBOX, DetachOptions.DEFAULT,
                "sleep 0.2; echo out; echo err >&2; printf 'no newline \\\\ \"quoted\" \\t <tab> '; exit 3");
        assertThat(f.runtime.control().waitFor(c.name())).isEqualTo(3);
        Path dir = f.home.containers().resolve(c.id());
        List<String> lines = Files.readAllLines(dir.resolve(Detached.LOG));
        assertThat(lines).hasSize(3);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.getFirst());
        assertThat(first.fieldNames()).toIterable().containsExactly("log", "stream", "time");
        assertThat(first.get("log").asText()).isEqualTo("out\n");
        assertThat(first.get("stream").asText()).isEqualTo("stdout");
        assertThat(Instant.parse(first.get("time").asText())).isBetween(Instant.now().minusSeconds(60), Instant.now());
        assertThat(json.readTree(lines.get(1)).get("stream").asText()).isEqualTo("stderr");
        assertThat(lines.get(2)).startsWith("{\"log\":\"no newline \\\\ \\\"quoted\\\" \\t \\u003ctab\\u003e \",");
        String[] both = logs(c.name(), ALL);
        assertThat(both[0]).isEqualTo("out\nno newline \\ \"quoted\" \t <tab> ");
        assertThat(both[1]).isEqualTo("err\n");
        assertThat(logs(c.name(), new ContainerLogs.Query(false, OptionalInt.of(1), Optional.empty(), true))[0])
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z no newline .*");
        ContainerInfo info = f.runtime.list(true).stream().filter(i -> i.id().equals(c.id())).findFirst().orElseThrow();
        assertThat(info.status()).isEqualTo(ContainerInfo.Status.EXITED);
        assertThat(info.exitCode()).hasValue(3);
        f.runtime.remove(List.of(c.name()), false);
        assertThat(dir).doesNotExist();
    }

    @Test
    void stopSendsTheStopSignalThenSigkillAfterTheTimeout() {
        RunningContainer polite = detached("stopsignal:test", DetachOptions.DEFAULT,
                "trap 'echo got USR1; exit 5' USR1; echo ready; while true; do sleep 0.05; done");
        waitForLog(polite.name(), "ready");
        assertThat(f.runtime.control().stop(polite.name(), Duration.ofSeconds(30))).as("killed").isFalse();
        assertThat(f.runtime.control().waitFor(polite.name())).isEqualTo(5);
        assertThat(logs(polite.name(), ALL)[0]).isEqualTo("ready\ngot USR1\n");

        RunningContainer stubborn = detached(Fixture.BUSYBOX, DetachOptions.DEFAULT, "while true; do sleep 1; done");
        long t0 = System.nanoTime();
        assertThat(f.runtime.control().stop(stubborn.name(), Duration.ofMillis(300))).as("killed").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(f.runtime.control().waitFor(stubborn.name())).isEqualTo(137);
        assertThat(f.runtime.control().stop(stubborn.name(), Duration.ofSeconds(1))).as("stopped already: nothing to do").isFalse();
        assertThatThrownBy(() -> f.runtime.control().kill(stubborn.name(), Linux.SIGTERM)).hasMessage("container "
                + stubborn.name() + " is not running");
        f.runtime.remove(List.of(polite.name(), stubborn.name()), false);
    }

    @Test
    void pauseFreezesEveryProcessUntilUnpauseAndStopStillWorks() throws Exception {
        // a limit, so that a rootless container has a cgroup (and so a freezer) too
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .resources(new Resources(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(100)))
                .command("sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 0.02; done").build());
        waitForLog(c.name(), "3");
        f.runtime.control().pause(c.name(), true);
        assertThat(f.runtime.list(false)).filteredOn(i -> i.id().equals(c.id())).singleElement()
                .satisfies(i -> assertThat(i.paused()).isTrue());
        String frozen = logs(c.name(), ALL)[0];
        Thread.sleep(300);
        assertThat(logs(c.name(), ALL)[0]).as("nothing runs while paused").isEqualTo(frozen);
        assertThatThrownBy(() -> f.runtime.control().pause(c.name(), true)).hasMessage("container " + c.name()
                + " is already paused");
        assertThatThrownBy(() -> f.runtime.exec(c.name(), ExecOptions.of(List.of("true"), Optional.empty(),
                Optional.empty(), List.of(), false, false, false))).hasMessageContaining("is paused");
        f.runtime.control().pause(c.name(), false);
        waitForLog(c.name(), (Integer.parseInt(frozen.lines().toList().getLast()) + 3) + "\n");
        f.runtime.control().pause(c.name(), true);
        assertThat(f.runtime.control().stop(c.name(), Duration.ofMillis(200))).as("a paused shell ignores SIGTERM as PID 1")
                .isTrue();
        assertThat(f.runtime.control().waitFor(c.name())).isEqualTo(137);
        assertThatThrownBy(() -> f.runtime.control().pause(c.name(), false)).hasMessage("container " + c.name()
                + " is not running");
        f.runtime.remove(List.of(c.name()), false);
    }

    @Test
    void aStoppedContainerStartsAgainAsItWasRunWithItsFiles() throws Exception {
        RunningContainer c = detached(Fixture.BUSYBOX, DetachOptions.DEFAULT,
                "echo run $FROM_IMAGE $(hostname) $(cat /count 2>/dev/null); echo x >> /count; pwd; exit 3");
        assertThat(f.runtime.control().waitFor(c.name())).isEqualTo(3);
        String host = c.id().substring(0, 12);
        RunningContainer again = f.runtime.restart(c.name(), Optional.of(DetachOptions.DEFAULT), false);
        assertThat(again.id()).isEqualTo(c.id());
        assertThat(f.runtime.control().waitFor(c.name())).isEqualTo(3);
        assertThat(logs(c.name(), ALL)[0]).as("the same command, environment, host name and files; one log")
                .isEqualTo("run yes " + host + "\n/\nrun yes " + host + " x\n/\n");
        // in the foreground, on berth's streams
        Path out = Files.createTempFile(f.scratch, "start", ".out");
        assertThatThrownBy(() -> f.runtime.restart("no-such", Optional.empty(), false))
                .hasMessage("no such container: no-such");
        RunResult r = f.runtime.restart(c.name(), Optional.empty(), false).await();
        assertThat(r.exitCode()).isEqualTo(3);
        ContainerInfo info = f.runtime.list(true).stream().filter(i -> i.id().equals(c.id())).findFirst().orElseThrow();
        assertThat(info.status()).isEqualTo(ContainerInfo.Status.EXITED);
        assertThat(info.started()).isAfter(info.created());
        Files.delete(out);

        RunningContainer running = detached(Fixture.BUSYBOX, DetachOptions.DEFAULT, "sleep 100");
        assertThatThrownBy(() -> f.runtime.restart(running.name(), Optional.of(DetachOptions.DEFAULT), false))
                .hasMessage("container " + running.name() + " is running");
        f.runtime.remove(List.of(c.name(), running.name()), true);
    }

    @Test
    void aKilledMonitorLeavesTheContainerDead() throws IOException {
        RunningContainer c = detached(Fixture.BUSYBOX, DetachOptions.DEFAULT, "while true; do sleep 1; done");
        Linux.kill(c.monitorPid(), Linux.SIGKILL);
        c.await(); // the helper this JVM started is gone
        ContainerInfo info = f.runtime.list(true).stream().filter(i -> i.id().equals(c.id())).findFirst().orElseThrow();
        assertThat(info.status()).isEqualTo(ContainerInfo.Status.DEAD);
        assertThat(f.runtime.control().waitFor(c.name())).isEqualTo(137);
        f.runtime.remove(List.of(c.name()), false);
    }

    @Test
    void theLogRotatesAtItsSizeKeepingItsFiles() throws IOException {
        RunningContainer c = detached(Fixture.BUSYBOX, new DetachOptions(1000, 3, List.of()),
                "sleep 0.2; i=0; while [ $i -lt 100 ]; do echo line $i; i=$((i+1)); done");
        f.runtime.control().waitFor(c.name());
        Path dir = f.home.containers().resolve(c.id());
        assertThat(dir.resolve(Detached.LOG + ".1")).exists();
        assertThat(dir.resolve(Detached.LOG + ".2")).exists();
        assertThat(dir.resolve(Detached.LOG + ".3")).doesNotExist();
        for (String name : List.of(Detached.LOG, Detached.LOG + ".1", Detached.LOG + ".2")) {
            assertThat(Files.size(dir.resolve(name))).as(name).isLessThanOrEqualTo(1000);
        }
        List<String> shown = logs(c.name(), ALL)[0].lines().toList();
        assertThat(shown.getLast()).isEqualTo("line 99");
        assertThat(shown.size()).as("the oldest lines rotated away").isBetween(20, 99);
        for (int i = 1; i < shown.size(); i++) { // consecutive, in order
            assertThat(shown.get(i)).isEqualTo("line " + (Integer.parseInt(shown.get(i - 1).substring(5)) + 1));
        }
        f.runtime.remove(List.of(c.name()), false);
    }

    @Test
    void followingTheLogShowsLinesAsTheyComeUntilTheContainerEnds() throws Exception {
        Path gate = Files.createTempDirectory(f.scratch, "gate");
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .volume(Volume.parse(gate + ":/gate")).command("sh", "-c",
                        "echo first; while [ ! -e /gate/go ]; do sleep 0.05; done; echo second").build());
        java.io.PipedOutputStream sink = new java.io.PipedOutputStream();
        java.io.BufferedReader seen = new java.io.BufferedReader(new java.io.InputStreamReader(
                new java.io.PipedInputStream(sink), StandardCharsets.UTF_8));
        CompletableFuture<Void> follow = CompletableFuture.runAsync(() -> {
            f.runtime.control().logs(c.name(), new ContainerLogs.Query(true, OptionalInt.empty(), Optional.empty(), false),
                    sink, new ByteArrayOutputStream());
            try {
                sink.close();
            } catch (IOException ignored) {
                // the reader is gone
            }
        });
        assertThat(seen.readLine()).as("before the container ends").isEqualTo("first");
        assertThat(follow).isNotDone();
        Files.createFile(gate.resolve("go"));
        assertThat(seen.readLine()).isEqualTo("second");
        follow.get(30, java.util.concurrent.TimeUnit.SECONDS); // returns once the container has ended
        assertThat(seen.readLine()).isNull();
        f.runtime.remove(List.of(c.name()), false);
    }

    private static void waitForLog(String name, String text) {
        for (int i = 0; i < 3000; i++) {
            if (logs(name, ALL)[0].contains(text)) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new AssertionError(name + "'s log never showed " + text);
    }
}
