package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets one clear message and docker's exit code, and when it can be known before anything
 * starts, nothing is created: no container directory, no cgroup, no name.
 */
class BadInputTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    /** Asserts the failure, its code and message, and that it left no container behind. */
    private static void fails(ThrowingCallable run, int code, String... message) throws IOException {
        List<String> before = containers();
        assertThatThrownBy(run).isInstanceOf(ContainerException.class)
                .hasMessageContainingAll(message)
                .satisfies(e -> assertThat(((ContainerException) e).exitCode()).isEqualTo(code))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(containers()).isEqualTo(before);
    }

    private static List<String> containers() throws IOException {
        if (!Files.isDirectory(f.home.containers())) {
            return List.of();
        }
        try (var s = Files.list(f.home.containers())) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static RunOptions.Builder rm() {
        return RunOptions.builder().remove(true);
    }

    @Test
    void anImageWithoutACommand() throws IOException {
        fails(() -> f.run("nocmd:test", rm()), 125, "run nocmd:test: image nocmd:test has no command",
                "berth run nocmd:test /bin/sh");
    }

    @Test
    void aCommandThatDoesNotExist() throws IOException {
        fails(() -> f.run(Fixture.BUSYBOX, rm().command("nosuchcmd")), 127,
                "exec: \"nosuchcmd\": executable file not found in $PATH");
        fails(() -> f.run(Fixture.BUSYBOX, rm().command("/usr/bin/nosuch")), 127,
                "exec /usr/bin/nosuch: no such file or directory");
    }

    @Test
    void aCommandThatIsNotExecutable() throws IOException {
        fails(() -> f.run(Fixture.BUSYBOX, rm().command("/etc/passwd")), 126, "exec /etc/passwd: permission denied");
        fails(() -> f.run(Fixture.BUSYBOX, rm().command("/etc")), 126, "exec /etc: is a directory");
    }

    @Test
    void aDynamicallyLinkedBinaryInAScratchImage() throws IOException {
        fails(() -> f.run("dynamic:test", rm()), 127, "exec /app: no such file or directory",
                "dynamically linked", "ld-linux", "is not in the image", "statically linked binary");
    }

    @Test
    void aScriptWhoseInterpreterIsMissing() throws IOException {
        fails(() -> f.run(Fixture.BUSYBOX, rm().command("/bin/noshell")), 127, "is a script",
                "/no/such/shell is not in the image");
    }

    @Test
    void aNonRootUserAndA0700Binary() throws IOException {
        fails(() -> f.run(Fixture.BUSYBOX, rm().user("app").command("/bin/secret")), 126,
                "exec /bin/secret: permission denied: mode 0700, owner 0:0", "runs as 1000:1000");
        assertThat(f.run(Fixture.BUSYBOX, rm().command("/bin/secret")).out()).as("root may").isEqualTo("secret\n");
        assertThat(f.run(Fixture.BUSYBOX, rm().user("app").command("/bin/app-only")).out()).as("its owner may")
                .isEqualTo("app's\n");
    }

    @Test
    void anUnknownUserOrGroup() throws IOException {
        fails(() -> f.run(Fixture.BUSYBOX, rm().user("bob")), 125,
                "unable to find user bob: no matching entries in the image's /etc/passwd");
        fails(() -> f.run(Fixture.BUSYBOX, rm().user("app:nogroup2")), 125, "unable to find group nogroup2");
    }

    @Test
    void anImageThatIsNotInTheStore() throws IOException {
        fails(() -> f.run("not-here:1.0", rm()), 125, "image not-here:1.0 is not in the local store",
                "berth pull not-here:1.0");
        fails(() -> f.run("Invalid:Name", rm()), 125, "invalid reference format");
    }

    @Test
    void aVolumeWhoseHostPathDoesNotExist() {
        assertThatThrownBy(() -> Volume.parse("/no/such/dir:/data")).isInstanceOf(ContainerException.class)
                .hasMessage("invalid volume \"/no/such/dir:/data\": host path /no/such/dir does not exist");
        assertThatThrownBy(() -> Volume.parse("relative:/data")).hasMessageContaining("must be absolute");
        assertThatThrownBy(() -> Volume.parse("/tmp:/data:rx")).hasMessageContaining("unknown option \"rx\"");
        assertThatThrownBy(() -> Volume.parse("/tmp:data")).hasMessageContaining("must be an absolute path");
        assertThatThrownBy(() -> Volume.parse("/tmp:/")).hasMessageContaining("cannot be /");
    }

    @Test
    void anInvalidMemoryValue() {
        assertThatThrownBy(() -> Resources.parseMemory("lots")).isInstanceOf(ContainerException.class)
                .hasMessage("invalid --memory \"lots\": expected a number with an optional unit b, k, m or g (e.g. 256m)");
        assertThatThrownBy(() -> new Resources(java.util.OptionalLong.of(Resources.parseMemory("1m")),
                java.util.OptionalLong.empty(), java.util.OptionalLong.empty()))
                .hasMessageContaining("the minimum is 6m");
    }

    @Test
    void aNameInUse() throws IOException {
        Fixture.Run first = f.run(Fixture.BUSYBOX, RunOptions.builder().name("taken").command("true"));
        try {
            fails(() -> f.run(Fixture.BUSYBOX, rm().name("taken").command("true")), 125,
                    "the container name \"taken\" is already in use", "berth rm taken");
        } finally {
            f.runtime.remove(List.of("taken"), false);
        }
        assertThat(f.run(Fixture.BUSYBOX, rm().name("taken").command("true")).code()).as("free again").isZero();
        assertThat(first.code()).isZero();
    }

    @Test
    void whatOnlyTheContainerCanKnowIsReportedByTheHelperWithTheSameCodes() throws IOException {
        // A volume hides the image below it, so these are judged at exec time, inside the container.
        Path dir = Files.createTempDirectory(f.scratch, "vol");
        Files.writeString(dir.resolve("data.txt"), "not a program\n");
        Volume v = new Volume(dir, "/opt/tools", false);
        fails(() -> f.run(Fixture.BUSYBOX, rm().volume(v).command("/opt/tools/data.txt")), 126,
                "exec /opt/tools/data.txt: permission denied");
        fails(() -> f.run(Fixture.BUSYBOX, rm().volume(v).command("/opt/tools/missing")), 127,
                "exec /opt/tools/missing: no such file or directory");
        fails(() -> f.run(Fixture.BUSYBOX, rm().volume(v).env("PATH=/opt/tools").command("absent")), 127,
                "exec: \"absent\": executable file not found in $PATH");
        // with --init the command is forked by the init, which passes its failure on
        fails(() -> f.run(Fixture.BUSYBOX, rm().init(true).volume(v).command("/opt/tools/data.txt")), 126,
                "exec /opt/tools/data.txt: permission denied");
    }
}
