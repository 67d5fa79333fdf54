package dev.berth.cli;

import static dev.berth.cli.Builds.build;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildEvent;
import dev.berth.builder.BuildException;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RUN in a build, on a busybox base, with berth's own runtime: what the process sees, the layer it makes,
 * heredocs, failures and what they leave behind, reproducibility.
 */
class RunStepTest {
    static Path home;

    @TempDir
    Path ctx;

    @BeforeAll
    static void setUp() {
        home = TestBases.busybox("run-step");
    }

    @Test
    void theProcessSeesTheStagesEnvArgsUserAndWorkdir() {
        Builds.Outcome o = build(home, ctx, "FROM busybox:test", "ARG VERSION=1.2", "ENV GREETING=hi",
                "WORKDIR /srv/app", "USER app",
                "RUN echo \"env $GREETING $VERSION $FROM_IMAGE\"; echo \"dir $(pwd)\"; echo \"id $(id -u):$(id -g)\"; "
                        + "echo \"host $HOSTNAME $(hostname)\"; echo \"path $PATH\"; echo \"home $HOME\"; "
                        + "grep -c berth-build /etc/hosts; test -f /etc/resolv.conf && echo resolv");
        assertThat(o.output()).containsExactly("env hi 1.2 yes", "dir /srv/app", "id 1000:1000",
                "host berth-build berth-build", "path /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "home /home/app", "1", "resolv");
        Image image = Builds.image(home, o.result());
        assertThat(image.config().value().containerConfig().env()).as("ARG values are not kept in the image")
                .containsExactly("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FROM_IMAGE=yes",
                        "GREETING=hi");
    }

    @Test
    void aScratchImageGetsTheDefaultPathAndItsMountPointsStayOutOfTheLayer() throws Exception {
        Files.copy(Path.of("/bin/busybox"), ctx.resolve("busybox"));
        Builds.Outcome o = build(home, ctx, "FROM scratch", "COPY busybox /bin/busybox",
                "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]", "RUN echo $PATH; ls /etc; echo made > /made");
        assertThat(o.output()).containsExactly("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "hostname", "hosts", "resolv.conf");
        Map<String, TarArchiveEntry> install = Builds.layer(home, o.result(), 1);
        assertThat(install).containsKey("bin/sh").containsKey("bin/ls").doesNotContainKeys("proc/", "dev/", "sys/",
                "etc/", "etc/hosts");
        assertThat(Builds.layer(home, o.result(), 2).keySet()).as("the helper's mount points are taken out")
                .containsExactly("made");
    }

    @Test
    void runStepsHaveTheDefaultSeccompFilterAsUnderBuildKit() {
        Builds.Outcome o = build(home, ctx, "FROM busybox:test",
                "RUN unshare -U -r true 2>/dev/null && echo made-a-user-namespace || echo refused; "
                        + "grep -c '^Seccomp:.2' /proc/self/status");
        assertThat(o.output()).containsExactly("refused", "1");
    }

    @Test
    void heredocsRunAsBuildKitRunsThem() {
        Builds.Outcome o = build(home, ctx, "FROM busybox:test", "ENV WHO=world",
                "RUN <<EOF", "echo \"script $WHO\"", "echo second line", "EOF",
                "RUN <<-EOF", "\techo chomped", "\tEOF",
                "RUN <<EOF", "#!/bin/sh", "echo \"shebang $0\"", "EOF",
                "RUN sh <<EOF", "echo \"piped \\$WHO\"", "EOF",
                "RUN cat <<A > /one && cat <<'B' > /two", "first $WHO", "A", "quoted $WHO", "B",
                "RUN cat /one /two");
        assertThat(o.output()).containsExactly("script world", "second line", "chomped", "shebang /dev/pipes/EOF",
                "piped world", "first world", "quoted $WHO");
        assertThat(Builds.layer(home, o.result(), 3)).as("the shebang script's file is not in the layer").isEmpty();
    }

    @Test
    void theLayerIsWhatTheCommandChanged() {
        Builds.Outcome o = build(home, ctx, "FROM busybox:test",
                "RUN mkdir -p /data/gone /opq && echo x > /data/gone/f && echo 1 > /opq/1 && echo keep > /keep",
                "RUN rm -r /data/gone && rm -r /opq && mkdir /opq && echo 2 > /opq/2 && chmod 600 /keep "
                        + "&& chown 1000:2000 /keep && ln -s keep /link && ln /keep /hard",
                "RUN true");
        Map<String, TarArchiveEntry> second = Builds.layer(home, o.result(), 2);
        assertThat(second.keySet()).containsExactly("data/", "data/.wh.gone", "hard", "keep", "link", "opq/",
                "opq/.wh..wh..opq", "opq/2");
        assertThat(second.get("hard").getMode() & 07777).isEqualTo(0600);
        assertThat(second.get("hard").getLongUserId()).isEqualTo(1000);
        assertThat(second.get("hard").getLongGroupId()).isEqualTo(2000);
        assertThat(second.get("keep").isLink()).as("the second name of the file is a hard link to the first").isTrue();
        assertThat(second.get("keep").getLinkName()).isEqualTo("hard");
        assertThat(second.get("link").getLinkName()).isEqualTo("keep");
        assertThat(Builds.layer(home, o.result(), 3)).as("a RUN that changes nothing adds an empty layer").isEmpty();
        Image image = Builds.image(home, o.result());
        List<ImageConfig.History> history = image.config().value().history();
        assertThat(history.getLast().createdBy()).contains("RUN /bin/sh -c true");
        assertThat(history.getLast().emptyLayer()).isEmpty();
        assertThat(image.layers()).hasSize(4);
        // the upper directory became the layer's snapshot: the image runs without extracting it
        assertThat(home.resolve("snapshots").resolve(image.diffIds().get(2).hex()).resolve("opq/2")).exists();
        assertThat(Builds.sh(home, o.result(), "ls /opq; ls /data; cat /keep; readlink /link")).isEqualTo("2\nkeep\nkeep\n");
    }

    @Test
    void aFailingRunSaysItsExitCodeAndTheEndOfItsOutputAndLeavesNothing() throws Exception {
        long blobs;
        try (var s = Files.list(home.resolve("store/blobs/sha256"))) {
            blobs = s.count();
        }
        Builds.dockerfile(ctx, "FROM busybox:test", "RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t "
                + "echo one; echo two >&2; touch /new; exit 3");
        List<BuildEvent> events = new java.util.ArrayList<>();
        assertThatThrownBy(() -> dev.berth.builder.Builder.create(new dev.berth.layers.BerthHome(home))
                .withStepRunner(new RuntimeStepRunner(new dev.berth.layers.BerthHome(home), new java.io.PrintWriter(System.err, true)))
                .build(dev.berth.builder.BuildRequest.builder(ctx).tag("failed:1").build(), events::add))
                .isInstanceOf(BuildException.class)
                .hasMessage("Dockerfile:2: RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t echo one; "
                        + "echo ...: exit code 3");
        assertThat(events).filteredOn(e -> e instanceof BuildEvent.StepFailed)
                .singleElement().extracting(e -> ((BuildEvent.StepFailed) e).lastLines()).isEqualTo(List.of("one", "two"));
        assertThat(Builds.leftovers(home)).isEmpty();
        try (var s = Files.list(home.resolve("store/blobs/sha256"))) {
            assertThat(s.count()).as("no blob was written").isEqualTo(blobs);
        }
        assertThat(CliRun.berth(home, "images").out()).doesNotContain("failed");
        assertThat(cgroupsOf(home)).isEmpty();
    }

    @Test
    void aCommandThatCannotRunIsDockersError() {
        assertThatThrownBy(() -> build(home, ctx, "FROM busybox:test", "RUN [\"/no/such\"]"))
                .hasMessage("Dockerfile:2: RUN [\"/no/such\"]: exec /no/such: no such file or directory in the image");
        assertThatThrownBy(() -> build(home, ctx, "FROM busybox:test", "USER nosuchuser", "RUN true"))
                .hasMessageStartingWith("Dockerfile:3: RUN true: ").hasMessageContaining("nosuchuser");
        assertThat(Builds.leftovers(home)).isEmpty();
    }

    @Test
    void whatBerthCannotDoIsRefusedBeforeAnythingIsBuilt() {
        assertThatThrownBy(() -> build(home, ctx, "FROM busybox:test", "RUN echo first",
                "RUN --security=insecure true"))
                .hasMessage("Dockerfile:3: RUN --security=insecure is not supported: berth runs every RUN with "
                        + "docker's default capabilities and isolation");
        assertThatThrownBy(() -> build(home, ctx, "FROM busybox:test", "RUN --device=/dev/fuse true"))
                .hasMessage("Dockerfile:2: RUN --device is not supported: berth gives a RUN no host devices");
        assertThatThrownBy(() -> build(home, ctx, "FROM busybox:test", "RUN --mount=type=secret,id=tok,required cat x"))
                .hasMessage("Dockerfile:2: RUN --mount=type=secret: secret tok is required but was not given "
                        + "(berth build --secret id=tok,src=FILE)");
        assertThatThrownBy(() -> build(home, ctx, "FROM busybox:test", "RUN --mount=type=nfs true"))
                .hasMessage("Dockerfile:2: unsupported mount type \"nfs\" (bind, cache, tmpfs, secret or ssh)");
    }

    @Test
    void theNetworkIsTheHostsByDefaultAndLoopbackOnlyWithNone() throws Exception {
        String hostInterfaces = Files.readString(Path.of("/proc/net/dev"));
        Builds.Outcome o = build(home, ctx, "FROM busybox:test",
                "RUN cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '; echo",
                "RUN --network=none cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '; "
                        + "echo; ip route | wc -l");
        List<String> names = hostInterfaces.lines().skip(2).map(l -> l.substring(0, l.indexOf(':')).trim()).sorted()
                .toList();
        assertThat(o.output().get(0)).isEqualTo(String.join(" ", names) + " ");
        assertThat(o.output().subList(1, 3)).as("no route out").containsExactly("lo ", "0");
    }

    @Test
    void sourceDateEpochMakesTheSameImageInTwoHomes() throws Exception {
        Path other = TestBases.busybox("run-step-other");
        String[] lines = {"FROM busybox:test", "RUN mkdir -p /app/data && echo hi > /app/data/f && ln -s f /app/data/l "
                + "&& rm /bin/vi && touch -d @1 /app/old", "RUN echo more >> /app/data/f"};
        Builds.dockerfile(ctx, lines);
        Builds.Outcome a = build(home, ctx, r -> r.sourceDateEpoch(Instant.ofEpochSecond(1700000000)));
        Thread.sleep(1100); // the second build's files get other times on disk
        Builds.Outcome b = build(other, ctx, r -> r.sourceDateEpoch(Instant.ofEpochSecond(1700000000)));
        assertThat(b.result().digest()).isEqualTo(a.result().digest());
        Map<String, TarArchiveEntry> layer = Builds.layer(home, a.result(), 1);
        assertThat(layer.get("app/data/f").getModTime().toInstant()).as("newer times become the epoch")
                .isEqualTo(Instant.ofEpochSecond(1700000000));
        assertThat(layer.get("app/old").getModTime().toInstant()).as("older ones stay").isEqualTo(Instant.ofEpochSecond(1));
    }

    /** The container cgroups of the runtime of {@code home} (its parents are kept). */
    static List<Path> cgroupsOf(Path home) throws Exception {
        List<Path> out = new java.util.ArrayList<>();
        for (Path parent : dev.berth.runtime.ContainerRuntime.open(new dev.berth.layers.BerthHome(home)).cgroups()
                .parents()) {
            if (Files.isDirectory(parent)) {
                try (var s = Files.list(parent)) {
                    s.filter(Files::isDirectory).filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}"))
                            .forEach(out::add);
                }
            }
        }
        return out;
    }

    static ContainerConfig config(Path home, Builds.Outcome o) {
        return Builds.image(home, o.result()).config().value().containerConfig();
    }
}
