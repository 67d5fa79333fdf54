package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** berth run end to end: the command, its environment, user, working directory and exit codes. */
class RunTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    @Test
    void runsTheCommandAndReturnsItsExitCode() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .command("sh", "-c", "echo hello; echo oops >&2; exit 3"));
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.out()).isEqualTo("hello\n");
        assertThat(r.err()).isEqualTo("oops\n");
        assertThat(r.result().signal()).isEmpty();
        assertThat(r.result().oomKilled()).isFalse();
    }

    @Test
    void usesTheImageCmdWhenNoCommandIsGiven() {
        Path in = f.scratch.resolve("stdin-cmd.txt");
        writeString(in, "echo from-stdin $FROM_IMAGE\n");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).interactive(true)
                .stdin(Stdio.file(in)));
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("from-stdin yes\n");
    }

    @Test
    void combinesEntrypointAndCmdLikeDocker() {
        assertThat(f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).entrypoint("echo")).out())
                .as("--entrypoint drops the image's CMD").isEqualTo("\n");
        assertThat(f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).entrypoint("echo").command("a", "b"))
                .out()).isEqualTo("a b\n");
    }

    @Test
    void anExitBySignalIs128PlusTheSignal() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).init(true)
                .command("sh", "-c", "kill -KILL $$"));
        assertThat(r.code()).isEqualTo(137);
        Fixture.Run direct = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .command("sh", "-c", "sh -c 'kill -TERM $$'; exit $?"));
        assertThat(direct.code()).isEqualTo(143);
    }

    @Test
    void environmentFollowsDockersRules() throws IOException {
        Path envFile = f.scratch.resolve("env.list");
        Files.writeString(envFile, "# a comment\nFROM_FILE=1\n\nOVERRIDE=file\n");
        String out = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).hostname("envhost").envFile(envFile)
                .env("OVERRIDE=flag").env("EMPTY=").env("NOT_IN_HOST_ENV_XYZ").user("app")
                .command("env")).out();
        assertThat(out.lines().sorted().toList()).containsExactly("EMPTY=", "FROM_FILE=1", "FROM_IMAGE=yes",
                "HOME=/home/app", "HOSTNAME=envhost", "OVERRIDE=flag",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        assertThat(f.sh("echo $HOME")).isEqualTo("/root\n");
    }

    @Test
    void usersAndGroupsComeFromTheImage() {
        assertThat(f.sh("id")).isEqualTo("uid=0(root) gid=0(root) groups=0(root)\n");
        Fixture.Run app = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).user("app").command("id"));
        assertThat(app.out()).isEqualTo("uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n");
        Fixture.Run numeric = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).user("4242:app")
                .command("id"));
        assertThat(numeric.out()).isEqualTo("uid=4242 gid=1000(app) groups=1000(app)\n");
        assertThatThrownBy(() -> f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).user("nosuchuser")
                .command("id")))
                .isInstanceOf(ContainerException.class)
                .hasMessageContaining("unable to find user nosuchuser")
                .extracting(e -> ((ContainerException) e).exitCode()).isEqualTo(125);
    }

    @Test
    void theWorkingDirectoryIsCreatedWhenMissing() {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).workdir("/srv/new/dir")
                .command("pwd"));
        assertThat(r.out()).isEqualTo("/srv/new/dir\n");
    }

    private static void writeString(Path p, String s) {
        try {
            Files.writeString(p, s);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
