package dev.berth.cli;

import static dev.berth.cli.Builds.build;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.builder.BuildRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache of RUN steps: which changes make a RUN run again (its layers below, command, environment,
 * args, USER, WORKDIR, SHELL, network, the content of what a bind mount shows) and which do not (times,
 * labels, the content of cache mounts and secrets). Counted by the step runner: a hit runs no process.
 */
class RunCacheTest {
    static Path home;

    @TempDir
    Path ctx;

    @BeforeAll
    static void setUp() {
        home = TestBases.busybox("run-cache");
    }

    private static final String RUN = "RUN --mount=type=bind,source=src,target=/src "
            + "--mount=type=cache,target=/cache --mount=type=secret,id=s cat /src/input > /out; ls /cache > /dev/null";

    private List<String> lines(String... before) {
        List<String> l = new ArrayList<>(List.of("FROM busybox:test", "COPY base.txt /base.txt"));
        l.addAll(List.of(before));
        l.add(RUN);
        return l;
    }

    private Builds.Outcome run(List<String> lines, UnaryOperator<BuildRequest.Builder> options) {
        Builds.dockerfile(ctx, lines.toArray(String[]::new));
        return build(home, ctx, r -> options.apply(r.secret("s", new BuildRequest.Secret.FromFile(ctx.resolve("secret")))));
    }

    private int runs(List<String> lines) {
        return run(lines, r -> r).runs();
    }

    @Test
    void aRebuildInWhichEveryStepHitsRunsNoProcess() throws Exception {
        Builds.write(ctx, "base.txt", "base of the first test");
        Builds.write(ctx, "src/input", "one");
        Builds.write(ctx, "secret", "first secret");
        Builds.Outcome first = run(lines("ENV A=1"), r -> r);
        assertThat(first.runs()).isEqualTo(1);
        Builds.Outcome again = run(lines("ENV A=1"), r -> r);
        assertThat(again.runs()).isZero();
        assertThat(again.result().digest()).isEqualTo(first.result().digest());
        assertThat(run(lines("ENV A=1"), r -> r.noCache(true)).runs()).as("--no-cache").isEqualTo(1);
    }

    @Test
    void whatTheProcessSeesIsInTheKey() throws Exception {
        Builds.write(ctx, "base.txt", "base");
        Builds.write(ctx, "src/input", "one");
        Builds.write(ctx, "secret", "s");
        runs(lines());
        assertThat(runs(lines())).isZero();
        assertThat(runs(lines("ENV A=changed"))).as("an ENV").isEqualTo(1);
        assertThat(runs(lines("ARG V=1"))).as("an ARG in scope").isEqualTo(1);
        assertThat(run(lines("ARG V"), r -> r.buildArg("V", "2")).runs()).as("a build arg's value").isEqualTo(1);
        assertThat(run(lines("ARG V"), r -> r.buildArg("V", "2")).runs()).isZero();
        assertThat(runs(lines("USER app"))).as("USER").isEqualTo(1);
        assertThat(runs(lines("WORKDIR /tmp"))).as("WORKDIR").isEqualTo(1);
        assertThat(runs(lines("SHELL [\"/bin/sh\", \"-ec\"]"))).as("SHELL").isEqualTo(1);
        List<String> none = lines();
        none.set(none.size() - 1, RUN.replace("RUN ", "RUN --network=none "));
        assertThat(runs(none)).as("the network").isEqualTo(1);
        List<String> other = lines();
        other.set(other.size() - 1, RUN + " ");
        assertThat(runs(other)).as("trailing blanks are not part of the command").isZero();
        other.set(other.size() - 1, RUN + " && true");
        assertThat(runs(other)).as("the command").isEqualTo(1);
        assertThat(runs(lines("LABEL x=1"))).as("a LABEL changes nothing the process sees").isZero();
    }

    @Test
    void theLayersBelowAndTheBoundFilesAreInTheKeyButNotTheirTimesNorCachesNorSecrets() throws Exception {
        Builds.write(ctx, "base.txt", "base of the third test");
        Path input = Builds.write(ctx, "src/input", "one");
        Path secret = Builds.write(ctx, "secret", "s1");
        assertThat(runs(lines())).isEqualTo(1);
        Files.setLastModifiedTime(input, FileTime.fromMillis(0));
        assertThat(runs(lines())).as("a touched bind source").isZero();
        Files.writeString(input, "two");
        assertThat(runs(lines())).as("a changed bind source").isEqualTo(1);
        Files.writeString(input, "one");
        assertThat(runs(lines())).as("back to content seen before").isZero();
        Files.writeString(secret, "s2");
        assertThat(runs(lines())).as("a secret's content").isZero();
        Path cache = home.resolve("cache/mounts");
        try (var dirs = Files.walk(cache)) {
            Path data = dirs.filter(p -> p.getFileName().toString().equals("data")).findFirst().orElseThrow();
            Files.writeString(data.resolve("new"), "x");
        }
        assertThat(runs(lines())).as("a cache mount's content").isZero();
        Builds.write(ctx, "base.txt", "base changed");
        assertThat(runs(lines())).as("the layers below").isEqualTo(1);
    }
}
