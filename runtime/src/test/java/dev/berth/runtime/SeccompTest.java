package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seccomp filter: berth's default refuses what docker's default profile refuses (new user namespaces
 * above all), {@code unconfined} refuses nothing, a profile file is applied rule by rule (every comparison
 * of docker's format, on 64-bit arguments), exec gets the container's filter, and a bad profile is a
 * one-line error. A static probe (seccomp-probe.c) makes the calls and prints their errno.
 */
class SeccompTest {
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;
    static Fixture f;
    static Path probe;

    @BeforeAll
    static void setUp() throws IOException {
        f = Fixture.get();
        Path dir = Files.createDirectories(f.scratch.resolve("seccomp"));
        Path source = dir.resolve("seccomp-probe.c");
        try (var in = SeccompTest.class.getResourceAsStream("/seccomp-probe.c")) {
            Files.copy(java.util.Objects.requireNonNull(in, "seccomp-probe.c on the class path"), source,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        probe = dir.resolve("seccomp-probe");
        Tools.run(Tools.require("gcc").toString(), "-static", "-O2", "-o", probe.toString(), source.toString()).ok();
    }

    /** Each probe in a process of its own (a user namespace made by one changes what the next may do). */
    private static Map<String, String> probes(RunOptions.Builder options, String... names) {
        String script = java.util.Arrays.stream(names).map(n -> "/probe/seccomp-probe " + n)
                .collect(Collectors.joining("; "));
        Fixture.Run r = f.run(Fixture.BUSYBOX, options.remove(true)
                .volume(new Volume(probe.getParent(), "/probe", true)).command("sh", "-c", script));
        assertThat(r.code()).as(r.err()).isZero();
        return r.out().lines().map(l -> l.split("=", 2)).collect(Collectors.toMap(p -> p[0], p -> p[1]));
    }

    private static String errno(int n) {
        return "errno " + n;
    }

    @Test
    void theDefaultRefusesUserNamespacesKeyringsAndIoUring() {
        Map<String, String> out = probes(RunOptions.builder(), "unshare-user", "clone-user", "clone3", "add-key",
                "keyctl", "io-uring", "personality:8", "personality:6", "personality:ffffffff", "getppid:0:0");
        assertThat(out).containsEntry("unshare-user", errno(EPERM)).containsEntry("clone-user", errno(EPERM))
                .containsEntry("clone3", errno(ENOSYS)).containsEntry("add-key", errno(EPERM))
                .containsEntry("keyctl", errno(EPERM)).containsEntry("io-uring", errno(EPERM))
                .containsEntry("personality:6", errno(EPERM))
                .containsEntry("personality:8", "0").containsEntry("personality:ffffffff", "0")
                .containsEntry("getppid:0:0", "0");
    }

    @Test
    void theShellsUnshareIsRefusedAsUnderDocker() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("unshare", "-U", "-r", "true"));
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    @Test
    void i386CallsAreFilteredByTheirOwnNumbers() {
        Map<String, String> out = probes(RunOptions.builder(), "i386-unshare");
        assertThat(out.get("i386-unshare")).isIn(errno(EPERM), errno(ENOSYS)); // ENOSYS: a kernel without IA32
    }

    @Test
    void unconfinedRefusesNothing() {
        Map<String, String> out = probes(RunOptions.builder().seccomp(Seccomp.UNCONFINED), "unshare-user",
                "clone-user", "keyctl", "personality:6");
        assertThat(out).containsEntry("unshare-user", "0").containsEntry("clone-user", "0")
                .containsEntry("keyctl", "0").containsEntry("personality:6", "0");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).seccomp(Seccomp.UNCONFINED)
                .command("unshare", "-U", "-r", "id", "-u"));
        assertThat(r.out().strip()).as(r.err()).isEqualTo("0");
    }

    @Test
    void aProfileFileIsAppliedWithEveryComparison() throws IOException {
        // getppid ignores its arguments, so each rule below is seen only by the filter
        String rule = """
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": %d,
                 "args": [{"index": %d, "value": %s, "valueTwo": %s, "op": "%s"}]}""";
        String json = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [" + String.join(",\n", List.of(
                rule.formatted(11, 0, "1311768464867721216", "0", "SCMP_CMP_EQ"),          // a0 == 0x1234567800000000
                rule.formatted(12, 1, "4294967296", "4294967296", "SCMP_CMP_MASKED_EQ"),   // bit 32 of a1 set
                rule.formatted(13, 0, "18446744073709551615", "0", "SCMP_CMP_GE"),         // a0 == 2^64-1
                rule.formatted(14, 0, "9223372036854775808", "0", "SCMP_CMP_GT"),          // a0 > 2^63
                rule.formatted(15, 0, "4096", "0", "SCMP_CMP_LE"),                         // a0 in 0x1000..0x1000
                rule.formatted(16, 1, "4294967297", "0", "SCMP_CMP_LT"))) + ",\n"          // a1 < 0x100000001
                + "{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}";
        Path file = f.scratch.resolve("seccomp/profile.json");
        Files.writeString(file, json);
        Map<String, String> out = probes(RunOptions.builder().seccomp(Seccomp.parse(file.toString())),
                "getppid:1234567800000000:200000000",  // EQ on both words
                "getppid:1234567800000001:200000000",  // EQ misses on the low word ... GT, GE miss; LE misses
                "getppid:5000:100000000",              // MASKED_EQ: bit 32 of a1
                "getppid:ffffffffffffffff:200000000",  // GE
                "getppid:8000000000000001:200000000",  // GT: above 2^63 in the low word only
                "getppid:8000000000000000:200000000",  // GT: equal, misses; LE misses
                "getppid:1000:200000000",              // LE
                "getppid:2000:100000000",              // LT on a1 (0x100000000 < 0x100000001), MASKED_EQ first
                "getppid:2000:ffffffff");              // LT on a1: below in the high word
        assertThat(out).containsEntry("getppid:1234567800000000:200000000", errno(11))
                .containsEntry("getppid:1234567800000001:200000000", "0")
                .containsEntry("getppid:5000:100000000", errno(12))
                .containsEntry("getppid:ffffffffffffffff:200000000", errno(13))
                .containsEntry("getppid:8000000000000001:200000000", errno(14))
                .containsEntry("getppid:8000000000000000:200000000", "0")
                .containsEntry("getppid:1000:200000000", errno(15))
                .containsEntry("getppid:2000:100000000", errno(12))
                .containsEntry("getppid:2000:ffffffff", errno(16));
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .seccomp(Seccomp.parse(file.toString())).command("mkdir", "/made"));
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("Permission denied");
    }

    @Test
    void execRunsUnderTheContainersFilter() throws IOException {
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .volume(new Volume(probe.getParent(), "/probe", true))
                .command("sh", "-c", "while true; do sleep 1; done").build());
        try {
            Path out = Files.createTempFile(f.scratch, "exec", ".out");
            ExecOptions o = new ExecOptions(List.of("/probe/seccomp-probe", "unshare-user"), java.util.Optional.empty(),
                    java.util.Optional.empty(), List.of(), false, false, false, Stdio.NULL, Stdio.file(out), Stdio.INHERIT);
            assertThat(f.runtime.exec(c.name(), o).await()).isZero();
            assertThat(Files.readString(out)).isEqualTo("unshare-user=" + errno(EPERM) + "\n");
        } finally {
            f.runtime.remove(List.of(c.name()), true);
        }
    }

    @Test
    void badProfilesAreOneLineErrorsNamingTheFileAndEntry() throws IOException {
        Path dir = f.scratch.resolve("seccomp");
        Map<String, String> cases = Map.of(
                "{", "not valid JSON",
                "[]", "not a JSON object",
                "{\"defaultAction\": \"SCMP_ACT_MAYBE\"}", "defaultAction: unknown action \"SCMP_ACT_MAYBE\"",
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", "
                        + "\"args\": [{\"index\": 7, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
                "syscalls[0]: args[0]: index must be 0 to 5",
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
                "syscalls[0]: action: SCMP_ACT_NOTIFY needs a seccomp agent",
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"Read\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
                "syscalls[0]: names must be syscall names");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path file = dir.resolve("bad" + i++ + ".json");
            Files.writeString(file, c.getKey());
            assertThatThrownBy(() -> Seccomp.parse(file.toString())).isInstanceOf(ContainerException.class)
                    .hasMessageStartingWith("seccomp profile " + file + ": ").hasMessageContaining(c.getValue())
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
        assertThatThrownBy(() -> Seccomp.parse(dir.resolve("missing.json").toString()))
                .hasMessage("seccomp profile " + dir.resolve("missing.json") + ": cannot read it: no such file");
    }

    @Test
    void theDefaultsRulesFollowCapabilities() {
        SeccompFilter plain = Seccomp.BUILTIN.filter(Capability.DOCKER_DEFAULT).orElseThrow();
        java.util.Set<Capability> admin = java.util.EnumSet.copyOf(Capability.DOCKER_DEFAULT);
        admin.add(Capability.CAP_SYS_ADMIN);
        SeccompFilter privileged = Seccomp.BUILTIN.filter(admin).orElseThrow();
        assertThat(plain.rules()).extracting(SeccompFilter.Rule::syscall).contains("unshare", "setns", "mount", "clone", "keyctl");
        assertThat(privileged.rules()).extracting(SeccompFilter.Rule::syscall).doesNotContain("unshare", "setns", "mount", "clone")
                .contains("keyctl");
        assertThat(Seccomp.UNCONFINED.filter(admin)).isEmpty();
    }
}
