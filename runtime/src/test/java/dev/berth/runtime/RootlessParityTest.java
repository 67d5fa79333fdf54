package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.TestUser;
import dev.berth.layers.testing.Tools;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The runtime's isolation, overlay, process and lifecycle suites again, as a real user who is not root
 * ({@code berth-rootless}, sub-ids 300000..365535): the same assertions, in a JVM of that user's, with a
 * rootless {@link Fixture}. Only tests tagged {@value RootlessSuite#ROOT_ONLY} are left out, each for a
 * reason given at its tag.
 */
class RootlessParityTest {
    static final List<Class<?>> SUITES = List.of(IsolationTest.class, RunTest.class, ProcessTest.class,
            OverlayTest.class, VolumeTest.class, LifecycleTest.class, CommitTest.class, BadInputTest.class);

    @Test
    void theRootSuitesPassAsAUserWithSubIds() {
        TestUser user = TestUser.get("berth-rootless", 300000);
        Path base = user.dir("parity").resolve("fixture");
        Tools.Result r = user.java(Map.of(), Map.of(Fixture.ROOTLESS_BASE, base.toString()),
                RootlessSuite.class.getName(), SUITES.stream().map(Class::getName).toList());
        assertThat(r.exitCode()).as("rootless suites:\n%s\n%s", r.stdout(), r.stderr()).isZero();
        assertThat(r.stdout()).doesNotContain("FAILED").contains("ok IsolationTest.maskedPathsShowNothing()");
    }
}
