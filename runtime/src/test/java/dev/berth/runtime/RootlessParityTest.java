package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.TestUser;
import dev.berth.layers.testing.Tools;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The runtime's isolation, overlay, process, lifecycle and cgroup suites again, as a real user who is not
 * root ({@code berth-rootless}, sub-ids 300000..365535, a cgroup subtree delegated to it): the same
 * assertions, in a JVM of that user's, with a rootless {@link Fixture}. Only tests tagged {@value RootlessSuite#ROOT_ONLY} are left out, each for a
 * reason given at its tag.
 */
class RootlessParityTest {
    static final List<Class<?>> SUITES = List.of(IsolationTest.class, RunTest.class, ProcessTest.class,
            OverlayTest.class, VolumeTest.class, LifecycleTest.class, CommitTest.class, BadInputTest.class,
            CgroupTest.class, DetachedTest.class, ExecTest.class,
            PortsTest.class, ContainerFilesTest.class, ContainerCopyTest.class,
            SharedNetworkTest.class, SeccompTest.class);

    @Test
    void theRootSuitesPassAsAUserWithSubIdsAndADelegatedCgroup() {
        TestUser user = TestUser.get("berth-rootless", 300000);
        Path base = user.dir("parity").resolve("fixture");
        Tools.Result r;
        try (DelegatedCgroups cgroups = DelegatedCgroups.forUser(user)) {
            r = user.java(cgroups.session, Map.of(), Map.of(Fixture.ROOTLESS_BASE, base.toString()),
                    RootlessSuite.class.getName(), suites().stream().map(Class::getName).toList());
        }
        System.out.print(r.stdout()); // one line per test, for the report
        assertThat(r.exitCode()).as("rootless suites:\n%s\n%s", r.stdout(), r.stderr()).isZero();
        assertThat(r.stdout()).doesNotContain("FAILED");
        if (suites().equals(SUITES)) {
            assertThat(r.stdout()).contains("ok IsolationTest.maskedPathsShowNothing()")
                    .contains("ok CgroupTest.aContainerOverItsMemoryLimitIsOomKilledAndReportedAsSuch()");
        }
    }

    /** The suites, or while working on one, those named by -Dberth.parity=ExecTest,PortsTest. */
    private static List<Class<?>> suites() {
        String only = System.getProperty("berth.parity", "");
        return only.isEmpty() ? SUITES : SUITES.stream()
                .filter(c -> List.of(only.split(",")).contains(c.getSimpleName())).toList();
    }
}
