package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth build} as a user runs it: a fresh process each time, options, environment, output, exit codes. */
class BuildCommandTest {
    @TempDir
    Path tmp;

    private Tools.Result berth(Path home, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(Jvm.command(Berth.class, args));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("BERTH_HOME", home.toString());
        return Tools.run(cmd, all, null);
    }

    private Path context(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("a.txt"), "a");
        Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nCOPY a.txt /\nCMD [\"/a.txt\"]\n");
        return dir;
    }

    @Test
    void quietPrintsOnlyTheDigestAndSourceDateEpochMakesItReproducible() throws Exception {
        Path one = context(tmp.resolve("one"));
        Path two = context(tmp.resolve("two"));
        Files.setLastModifiedTime(two.resolve("a.txt"), java.nio.file.attribute.FileTime.fromMillis(0));
        Map<String, String> env = Map.of("SOURCE_DATE_EPOCH", "1600000000");
        Tools.Result a = berth(tmp.resolve("home-a"), env, "build", "-q", "-t", "app:1", one.toString()).ok();
        Tools.Result b = berth(tmp.resolve("home-b"), env, "build", "--quiet", two.toString()).ok();
        assertThat(a.stdout()).matches("sha256:[0-9a-f]{64}\n");
        assertThat(b.stdout()).isEqualTo(a.stdout());
        try (ImageStore store = new BerthHome(tmp.resolve("home-a")).openStore()) {
            Image image = store.image(Reference.parse("app:1"), Platform.host());
            assertThat(image.digest().toString()).isEqualTo(a.stdout().trim());
            assertThat(image.config().value().created()).contains("2020-09-13T12:26:40Z");
        }
    }

    @Test
    void plainProgressShowsOneLinePerStepAndTheCache() throws Exception {
        Path ctx = context(tmp.resolve("ctx"));
        Path home = tmp.resolve("home");
        Tools.Result first = berth(home, Map.of(), "build", "--progress", "plain", "-t", "app:1", ctx.toString()).ok();
        assertThat(first.stdout()).isEmpty();
        assertThat(first.stderr()).containsPattern("\\[1/3\\] FROM scratch  \\d+\\.\\ds\n")
                .containsPattern("\\[2/3\\] COPY a.txt /  \\d+\\.\\ds\n")
                .contains("naming to app:1\n");
        Tools.Result again = berth(home, Map.of(), "build", "--progress=plain", "-t", "app:1", ctx.toString()).ok();
        assertThat(again.stderr()).contains("[2/3] COPY a.txt /  CACHED\n");
        // The live view redraws the running step in place.
        Tools.Result live = berth(home, Map.of(), "build", "--progress=tty", "-t", "app:1", ctx.toString()).ok();
        assertThat(live.stderr()).contains("\r\033[2K[2/3] COPY a.txt /").contains("[2/3] COPY a.txt /  CACHED\n");
    }

    @Test
    void errorsAreOneLineWithTheDockerfileLine() throws Exception {
        Path ctx = context(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM scratch\nCOPY nothere /\n");
        Tools.Result r = berth(tmp.resolve("home"), Map.of(), "build", ctx.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).matches("\\[1/2\\] FROM scratch  \\d+\\.\\ds\nberth: Dockerfile:2: COPY source \"nothere\" not found in build context\n");
        Tools.Result push = berth(tmp.resolve("home"), Map.of(), "build", "--push", ctx.toString());
        assertThat(push.exitCode()).isEqualTo(1);
        assertThat(push.stderr()).isEqualTo("berth: --push needs a name to push to: add -t REGISTRY/NAME:TAG\n");
        Tools.Result badOutput = berth(tmp.resolve("home"), Map.of(), "build", "--output", "tar:x", ctx.toString());
        assertThat(badOutput.stderr()).isEqualTo("berth: --output tar:x: expected oci:DIR or docker-archive:FILE\n");
    }

    @Test
    void optionsReachTheBuild() throws Exception {
        Path ctx = tmp.resolve("ctx");
        Files.createDirectories(ctx.resolve("docker"));
        Files.writeString(ctx.resolve("docker/app.Dockerfile"),
                "FROM scratch AS first\nARG NAME\nLABEL name=$NAME\nFROM first AS second\nLABEL second=1\n");
        Path home = tmp.resolve("home");
        Path layout = tmp.resolve("layout");
        berth(home, Map.of("FROM_ENV", "env-value"), "build", "-f", ctx.resolve("docker/app.Dockerfile").toString(),
                "--build-arg", "FROM_ENV", "--build-arg", "NAME=given", "--target", "first", "--label", "cli=1",
                "--compression", "zstd", "--platform", "linux/arm64", "-o", "oci:" + layout, "-t", "app:2",
                ctx.toString()).ok();
        try (ImageStore store = ImageStore.open(layout)) {
            Image image = store.image(Reference.parse("app:2"), Platform.parse("linux/arm64"));
            var labels = image.config().value().containerConfig().labels();
            assertThat(labels).containsEntry("name", "given").containsEntry("cli", "1").doesNotContainKey("second");
            assertThat(image.platform().toString()).isEqualTo("linux/arm64");
        }
    }

    @Test
    void runOutputSecretsAndAgentsFromTheCommandLine() throws Exception {
        Path home = TestBases.busybox("build-command-run");
        Path ctx = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(tmp.resolve("file-secret"), "from-file");
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox:test\n"
                + "RUN --mount=type=secret,id=f --mount=type=secret,id=e,env=E --mount=type=secret,id=TOKEN,env=T "
                + "sh -c 'cat /run/secrets/f; echo; echo \"$E $T\"'\n");
        Tools.Result r = berth(home, Map.of("SECRET_VALUE", "from-env", "TOKEN", "by-id"), "build", "--progress", "plain",
                "--secret", "id=f,src=" + tmp.resolve("file-secret"), "--secret", "type=env,id=e,env=SECRET_VALUE",
                "--secret", "id=TOKEN", ctx.toString()).ok();
        assertThat(r.stderr()).containsPattern("\n#2 \\d+\\.\\d{3} from-file\n#2 \\d+\\.\\d{3} from-env by-id\n");
        Tools.Result unset = berth(home, Map.of(), "build", "--secret", "id=x,env=NOT_SET_ANYWHERE", ctx.toString());
        assertThat(unset.exitCode()).isEqualTo(1);
        assertThat(unset.stderr()).isEqualTo("berth: --secret id=x,env=NOT_SET_ANYWHERE: the variable NOT_SET_ANYWHERE "
                + "is not set\n");
        Tools.Result noFile = berth(home, Map.of(), "build", "--secret", "id=x,src=/no/such", ctx.toString());
        assertThat(noFile.stderr()).isEqualTo("berth: --secret id=x,src=/no/such: cannot read /no/such\n");
        ProcessBuilder pb = new ProcessBuilder(Jvm.command(Berth.class, "build", "--ssh", "default", ctx.toString()));
        pb.environment().remove("SSH_AUTH_SOCK");
        pb.environment().put("BERTH_HOME", home.toString());
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(out).isEqualTo("berth: --ssh default: no socket given and SSH_AUTH_SOCK is not set\n");
    }
}
