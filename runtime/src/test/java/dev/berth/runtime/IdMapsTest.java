package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.runtime.IdMaps.Range;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The maps of a rootless namespace (host ids to the container's and back, keep-id's as podman makes them), and its kernel. */
class IdMapsTest {
    private static IdMaps user(long uid, long gid) {
        return new IdMaps(List.of(new Range(0, uid, 1), new Range(1, 100000, 65536)),
                List.of(new Range(0, gid, 1), new Range(1, 200000, 65536)),
                Optional.of(List.of(Path.of("/usr/bin/newuidmap"), Path.of("/usr/bin/newgidmap"))));
    }

    @Test
    void keepIdPutsTheUsersIdAtItselfAndTheSubIdsAroundIt() {
        IdMaps k = user(1000, 100).keepId();
        assertThat(k.uid()).containsExactly(new Range(0, 100000, 1000), new Range(1000, 1000, 1),
                new Range(1001, 101000, 64536));
        assertThat(k.gid()).containsExactly(new Range(0, 200000, 100), new Range(100, 100, 1),
                new Range(101, 200100, 65436));
        assertThat(k.containerUid(1000)).isEqualTo(1000);
        assertThat(k.containerUid(100000)).as("root is the first sub-id").isZero();
        assertThat(k.containerUid(101000)).isEqualTo(1001);
        assertThat(k.hostUid(999)).hasValue(100999L);
        assertThat(k.containerUid(5)).as("unmapped").isEqualTo(IdMaps.OVERFLOW_ID);
        assertThat(k.tools()).isEqualTo(user(1000, 100).tools());
    }

    @Test
    void aUidPastTheRangeKeepsEveryId() {
        IdMaps k = user(70000, 70000).keepId();
        assertThat(k.uid()).containsExactly(new Range(0, 100000, 65536), new Range(70000, 70000, 1));
    }

    @Test
    void withOneIdThereIsNoKeepId() {
        IdMaps single = new IdMaps(List.of(new Range(0, 1000, 1)), List.of(new Range(0, 100, 1)), Optional.empty());
        assertThatThrownBy(single::keepId).isInstanceOf(ContainerException.class)
                .hasMessageStartingWith("--userns=keep-id needs a sub-id range in /etc/subuid and /etc/subgid");
        assertThat(single.containerUid(1000)).isZero();
        assertThat(single.containerGid(101)).isEqualTo(IdMaps.OVERFLOW_ID);
    }

    @Test
    void rootlessNeedsLinux511() {
        assertThat(Rootless.kernelAtLeast("6.18.44-fc", 5, 11)).isTrue();
        assertThat(Rootless.kernelAtLeast("5.11.0", 5, 11)).isTrue();
        assertThat(Rootless.kernelAtLeast("5.10.209-1-amd64", 5, 11)).isFalse();
        assertThat(Rootless.kernelAtLeast("4.19.0", 5, 11)).isFalse();
        assertThat(Rootless.kernelAtLeast("unknown", 5, 11)).isTrue();
    }
}
