package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.ContainerSpec.Namespace;
import dev.berth.runtime.internal.HelperProtocol;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bytes berth-helper reads on fd 3 (the helper's parser, spec.c, is exercised by every run test). */
class HelperProtocolTest {
    static ContainerSpec spec(List<Mount> mounts, List<String> env) {
        ContainerSpec.ProcessSpec p = new ContainerSpec.ProcessSpec(List.of("sh", "-c", "echo hi"), env, "/work",
                1000, 1000, List.of(1000, 2000), EnumSet.of(Capability.CAP_CHOWN, Capability.CAP_KILL), true,
                Defaults.RLIMITS, false, false, "/bin", java.util.Optional.empty());
        return new ContainerSpec("id1", "host1", p, new ContainerSpec.Root.Overlay(List.of(Path.of("/s/top"),
                Path.of("/s/base")), Path.of("/c/upper"), Path.of("/c/work"), Path.of("/c/rootfs"), OverlayMode.FD_PATHS,
                true), mounts, Defaults.DEVICES.subList(0, 1), List.of(new ContainerSpec.Symlink("pts/ptmx", "/dev/ptmx")),
                List.of("/proc/kcore"), List.of("/proc/sys"), EnumSet.of(Namespace.MOUNT, Namespace.PID, Namespace.NETWORK),
                Resources.NONE, List.of(Path.of("/sys/fs/cgroup/pids/x/cgroup.procs")), true, false, java.util.Optional.empty());
    }

    /** Splits the payload back into strings. */
    static List<String> strings(byte[] wire) {
        assertThat(new String(wire, 0, 7, StandardCharsets.US_ASCII)).isEqualTo("BERTH1\n");
        int len = ByteBuffer.wrap(wire, 7, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(len).isEqualTo(wire.length - 11);
        List<String> out = new ArrayList<>();
        int start = 11;
        for (int i = 11; i < wire.length; i++) {
            if (wire[i] == 0) {
                out.add(new String(wire, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        assertThat(start).as("every string NUL-terminated").isEqualTo(wire.length);
        return out;
    }

    @Test
    void recordsAreKeysWithTheirValuesInOrder() {
        List<Mount> mounts = List.of(
                new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                new Mount("/data", "bind", "/host/data", List.of("rbind", "rprivate", "ro")),
                new Mount("/rw", "none", "/host/rw", List.of("bind", "rw", "nodev")));
        String joined = String.join("|", strings(HelperProtocol.encode(spec(mounts, List.of("A=1", "B=")))));
        assertThat(joined).startsWith("id|id1|rootfs|/c/rootfs|lower|/s/top|lower|/s/base|upper|/c/upper|work|/c/work|"
                + "overlay|fdpaths|");
        assertThat(joined).contains("|flag|loopback|", "|hostname|host1|",
                "|cgroup|/sys/fs/cgroup/pids/x/cgroup.procs|",
                "|mount|proc|proc|/proc|14||",                      // nosuid|nodev|noexec
                "|mount|tmpfs|tmpfs|/dev|16777218|mode=755,size=65536k|", // nosuid|strictatime, the rest is data
                "|mount|bind|/host/data|/data|16385||",             // MS_REC|MS_RDONLY (bind itself implied)
                "|mount|bind|/host/rw|/rw|4||",
                "|device|/dev/null|c|1|3|438|0|0|", "|symlink|pts/ptmx|/dev/ptmx|", "|masked|/proc/kcore|",
                "|readonly|/proc/sys|", "|flag|readonly_root|", "|flag|init|", "|flag|no_new_privs|",
                "|uid|1000|gid|1000|group|1000|group|2000|cap|0|cap|5|rlimit|7|1024|1024|cwd|/work|path|/bin|",
                "|env|A=1|env|B=|arg|sh|arg|-c|arg|echo hi|end");
        assertThat(joined).endsWith("|end").doesNotContain("|ns|uts|", "|flag|tty|");
        assertThat(joined).contains("|ns|mount|", "|ns|pid|", "|ns|net|");
    }

    @Test
    void aNulByteCannotHideARecord() {
        assertThatThrownBy(() -> HelperProtocol.encode(spec(List.of(), List.of("A=1\0arg"))))
                .isInstanceOf(ContainerException.class).hasMessageContaining("NUL byte");
    }
}
