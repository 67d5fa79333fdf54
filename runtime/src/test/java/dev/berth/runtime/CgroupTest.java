package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.runtime.internal.Linux;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * --memory, --cpus and --pids-limit on this machine's cgroups (v1 or v2, as detected: this kind of machine
 * is hybrid, with every controller on v1), an OOM kill reported as such, the cgroup namespace, and the
 * cgroups removed when the container exits.
 */
class CgroupTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void limitsAreWrittenToTheContainersCgroupsWhichAreRemovedAfterItExits() throws IOException {
        Resources limits = Resources.NONE.withMemory(OptionalLong.of(Resources.parseMemory("64m")))
                .withCpuQuota(OptionalLong.of(Resources.parseCpus("0.5"))).withPidsLimit(OptionalLong.of(50));
        Path out = Files.createTempFile(f.scratch, "cg", ".txt");
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().remove(true).init(true)
                .resources(limits).stdout(Stdio.file(out))
                .command("sh", "-c", "cat /proc/self/cgroup; echo ready; exec sleep 600").build());
        List<Path> dirs = c.cgroup.dirs();
        assertThat(dirs).isNotEmpty().allSatisfy(d -> assertThat(d).isDirectory());
        if (f.runtime.cgroups() instanceof Cgroups.V2) {
            Path d = dirs.getFirst();
            assertThat(read(d.resolve("memory.max"))).isEqualTo(Long.toString(64L << 20));
            assertThat(read(d.resolve("cpu.max"))).isEqualTo("50000 100000");
            assertThat(read(d.resolve("pids.max"))).isEqualTo("50");
        } else {
            Path memory = dirs.stream().filter(d -> Files.exists(d.resolve("memory.limit_in_bytes"))).findFirst().orElseThrow();
            Path cpu = dirs.stream().filter(d -> Files.exists(d.resolve("cpu.cfs_quota_us"))).findFirst().orElseThrow();
            Path pids = dirs.stream().filter(d -> Files.exists(d.resolve("pids.max"))).findFirst().orElseThrow();
            assertThat(read(memory.resolve("memory.limit_in_bytes"))).isEqualTo(Long.toString(64L << 20));
            assertThat(read(cpu.resolve("cpu.cfs_quota_us"))).isEqualTo("50000");
            assertThat(read(cpu.resolve("cpu.cfs_period_us"))).isEqualTo("100000");
            assertThat(read(pids.resolve("pids.max"))).isEqualTo("50");
        }
        waitFor(out, "ready");
        assertThat(c.cgroup.pids()).as("the container's processes are in its cgroups").hasSize(2);
        assertThat(c.signal(Linux.SIGTERM)).isTrue();
        RunResult r = c.await();
        assertThat(r.exitCode()).isEqualTo(143);
        assertThat(dirs).allSatisfy(d -> assertThat(d).doesNotExist());
        // In its own cgroup namespace, the container's cgroups are its roots.
        assertThat(read(out).lines().filter(l -> l.contains(":")).toList()).allSatisfy(l -> assertThat(l).endsWith(":/"));
    }

    static void waitFor(Path file, String text) {
        for (int i = 0; i < 3000; i++) { // 30 s at most: the machine may be busy
            if (read(file).contains(text)) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new AssertionError(file + " never contained " + text + ": " + read(file));
    }

    @Test
    void aContainerOverItsMemoryLimitIsOomKilledAndReportedAsSuch() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .resources(Resources.NONE.withMemory(OptionalLong.of(Resources.parseMemory("32m"))))
                .command("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"));
        assertThat(r.code()).isEqualTo(137);
        assertThat(r.result().signal()).hasValue(9);
        assertThat(r.result().oomKilled()).isTrue();
        Fixture.Run fits = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .resources(Resources.NONE.withMemory(OptionalLong.of(Resources.parseMemory("128m"))))
                .command("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"));
        assertThat(fits.code()).isZero();
        assertThat(fits.result().oomKilled()).isFalse();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aForkBombIsHeldAtThePidsLimitAndEndsWithPid1() {
        // two loops fork as fast as they can, for ever, until the limit refuses them; PID 1 counts the
        // processes, and when it exits the kernel kills everything left in the container's PID namespace
        // (at the limit PID 1 cannot fork either: its sleep and the one launcher of both loops start first,
        // and it counts with builtins only; were PID 1 to fork the second loop itself, a first loop that
        // had already filled the limit would make that fork fail, and a failed fork ends a busybox sh)
        String loop = "(while :; do sleep 30 & done) & ";
        String script = "sleep 3 & s=$!; (" + loop + loop + ") 2>/dev/null & "
                + "wait $s; set -- /proc/[0-9]*; echo procs=$#; exit 0";
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .resources(Resources.NONE.withPidsLimit(OptionalLong.of(50))).command("sh", "-c", script));
        assertThat(r.code()).as(r.err()).isZero();
        int procs = Integer.parseInt(r.out().strip().substring("procs=".length()));
        assertThat(procs).as("processes seen at the height of the bomb").isBetween(40, 50);
    }

    @Test
    void thePidsLimitStopsForks() {
        String script = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait; echo all-ran";
        Fixture.Run limited = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .resources(Resources.NONE.withPidsLimit(OptionalLong.of(5))).command("sh", "-c", script));
        assertThat(limited.err()).contains("can't fork");
        assertThat(limited.out()).doesNotContain("all-ran");
        assertThat(limited.code()).as("sh gives up when it cannot fork").isNotZero();
        Fixture.Run unlimited = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("sh", "-c", script));
        assertThat(unlimited.out()).isEqualTo("all-ran\n");
    }

    @Test
    @Tag(RootlessSuite.ROOT_ONLY) // it makes its cgroups at the top of the unified hierarchy
    void cgroupV2WorksOnTheUnifiedHierarchyAndSaysWhichControllerIsMissing() throws IOException {
        Path unified = f.runtime.cgroups() instanceof Cgroups.V2 v2 ? v2.root() : Path.of("/sys/fs/cgroup/unified");
        assertThat(unified.resolve("cgroup.controllers")).as("a cgroup2 mount").exists();
        ContainerRuntime v2 = f.runtime.withCgroups(new Cgroups.V2(unified, "berth-test"));
        Path out = Files.createTempFile(f.scratch, "v2", ".txt");
        RunResult r = v2.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).stdout(Stdio.file(out))
                .command("cat", "/proc/self/cgroup").build());
        assertThat(r.exitCode()).isZero();
        assertThat(read(out)).contains("0::/");
        assertThat(unified.resolve("berth-test").resolve(r.id())).doesNotExist();
        String controllers = read(unified.resolve("cgroup.controllers"));
        if (!controllers.contains("memory")) {
            assertThatThrownBy(() -> v2.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                    .resources(Resources.NONE.withMemory(OptionalLong.of(64L << 20))).command("true").build()))
                    .isInstanceOf(ContainerException.class)
                    .hasMessage("--memory needs the memory cgroup controller, which this machine does not offer");
        }
    }

    @Test
    void v2LimitsGoToTheFilesTheKernelReads() throws IOException {
        // A directory shaped like cgroupfs: what a v2-only machine would get, checked file by file.
        Path root = Files.createTempDirectory(f.scratch, "fake-cgroup2");
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "");
        Files.createDirectories(root.resolve("berth"));
        Files.writeString(root.resolve("berth/cgroup.subtree_control"), "memory\n");
        ContainerCgroup cg = new Cgroups.V2(root, "berth").create("abc", new Resources(OptionalLong.of(1L << 30),
                OptionalLong.of(150_000), OptionalLong.of(100)));
        assertThat(cg.dirs()).containsExactly(root.resolve("berth/abc"));
        assertThat(cg.procsFiles()).containsExactly(root.resolve("berth/abc/cgroup.procs"));
        assertThat(read(root.resolve("cgroup.subtree_control"))).isEqualTo("+cpu +memory +pids");
        assertThat(read(root.resolve("berth/cgroup.subtree_control"))).isEqualTo("+cpu +pids");
        assertThat(read(root.resolve("berth/abc/memory.max"))).isEqualTo("1073741824");
        assertThat(read(root.resolve("berth/abc/cpu.max"))).isEqualTo("150000 100000");
        assertThat(read(root.resolve("berth/abc/pids.max"))).isEqualTo("100");
        Files.writeString(root.resolve("berth/abc/memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        assertThat(cg.oomKills()).isEqualTo(1);
    }

    @Test
    @Tag(RootlessSuite.ROOT_ONLY) // it gives the fake tree to another user
    void aUsersDelegatedV2SubtreeIsTheHighestCgroupItOwns() throws IOException {
        // A directory shaped like a systemd host's cgroup2: user@4242.service is delegated to uid 4242.
        Path root = Files.createTempDirectory(f.scratch, "fake-delegation");
        Files.writeString(root.resolve("cgroup.controllers"), "cpu memory pids\n");
        Path slice = Files.createDirectories(root.resolve("user.slice/user-4242.slice"));
        Path service = slice.resolve("user@4242.service");
        Path scope = Files.createDirectories(service.resolve("app.slice/run-1.scope"));
        Path session = Files.createDirectories(slice.resolve("session-3.scope"));
        for (Path d : List.of(slice, service, service.resolve("app.slice"), scope, session)) {
            Files.writeString(d.resolve("cgroup.procs"), "");
        }
        Tools.run("chown", "-R", "4242", service.toString()).ok();
        Cgroups inService = CgroupDelegation.v2(root, "/user.slice/user-4242.slice/user@4242.service/app.slice/run-1.scope",
                4242, "berth-x");
        assertThat(inService).isEqualTo(new Cgroups.V2(service, "berth-x"));
        assertThat(inService.parents()).containsExactly(service.resolve("berth-x"));
        Cgroups inSession = CgroupDelegation.v2(root, "/user.slice/user-4242.slice/session-3.scope", 4242, "berth-x");
        assertThat(inSession).isInstanceOf(Cgroups.None.class);
        assertThat(((Cgroups.None) inSession).reason()).isEqualTo("--memory, --cpus and --pids-limit need a cgroup "
                + "this user may write, and berth runs in cgroup /user.slice/user-4242.slice/session-3.scope, which is "
                + "not delegated to this user (systemd delegates user@UID.service to a user who is logged in: run "
                + "berth in it, e.g. with systemd-run --user --scope): run without them, or as root");
        assertThatThrownBy(() -> inSession.create("abc", Resources.NONE.withPidsLimit(OptionalLong.of(5))))
                .isInstanceOf(ContainerException.class).hasMessageStartingWith("--memory, --cpus and --pids-limit");
        assertThat(inSession.create("abc", Resources.NONE)).isEqualTo(ContainerCgroup.NONE);
        Files.writeString(service.resolve("cgroup.controllers"), "pids\n");
        assertThatThrownBy(() -> CgroupDelegation.requireControllers(inService,
                Resources.NONE.withMemory(OptionalLong.of(64L << 20))))
                .hasMessage("--memory needs the memory cgroup controller, which is not delegated to this user ("
                        + service + " has pids)");
    }
}
