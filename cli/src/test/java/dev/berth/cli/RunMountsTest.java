package dev.berth.cli;

import static dev.berth.cli.Builds.build;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.builder.BuildRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code RUN --mount} type against the real runtime: what the process sees, and that nothing a mount
 * brings is left in the layer (or, for secrets, anywhere in berth's home).
 */
class RunMountsTest {
    static Path home;

    @TempDir
    Path ctx;

    @TempDir
    Path outside;

    @BeforeAll
    static void setUp() {
        home = TestBases.busybox("run-mounts");
    }

    @Test
    void bindMountsShowTheContextWithoutIgnoredFilesAndThrowWritesAway() throws Exception {
        Builds.write(ctx, "src/a.txt", "a");
        Builds.write(ctx, "src/sub/b.txt", "b");
        Builds.write(ctx, "src/debug.log", "ignored");
        Builds.write(ctx, ".dockerignore", "**/*.log\n");
        Builds.Outcome o = build(home, ctx, "FROM busybox:test", "WORKDIR /w",
                "RUN --mount=target=src,source=src find src | sort",
                "RUN --mount=type=bind,source=src/a.txt,target=/one cat /one",
                "RUN --mount=type=bind,source=src,target=/rw,rw touch /rw/new /rw/a.txt && ls /rw");
        assertThat(o.output()).containsExactly("src", "src/a.txt", "src/sub", "src/sub/b.txt", "a", "a.txt", "new", "sub");
        assertThat(ctx.resolve("src/new")).as("the context is never written").doesNotExist();
        assertThat(Builds.layer(home, o.result(), 2)).isEmpty();
        assertThat(Builds.layer(home, o.result(), 4)).as("nothing of a mount is in the layer").isEmpty();
    }

    @Test
    void bindMountsFromAStageOrAnImage() {
        Builds.Outcome o = build(home, ctx, "FROM busybox:test AS build",
                "RUN mkdir -p /out && echo built > /out/artifact && rm /etc/group",
                "FROM busybox:test",
                "RUN --mount=from=build,source=/out,target=/in cat /in/artifact",
                "RUN --mount=type=bind,from=busybox:test,source=/etc,target=/etc2 grep -c app /etc2/group",
                "RUN --mount=from=build,target=/b,rw sh -c 'test ! -e /b/etc/group && rm /b/out/artifact && echo gone'",
                "RUN --mount=from=build,source=out/artifact,target=/f cat /f");
        assertThat(o.output()).containsExactly("built", "2", "gone", "built");
    }

    @Test
    void cacheMountsAreKeptBetweenBuildsAndShareAsAsked() throws Exception {
        String script = "RUN --mount=type=cache,target=/var/cache/x,uid=1000,gid=1000,mode=0750 "
                + "sh -c 'stat -c \"%a %u:%g\" /var/cache/x; echo $1 >> /var/cache/x/log; cat /var/cache/x/log' - ";
        Builds.Outcome first = build(home, ctx, "FROM busybox:test", script + "one");
        Builds.Outcome second = build(home, ctx, "FROM busybox:test", script + "two");
        assertThat(first.output()).containsExactly("750 1000:1000", "one");
        assertThat(second.output()).containsExactly("750 1000:1000", "one", "two");
        assertThat(Builds.layer(home, second.result(), 1)).as("no trace of the mount point").isEmpty();
        Builds.Outcome ids = build(home, ctx, "FROM busybox:test",
                "RUN --mount=type=cache,id=shared-one,target=/a --mount=type=cache,id=shared-one,target=/b "
                        + "--mount=type=cache,id=mine,target=/p1,sharing=private "
                        + "--mount=type=cache,id=mine,target=/p2,sharing=private "
                        + "sh -c 'touch /a/x /p1/y; ls /b; ls /p2 | wc -l'",
                "RUN --mount=type=cache,id=seeded,target=/c,from=busybox:test,source=/etc ls /c");
        assertThat(ids.output()).containsExactly("x", "0", "group", "passwd");
    }

    @Test
    void lockedCacheMountsTakeTurns() throws Exception {
        Path other = Files.createDirectories(ctx.resolve("other"));
        String run = "RUN --mount=type=cache,id=turns,target=/c,sharing=locked sh -c "
                + "'echo start >> /c/log; sleep 1; echo end >> /c/log; cat /c/log' - ";
        Builds.dockerfile(ctx, "FROM busybox:test", run + "a");
        Builds.dockerfile(other, "FROM busybox:test", run + "b");
        CompletableFuture<Builds.Outcome> a = CompletableFuture.supplyAsync(() -> build(home, ctx, r -> r));
        CompletableFuture<Builds.Outcome> b = CompletableFuture.supplyAsync(() -> build(home, other, r -> r));
        List<String> last = a.join().output().size() > b.join().output().size() ? a.join().output() : b.join().output();
        assertThat(last).containsExactly("start", "end", "start", "end");
    }

    @Test
    void tmpfsMountsHaveTheirSize() {
        Builds.Outcome o = build(home, ctx, "FROM busybox:test",
                "RUN --mount=type=tmpfs,target=/scratch,size=2m sh -c 'df -k /scratch | tail -1 | "
                        + "tr -s \" \" | cut -d\" \" -f2; echo x > /scratch/f'");
        assertThat(o.output()).containsExactly("2048");
        assertThat(Builds.layer(home, o.result(), 1)).isEmpty();
    }

    @Test
    void secretsReachTheProcessAndNothingElse() throws Exception {
        String value = "berth-test-secret-" + System.nanoTime();
        Path file = Builds.write(outside, "secret-file", value);
        Builds.dockerfile(ctx, "FROM busybox:test",
                "RUN --mount=type=secret,id=tok sh -c 'stat -c \"%a %u\" /run/secrets/tok; cat /run/secrets/tok; echo'",
                "RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440,uid=1000,gid=1000 stat -c '%a %u:%g' /etc/tok",
                "RUN --mount=type=secret,id=tok,env=TOKEN sh -c 'printf %s \"$TOKEN\" | sha256sum | cut -c1-16; "
                        + "test ! -e /run/secrets/tok && echo no file'",
                "RUN --mount=type=secret,id=absent sh -c 'test ! -e /run/secrets/absent && echo optional'");
        Builds.Outcome o = build(home, ctx, r -> r.secret("tok", new BuildRequest.Secret.FromFile(file)));
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(value.getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(0, 16);
        assertThat(o.output()).containsExactly("400 0", value, "440 1000:1000", sha, "no file", "optional");
        assertThat(TestBases.filesContaining(home, value)).as("the secret's bytes in berth's home").isEmpty();
        for (int i = 1; i <= 4; i++) {
            assertThat(Builds.layer(home, o.result(), i)).isEmpty();
        }
        try (var shm = Files.list(Path.of("/dev/shm"))) {
            assertThat(shm.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("berth-secrets-"));
        }
    }

    @Test
    void sshMountsForwardToTheAgent() throws Exception {
        Path agent = outside.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(agent));
            Builds.dockerfile(ctx, "FROM busybox:test",
                    "RUN --mount=type=ssh sh -c 'echo $SSH_AUTH_SOCK; stat -c \"%F %a %u\" $SSH_AUTH_SOCK'",
                    "RUN --mount=type=ssh,id=other,target=/agent,uid=1000,mode=0660,required stat -c '%a %u' /agent");
            Builds.Outcome o = build(home, ctx, r -> r.sshAgent("default", agent).sshAgent("other", agent));
            assertThat(o.output()).containsExactly("/run/buildkit/ssh_agent.0", "socket 600 0", "660 1000");
            assertThat(Builds.layer(home, o.result(), 1)).isEmpty();
        }
    }

    @Test
    void pruneBuildCacheEmptiesTheCacheAndTheCacheMounts() throws IOException {
        Path own = TestBases.busybox("run-mounts-prune");
        build(own, ctx, "FROM busybox:test", "RUN --mount=type=cache,target=/c sh -c 'echo kept > /c/f'");
        assertThat(build(own, ctx, r -> r).runs()).isZero();
        CliRun.Result r = CliRun.berth(own, "prune", "--build-cache").ok();
        assertThat(r.out()).startsWith("Deleted ");
        try (var files = Files.walk(own.resolve("cache"))) {
            assertThat(files.filter(Files::isRegularFile).map(p -> own.relativize(p).toString()))
                    .as("only the cache mounts' lock files are left").allMatch(p -> p.endsWith("/lock"));
        }
        assertThat(build(own, ctx, rr -> rr).runs()).as("every step runs again").isEqualTo(1);
    }
}
