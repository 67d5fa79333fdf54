package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --network container:NAME}: a container in another one's network namespace, with its host name and
 * /etc files; what conflicts with that is refused, as docker refuses it. Rootless too (RootlessParityTest),
 * where the user namespace is shared with it.
 */
class SharedNetworkTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static final String SHOW = "readlink /proc/self/ns/net; cat /etc/hostname; grep -c . /etc/hosts";

    @Test
    void aContainerJoinsAnothersNetworkNamespace() throws Exception {
        RunningContainer owner = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .command("sh", "-c", "echo 10.1.2.3 extra >> /etc/hosts; while true; do sleep 0.1; done").build());
        java.nio.file.Path hosts = f.home.root().resolve("containers").resolve(owner.id()).resolve("hosts");
        for (int i = 0; i < 300 && !java.nio.file.Files.readString(hosts).contains("extra"); i++) {
            Thread.sleep(10); // its /etc/hosts changed: the joining one gets it as it is then
        }
        Fixture.Run joined = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .network(new NetworkMode.Container(owner.name())).command("sh", "-c", SHOW + "; grep extra /etc/hosts"));
        assertThat(joined.code()).as(joined.err()).isZero();
        Fixture.Run own = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).command("sh", "-c", SHOW));
        String[] j = joined.out().split("\n");
        String[] o = own.out().split("\n");
        assertThat(j[0]).startsWith("net:[").isNotEqualTo(o[0]);
        assertThat(j[1]).as("its host name").isEqualTo(owner.id().substring(0, 12));
        assertThat(joined.out()).contains("10.1.2.3 extra");

        // the same namespace as the owner's PID 1, seen from the host
        long pid = f.runtime.list(false).stream().filter(i -> i.id().equals(owner.id())).findFirst().orElseThrow()
                .pid().orElseThrow();
        String ownerNs = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/" + pid + "/ns/net")).toString();
        assertThat(j[0]).isEqualTo(ownerNs);
        f.runtime.remove(List.of(owner.name()), true);
    }

    @Test
    void whatIsTheOtherContainersIsRefused() {
        RunningContainer owner = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .command("sleep", "1000").build());
        NetworkMode shared = new NetworkMode.Container(owner.name());
        assertThatThrownBy(() -> f.runtime.run(Fixture.BUSYBOX, RunOptions.builder().network(shared).hostname("h")
                .command("true").build())).hasMessageContaining("--hostname conflicts with --network container:");
        assertThatThrownBy(() -> f.runtime.run(Fixture.BUSYBOX, RunOptions.builder().network(shared)
                .publish(PortMapping.parse("8080:80")).command("true").build()))
                .hasMessageContaining("--publish conflicts");
        assertThatThrownBy(() -> f.runtime.run(Fixture.BUSYBOX, RunOptions.builder()
                .network(new NetworkMode.Container("no-such-one")).command("true").build()))
                .hasMessageContaining("--network container:no-such-one: no such container");
        f.runtime.remove(List.of(owner.name()), true);
        RunningContainer ended = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().command("true").build());
        ended.await();
        assertThatThrownBy(() -> f.runtime.run(Fixture.BUSYBOX, RunOptions.builder()
                .network(new NetworkMode.Container(ended.name())).command("true").build()))
                .hasMessageContaining("the container is not running");
        f.runtime.remove(List.of(ended.name()), false);
    }

    @Test
    void parsing() {
        assertThat(NetworkMode.parse("container:web")).isEqualTo(new NetworkMode.Container("web"));
        assertThat(NetworkMode.parse("container:web").text()).isEqualTo("container:web");
        assertThatThrownBy(() -> NetworkMode.parse("container:")).hasMessageContaining("container:NAME");
    }
}
