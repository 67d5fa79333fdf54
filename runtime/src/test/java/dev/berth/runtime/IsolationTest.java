package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a process sees inside the container: its own namespaces, mounts, devices, limits and privileges. */
class IsolationTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    @Test
    void psShowsOnlyTheContainersProcessesAndTheCommandIsPid1() {
        String out = f.sh("echo pid=$$; ps -o pid,comm; true"); // "; true": sh would exec a last ps
        assertThat(out.lines().findFirst()).hasValue("pid=1");
        List<String> rows = out.lines().skip(2).map(String::trim).toList();
        assertThat(rows).as("only sh (PID 1) and ps itself").hasSize(2);
        assertThat(rows.getFirst()).isEqualTo("1 sh");
        assertThat(rows.get(1)).endsWith(" ps");
    }

    @Test
    void withInitTheHelperIsPid1() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).init(true)
                .command("sh", "-c", "echo pid=$$; tr '\\0' ' ' < /proc/1/cmdline; echo"));
        assertThat(r.out()).startsWith("pid=2\n").contains("berth-helper");
    }

    @Test
    void everyNamespaceIsTheContainersOwn() throws IOException {
        String out = f.sh("for n in cgroup ipc mnt net pid uts; do readlink /proc/self/ns/$n; done");
        for (String line : out.lines().toList()) {
            String ns = line.substring(0, line.indexOf(':'));
            String host = Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)).toString();
            assertThat(line).as(ns).isNotEqualTo(host);
        }
        assertThat(out.lines()).hasSize(6);
    }

    @Test
    void hostMountsAndTheOldRootAreInvisible() {
        String out = f.sh("cut -d' ' -f5 /proc/self/mountinfo; echo ---; ls /");
        String[] parts = out.split("---\n");
        Set<String> points = parts[0].lines().collect(Collectors.toSet());
        Set<String> allowed = new java.util.HashSet<>(Set.of("/", "/proc", "/dev", "/dev/pts", "/dev/shm",
                "/dev/mqueue", "/sys", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"));
        if (Fixture.rootless()) { // no device can be made in a user namespace: the host's are bound
            Defaults.DEVICES.forEach(d -> allowed.add(d.path()));
        }
        Set<String> readonlyAndMasked = Set.copyOf(concat(Defaults.MASKED_PATHS, Defaults.READONLY_PATHS));
        for (String p : points) {
            assertThat(allowed.contains(p) || readonlyAndMasked.contains(p)).as("mount point %s", p).isTrue();
        }
        assertThat(parts[1].lines().toList()).as("the image's root, nothing of the host's")
                .containsExactlyInAnyOrder("bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr", "var");
    }

    @Test
    void procSysIsReadOnlyAndSysToo() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("sh", "-c",
                "echo x > /proc/sys/kernel/domainname && echo WROTE; touch /sys/x && echo TOUCHED; "
                        + "echo 1 > /proc/sysrq-trigger && echo SYSRQ; cat /proc/sys/kernel/domainname"));
        assertThat(r.out()).doesNotContain("WROTE", "TOUCHED", "SYSRQ");
        assertThat(r.err()).contains("Read-only file system");
    }

    @Test
    void maskedPathsShowNothing() {
        StringBuilder script = new StringBuilder();
        for (String p : Defaults.MASKED_PATHS) {
            Path host = Path.of(p);
            if (Files.isRegularFile(host)) {
                script.append("echo ").append(p).append(" $(cat ").append(p).append(" | wc -c);");
            } else if (Files.isDirectory(host)) {
                script.append("echo ").append(p).append(" $(ls -A ").append(p).append(" | wc -l);");
            }
        }
        script.append("[ -e /proc/kcore ] && echo kcore $(cat /proc/kcore | wc -c) || echo kcore absent");
        String out = f.sh(script.toString());
        List<String> lines = out.lines().toList();
        assertThat(lines).as("the masked paths this host has, and /proc/kcore").hasSizeGreaterThanOrEqualTo(4);
        for (String line : lines) {
            if (line.startsWith("kcore")) {
                assertThat(line).isEqualTo(Files.exists(Path.of("/proc/kcore")) ? "kcore 0" : "kcore absent");
            } else {
                assertThat(line).as("masked: nothing to read").endsWith(" 0");
            }
        }
    }

    @Test
    void capabilitiesAreDockersDefaultAndNoNewPrivsIsSet() {
        String mask = String.format("%016x", Capability.mask(Capability.DOCKER_DEFAULT));
        assertThat(mask).isEqualTo("00000000a80425fb");
        String root = f.sh("grep -E '^(Cap|NoNewPrivs)' /proc/self/status");
        assertThat(root.lines().toList()).containsExactly("CapInh:\t0000000000000000", "CapPrm:\t" + mask,
                "CapEff:\t" + mask, "CapBnd:\t" + mask, "CapAmb:\t0000000000000000", "NoNewPrivs:\t1");
        String app = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).user("app")
                .command("grep", "-E", "^(CapEff|CapBnd)", "/proc/self/status")).out();
        assertThat(app.lines().toList()).as("a non-root user keeps only the bounding set")
                .containsExactly("CapEff:\t0000000000000000", "CapBnd:\t" + mask);
    }

    @Test
    void theHostnameIsTheContainersOwn() throws IOException {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).hostname("box1")
                .command("sh", "-c", "hostname; cat /etc/hostname; grep box1 /etc/hosts"));
        assertThat(r.out()).isEqualTo("box1\nbox1\n127.0.1.1\tbox1\n");
        assertThat(Files.readString(Path.of("/proc/sys/kernel/hostname")).trim()).isNotEqualTo("box1");
        Fixture.Run byDefault = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("hostname"));
        assertThat(byDefault.out().trim()).isEqualTo(byDefault.result().id().substring(0, 12));
    }

    @Test
    void theNetworkIsLoopbackOnlyAndUpUnlessHost() throws IOException {
        String none = f.sh("ls /sys/class/net; cat /sys/class/net/lo/flags");
        assertThat(none).isEqualTo("lo\n0x9\n"); // IFF_UP | IFF_LOOPBACK
        String host = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).network(NetworkMode.HOST)
                .command("ls", "/sys/class/net")).out();
        try (var entries = Files.list(Path.of("/sys/class/net"))) {
            assertThat(host.lines().toList()).containsExactlyInAnyOrderElementsOf(
                    entries.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void devHasTheDefaultDevicesAndLinks() {
        String out = f.sh("ls -A /dev; stat -c '%n %t:%T %a' /dev/null /dev/zero /dev/full /dev/random "
                + "/dev/urandom /dev/tty; for l in fd stdin ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo ok");
        List<String> lines = out.lines().toList();
        assertThat(lines.subList(0, 14)).containsExactly("fd", "full", "mqueue", "null", "ptmx", "pts",
                "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero");
        assertThat(lines.subList(14, lines.size())).containsExactly("/dev/null 1:3 666", "/dev/zero 1:5 666",
                "/dev/full 1:7 666", "/dev/random 1:8 666", "/dev/urandom 1:9 666", "/dev/tty 5:0 666",
                "/proc/self/fd", "/proc/self/fd/0", "pts/ptmx", "ok");
    }

    @Test
    void openFilesAreLimitedTo1024() {
        assertThat(f.sh("ulimit -n; ulimit -Hn")).isEqualTo("1024\n1024\n");
    }

    @Test
    void aReadOnlyRootRefusesWritesButNotToDevShm() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).readOnly(true).workdir("/made")
                .command("sh", "-c", "touch /tmp/x && echo WROTE; touch /dev/shm/y && echo shm-ok; pwd"));
        assertThat(r.out()).isEqualTo("shm-ok\n/made\n");
        assertThat(r.err()).contains("Read-only file system");
    }

    @Test
    void pivotRootFallbackWorksToo() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).noPivot(true)
                .command("sh", "-c", "ls /; echo pid=$$"));
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("bin\n", "pid=1\n").doesNotContain("work\n");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
