package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A container's life without a daemon: --rm leaves nothing, ps and rm, a berth killed while its container
 * runs (the container dies with it, the next berth cleans up), and 200 runs that leave no mount, cgroup,
 * process or directory behind.
 */
class LifecycleTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    @Test
    void withRemoveNothingOfTheContainerRemains() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).name("gone-after")
                .command("sh", "-c", "echo data > /root/file"));
        assertThat(r.code()).isZero();
        assertThat(f.home.containers().resolve(r.result().id())).doesNotExist();
        assertThat(f.home.containers().resolve(".names/gone-after")).doesNotExist();
        assertThat(f.runtime.list(true)).noneMatch(c -> c.id().equals(r.result().id()));
        assertNoCgroup(r.result().id());
    }

    @Test
    void psListsRunningAndExitedContainersAndRmRemovesThem() throws IOException {
        Fixture.Run done = f.run(Fixture.BUSYBOX, RunOptions.builder().name("exited-one").command("sh", "-c", "exit 4"));
        Path out = Files.createTempFile(f.scratch, "ps", ".txt");
        RunningContainer running = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().name("running-one")
                .init(true).stdout(Stdio.file(out)).command("sh", "-c", "echo ready; exec sleep 600").build());
        try {
            CgroupTest.waitFor(out, "ready");
            List<ContainerInfo> live = f.runtime.list(false);
            assertThat(live).extracting(ContainerInfo::name).contains("running-one").doesNotContain("exited-one");
            ContainerInfo r = live.stream().filter(c -> c.name().equals("running-one")).findFirst().orElseThrow();
            assertThat(r.status()).isEqualTo(ContainerInfo.Status.RUNNING);
            assertThat(r.pid()).isPresent();
            assertThat(ProcessHandle.of(r.pid().getAsLong())).isPresent();
            assertThat(r.image()).isEqualTo("busybox:test");
            assertThat(r.command()).containsExactly("sh", "-c", "echo ready; exec sleep 600");

            ContainerInfo e = f.runtime.list(true).stream().filter(c -> c.name().equals("exited-one")).findFirst()
                    .orElseThrow();
            assertThat(e.status()).isEqualTo(ContainerInfo.Status.EXITED);
            assertThat(e.exitCode()).hasValue(4);
            assertThat(e.finished()).isPresent();

            assertThatThrownBy(() -> f.runtime.remove(List.of("running-one"), false))
                    .hasMessage("container running-one is running: stop it first, or use berth rm -f");
            assertThat(f.runtime.remove(List.of("exited-one", done.result().id().substring(0, 12))
                    .subList(0, 1), false)).containsExactly("exited-one");
            assertThat(f.home.containers().resolve(done.result().id())).doesNotExist();
            assertThatThrownBy(() -> f.runtime.remove(List.of("exited-one"), false))
                    .hasMessage("no such container: exited-one");

            assertThat(f.runtime.remove(List.of("running-one"), true)).containsExactly("running-one");
            assertThat(running.await().exitCode()).isEqualTo(137);
            assertNoCgroup(running.id());
            assertThat(f.home.containers().resolve(running.id())).doesNotExist();
        } finally {
            if (f.home.containers().resolve(running.id()).toFile().exists()) {
                f.runtime.remove(List.of(running.id()), true);
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(300) // a guard against a hang, not a speed check
    void aKilledBerthTakesItsContainerAlongAndTheNextBerthCleansUp() throws Exception {
        for (boolean remove : List.of(true, false)) {
            Process berth = new ProcessBuilder(Jvm.command(RunMain.class, f.home.root().toString(), Fixture.BUSYBOX,
                    Boolean.toString(remove), "sleep", "600")).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String[] started;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(berth.getInputStream(), StandardCharsets.UTF_8))) {
                String line = r.readLine();
                assertThat(line).as("the other berth started its container").startsWith("started ");
                started = line.split(" ");
            }
            String id = started[1];
            long pid = Long.parseLong(started[2]);
            assertThat(ProcessHandle.of(pid)).isPresent();
            berth.destroyForcibly(); // SIGKILL: no shutdown hook, nothing of berth's own cleanup runs
            assertThat(berth.waitFor(60, TimeUnit.SECONDS)).isTrue();
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(60, TimeUnit.SECONDS).join());
            assertThat(ProcessHandle.of(pid)).as("the container died with its berth").isEmpty();

            List<ContainerInfo> after = f.runtime.list(true); // the next berth: recovers first
            assertNoCgroup(id);
            assertThat(mountsUnder(f.home.root())).isEmpty();
            if (remove) {
                assertThat(after).noneMatch(c -> c.id().equals(id));
                assertThat(f.home.containers().resolve(id)).doesNotExist();
            } else {
                ContainerInfo c = after.stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
                assertThat(c.status()).isEqualTo(ContainerInfo.Status.DEAD);
                assertThat(c.exitCode()).isEmpty();
                f.runtime.remove(List.of(id), false);
            }
        }
    }

    @Test
    @Tag(RootlessSuite.ROOT_ONLY) // a rootless container's mounts are in its own namespace: none is on the host
    void mountsLeftUnderContainersAreDetachedByTheNextBerth() throws IOException {
        Path stale = f.home.containers().resolve("0".repeat(64));
        Files.createDirectories(stale.resolve("rootfs"));
        Files.createFile(stale.resolve(ContainerStore.RUNNING));
        Tools.run("mount", "-t", "tmpfs", "tmpfs", stale.resolve("rootfs").toString()).ok();
        Tools.run("mount", "-t", "tmpfs", "tmpfs", stale.resolve("rootfs").toString()).ok(); // stacked twice
        assertThat(mountsUnder(stale)).hasSize(2);
        f.runtime.recover();
        assertThat(mountsUnder(f.home.containers())).isEmpty();
        assertThat(stale).doesNotExist();
    }

    @Test
    void cgroupsWhoseContainerIsGoneAreRemovedByTheNextBerth() throws IOException {
        String id = "f".repeat(64);
        ContainerCgroup orphan = f.runtime.cgroups().create(id, Resources.NONE); // as if berth died here
        assertThat(orphan.dirs()).allSatisfy(d -> assertThat(d).isDirectory());
        f.runtime.recover();
        assertThat(orphan.dirs()).allSatisfy(d -> assertThat(d).doesNotExist());
        assertThat(Cgroups.group(f.home.root())).matches("berth-[0-9a-f]{8}")
                .isNotEqualTo(Cgroups.group(Path.of("/var/lib/berth")));
    }

    @Test
    void twoHundredRunsLeaveNothingBehind() throws IOException {
        long t0 = System.nanoTime();
        for (int i = 0; i < 200; i++) {
            RunResult r = f.runtime.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("true").build());
            assertThat(r.exitCode()).isZero();
        }
        System.out.printf("200 runs of busybox true: %.1f ms each%n", (System.nanoTime() - t0) / 200e6);
        List<String> left = new ArrayList<>();
        try (var s = Files.list(f.home.containers())) {
            s.filter(p -> !p.getFileName().toString().equals(".names")).forEach(p -> left.add(p.toString()));
        }
        assertThat(left).as("container directories (others tests' may run, none here)")
                .allSatisfy(p -> assertThat(ContainerStore.isRunning(Path.of(p))).isTrue());
        assertThat(mountsUnder(f.home.root())).isEmpty();
        assertThat(cgroupChildren()).as("berth cgroups").allSatisfy(c -> assertThat(left).anyMatch(l -> l.endsWith(c)));
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().command().orElse("").contains("berth-helper"))
                .filter(p -> p.parent().map(pp -> pp.pid() == ProcessHandle.current().pid()).orElse(false))
                .toList()).as("helpers of this JVM").isEmpty();
    }

    static List<String> mountsUnder(Path dir) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4])
                .filter(p -> Path.of(p).startsWith(dir)).toList();
    }

    /** Every container cgroup berth has on this machine (the children of its parent cgroups). */
    static List<String> cgroupChildren() throws IOException {
        List<String> out = new ArrayList<>();
        for (Path p : f.runtime.cgroups().parents()) {
            if (Files.isDirectory(p)) {
                try (var s = Files.list(p)) {
                    s.filter(Files::isDirectory).forEach(c -> out.add(c.getFileName().toString()));
                }
            }
        }
        return out;
    }

    static void assertNoCgroup(String id) {
        try {
            assertThat(cgroupChildren()).doesNotContain(id);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
