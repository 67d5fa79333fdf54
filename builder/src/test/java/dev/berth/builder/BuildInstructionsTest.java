package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What each instruction does to the image config and its history. */
class BuildInstructionsTest {
    @TempDir
    Path tmp;

    /** A 10,000-line ENV (one continued instruction): every pair set, later ones seeing none of its own. */
    @Test
    void anEnvOfTenThousandContinuedPairsSetsThemAll() {
        BuildFixture f = new BuildFixture(tmp);
        java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of("FROM scratch", "ENV A=1 \\"));
        for (int i = 0; i < 10_000; i++) {
            lines.add("    B" + i + "=" + i + " \\");
        }
        lines.add("    C=$A");
        ContainerConfig c = f.container(f.build(lines.toArray(String[]::new)));
        assertThat(c.env()).hasSize(1 + 1 + 10_000 + 1).contains("B9999=9999").endsWith("C=");
    }

    @Test
    void metadataInstructionsSetTheConfig() {
        BuildFixture f = new BuildFixture(tmp);
        BuildResult r = f.build(
                "FROM scratch",
                "ARG VERSION=1.2",
                "ENV APP=/srv/app GREETING=\"hello world\"",
                "ENV REF=$APP/bin",
                "LABEL version=$VERSION \"multi word\"=yes",
                "USER 1000:1000",
                "EXPOSE 80 53/udp 8000-8002",
                "VOLUME /data [\"/cache\"]",
                "VOLUME [\"/logs\"]",
                "STOPSIGNAL SIGINT",
                "SHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]",
                "HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O- localhost",
                "ONBUILD COPY . /src",
                "MAINTAINER Jane <jane@example.com>",
                "CMD serve --port 80");
        ContainerConfig c = f.container(r);
        assertThat(c.env()).containsExactly("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "APP=/srv/app", "GREETING=hello world", "REF=/srv/app/bin");
        assertThat(c.labels()).containsEntry("version", "1.2").containsEntry("multi word", "yes")
                .containsEntry("org.opencontainers.image.authors", "Jane <jane@example.com>");
        assertThat(c.user()).contains("1000:1000");
        assertThat(c.exposedPorts()).containsOnlyKeys("80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp");
        assertThat(c.volumes()).containsOnlyKeys("/data", "[/cache]", "/logs");
        assertThat(c.stopSignal()).contains("SIGINT");
        assertThat(c.shell()).containsExactly("/bin/ash", "-eo", "pipefail", "-c");
        assertThat(c.healthcheck()).hasValueSatisfying(h -> {
            assertThat(h.test()).containsExactly("CMD-SHELL", "wget -q -O- localhost");
            assertThat(h.interval()).contains(30_000_000_000L);
            assertThat(h.timeout()).contains(5_000_000_000L);
            assertThat(h.retries()).contains(3);
        });
        assertThat(c.onBuild()).containsExactly("COPY . /src");
        // The shell form runs with the SHELL in force.
        assertThat(c.cmd()).contains(List.of("/bin/ash", "-eo", "pipefail", "-c", "serve --port 80"));
        ImageConfig config = f.config(r);
        assertThat(config.author()).contains("Jane <jane@example.com>");
        assertThat(config.history()).hasSize(14).allSatisfy(h -> assertThat(h.emptyLayer()).contains(true));
        assertThat(config.history().stream().map(h -> h.createdBy().orElseThrow()).toList()).contains(
                "ARG VERSION=1.2", "ONBUILD COPY . /src",
                "ENV APP=/srv/app GREETING=hello world", "LABEL version=1.2 multi word=yes", "USER 1000:1000",
                "STOPSIGNAL SIGINT", "CMD [\"/bin/ash\" \"-eo\" \"pipefail\" \"-c\" \"serve --port 80\"]");
        assertThat(config.created()).contains("2023-11-14T22:13:20Z");
        assertThat(r.manifest().mediaType().value()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
    }

    @Test
    void shellFormUsesDefaultShellAndEntrypointResetsAnInheritedCmd() {
        BuildFixture f = new BuildFixture(tmp);
        BuildResult base = f.build("FROM scratch", "CMD [\"base-cmd\"]");
        f.build(r -> r.tag("base:1"));
        BuildResult r = f.build("FROM base:1", "ENTRYPOINT /app --flag");
        assertThat(f.container(r).entrypoint()).contains(List.of("/bin/sh", "-c", "/app --flag"));
        assertThat(f.container(r).cmd()).isEmpty();
        BuildResult kept = f.build("FROM scratch", "CMD [\"x\"]", "ENTRYPOINT [\"/app\"]");
        assertThat(f.container(kept).cmd()).contains(List.of("x"));
        assertThat(f.container(kept).entrypoint()).contains(List.of("/app"));
        assertThat(base.digest()).isNotEqualTo(r.digest());
    }

    @Test
    void workdirCreatesTheDirectoryInALayerOnlyWhenMissing() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        BuildResult r = f.build("FROM scratch", "WORKDIR /srv/app", "WORKDIR sub", "COPY a.txt .", "WORKDIR /srv");
        ImageConfig config = f.config(r);
        assertThat(config.containerConfig().workingDir()).contains("/srv");
        assertThat(config.rootfs().diffIds()).hasSize(3);
        assertThat(f.layer(r, 0)).containsOnlyKeys("srv/", "srv/app/");
        assertThat(f.layer(r, 1)).containsOnlyKeys("srv/", "srv/app/", "srv/app/sub/");
        assertThat(f.layer(r, 2)).containsOnlyKeys("srv/", "srv/app/", "srv/app/sub/", "srv/app/sub/a.txt");
        assertThat(config.history().getLast().createdBy()).contains("WORKDIR /srv");
        assertThat(config.history().getLast().emptyLayer()).contains(true);
        config.checkHistory();
    }

    @Test
    void workdirAfterUserIsOwnedByTheUser() {
        BuildFixture f = new BuildFixture(tmp);
        BuildResult r = f.build("FROM scratch", "USER 1234", "WORKDIR /home/app");
        assertThat(f.layer(r, 0).get("home/app/").getLongUserId()).isEqualTo(1234);
        assertThat(f.layer(r, 0).get("home/app/").getLongGroupId()).isEqualTo(1234);
        assertThat(f.layer(r, 0).get("home/app/").getMode() & 07777).isEqualTo(0755);
    }

    @Test
    void runWithoutAStepRunnerFailsBeforeAnythingIsBuilt() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY a.txt /", "RUN echo hi"))
                .isInstanceOf(BuildException.class)
                .hasMessage("Dockerfile:3: RUN needs a container runtime, and this builder has none "
                        + "(Builder.withStepRunner)");
        try (var blobs = Files.list(f.home.store().resolve("blobs/sha256"))) {
            assertThat(blobs).isEmpty();
        }
    }

    @Test
    void onbuildTriggersRunInTheChildBuildAndAreNotInherited() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("app.txt", "app");
        f.build("FROM scratch", "ONBUILD COPY app.txt /from-trigger.txt", "LABEL parent=1");
        f.build(r -> r.tag("parent:1"));
        BuildResult child = f.build("FROM parent:1", "LABEL child=1");
        assertThat(f.tree(child)).containsKey("from-trigger.txt");
        assertThat(f.container(child).onBuild()).isEmpty();
        assertThat(f.container(child).labels()).containsEntry("parent", "1").containsEntry("child", "1");
    }

    @Test
    void onbuildOfAnEarlierStageRunsInAStageBuiltFromIt() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("x.txt", "x");
        BuildResult r = f.build("FROM scratch AS base", "ONBUILD COPY x.txt /x.txt", "FROM base");
        assertThat(f.tree(r)).containsKey("x.txt");
    }

    @Test
    void multiStageTargetBuildsOnlyTheStagesItNeeds() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        f.file("b.txt", "b");
        f.dockerfile(
                "FROM scratch AS one",
                "COPY a.txt /a.txt",
                "FROM scratch AS broken",
                "COPY missing.txt /",
                "FROM scratch AS two",
                "COPY --from=one /a.txt /copied.txt",
                "COPY b.txt /",
                "FROM two AS three",
                "LABEL stage=three");
        BuildResult two = f.build(r -> r.target("two"));
        assertThat(f.tree(two)).containsOnlyKeys("copied.txt", "b.txt");
        assertThat(two.steps()).hasSize(5);
        assertThatThrownBy(() -> f.build(r -> r.target("broken")))
                .hasMessage("Dockerfile:4: COPY source \"missing.txt\" not found in build context");
        assertThat(two.steps().getLast().step().label()).isEqualTo("[two 5/5] COPY b.txt /");
        BuildResult three = f.build(r -> r);
        assertThat(f.container(three).labels()).containsEntry("stage", "three");
        assertThat(f.tree(three)).containsOnlyKeys("copied.txt", "b.txt");
        assertThatThrownBy(() -> f.build(r -> r.target("nope"))).hasMessageContaining("target stage \"nope\" could not be found");
    }

    @Test
    void fromAnImageInTheStoreKeepsItsLayersHistoryAndNamesItsBase() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        BuildResult base = f.build("FROM scratch", "COPY a.txt /", "ENV FROM_BASE=1");
        f.build(r -> r.tag("example.com/base:1"));
        f.file("b.txt", "b");
        BuildResult r = f.build("FROM example.com/base:1", "COPY b.txt /", "ENV MORE=2");
        ImageConfig c = f.config(r);
        assertThat(c.rootfs().diffIds()).hasSize(2);
        assertThat(c.rootfs().diffIds().getFirst()).isEqualTo(f.config(base).rootfs().diffIds().getFirst());
        assertThat(c.history()).hasSize(4);
        c.checkHistory();
        assertThat(c.containerConfig().env()).contains("FROM_BASE=1", "MORE=2");
        var manifest = f.image(r).manifest().value();
        assertThat(manifest.annotations()).containsEntry("org.opencontainers.image.base.name", "example.com/base:1")
                .containsEntry("org.opencontainers.image.base.digest", f.image(base).digest().toString());
        // A COPY layer holds only what it wrote: the base's files are not written again.
        assertThat(f.layer(r, 1)).containsOnlyKeys("b.txt");
    }

    @Test
    void aBaseImageMissingFromTheStoreIsAClearErrorOrComesFromTheBaseImagesSource() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM alpine:3.20");
        assertThatThrownBy(() -> f.build(r -> r)).isInstanceOf(BuildException.class)
                .hasMessage("Dockerfile:1: image alpine:3.20 is not in the local store; pull it first (berth pull alpine:3.20)");
        // A source (the registry's puller) is asked for what the store lacks.
        BuildFixture other = new BuildFixture(tmp.resolve("other"));
        BuildResult made = other.build("FROM scratch", "LABEL pulled=yes");
        String[] asked = new String[1];
        BaseImages source = (ref, platform, store) -> {
            asked[0] = ref.toString();
            try (ImageStore from = other.home.openStore()) {
                store.copyFrom(from, made.manifest().withPlatform(Optional.empty()));
            }
            return Optional.of(made.manifest().withPlatform(Optional.empty()));
        };
        BuildResult r = Builder.create(f.home).withBaseImages(source).build(f.request().build(), e -> { });
        assertThat(asked[0]).isEqualTo("docker.io/library/alpine:3.20");
        assertThat(f.container(r).labels()).containsEntry("pulled", "yes");
    }

    @Test
    void labelsFromTheCommandLineComeLast() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM scratch", "LABEL a=dockerfile b=dockerfile");
        BuildResult r = f.build(o -> o.label("b", "cli").label("c", "cli"));
        assertThat(f.container(r).labels()).isEqualTo(Map.of("a", "dockerfile", "b", "cli", "c", "cli"));
    }

    @Test
    void buildArgsOverrideDefaultsAndUnusedOnesAreReported() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("ARG BASE=scratch", "FROM $BASE", "ARG NAME=default", "LABEL name=$NAME");
        BuildResult r = f.build(o -> o.buildArg("NAME", "given").buildArg("UNUSED", "x"));
        assertThat(f.container(r).labels()).containsEntry("name", "given");
        assertThat(f.warnings()).contains("build-args [UNUSED] were not consumed by any ARG");
    }

    @Test
    void theStepsAreReportedWithTheirNumbers() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("app", "x");
        BuildResult r = f.build("FROM scratch", "COPY app /app", "CMD [\"/app\"]");
        assertThat(r.steps().stream().map(s -> s.step().label()).toList())
                .containsExactly("[1/3] FROM scratch", "[2/3] COPY app /app", "[3/3] CMD [\"/app\"]");
        assertThat(f.events).filteredOn(e -> e instanceof BuildEvent.StepStarted).hasSize(3);
    }

    @Test
    void invalidInstructionsAreErrorsWithTheirLine() {
        BuildFixture f = new BuildFixture(tmp);
        assertThatThrownBy(() -> f.build("FROM scratch", "EXPOSE 80/xyz")).hasMessage("Dockerfile:2: invalid proto: xyz");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPPY a b")).hasMessageStartingWith("Dockerfile:2: unknown instruction: COPPY");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY --chmod=999 a /")).hasMessageStartingWith(
                "Dockerfile:2: invalid chmod parameter: '999'");
        assertThatThrownBy(() -> f.build("FROM scratch", "ADD https://example.com/x.git /src"))
                .hasMessage("Dockerfile:2: ADD from a git repository is not supported yet: https://example.com/x.git");
    }

    @Test
    void healthcheckNoneAndCopyFromAStageIndex() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        BuildResult r = f.build("FROM scratch", "COPY a.txt /a.txt", "HEALTHCHECK CMD [\"/check\"]",
                "FROM scratch", "COPY --from=0 /a.txt /b.txt", "HEALTHCHECK NONE");
        assertThat(f.container(r).healthcheck()).hasValueSatisfying(h -> assertThat(h.test()).containsExactly("NONE"));
        assertThat(f.tree(r)).containsOnlyKeys("b.txt");
        assertThat(r.steps().getFirst().step().label()).isEqualTo("[stage-0 1/6] FROM scratch");
    }

    @Test
    void platformPicksTheConfigOfAScratchStage() {
        BuildFixture f = new BuildFixture(tmp);
        BuildResult r = f.build("FROM --platform=linux/arm64/v8 scratch", "LABEL a=1");
        assertThat(f.config(r).architecture()).isEqualTo("arm64");
        BuildResult other = f.build(o -> o.platform(dev.berth.layers.Platform.parse("linux/riscv64")));
        assertThat(f.config(other).architecture()).isEqualTo("arm64");
        f.dockerfile("FROM scratch", "LABEL a=1");
        BuildResult riscv = f.build(o -> o.platform(dev.berth.layers.Platform.parse("linux/riscv64")));
        assertThat(f.config(riscv).architecture()).isEqualTo("riscv64");
    }

    @Test
    void aDockerBaseImagesLayersGetOciTypesInTheOciManifest() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        try (ImageStore store = f.home.openStore()) {
            var layer = dev.berth.layers.LayerWriter.create().add(new dev.berth.layers.LayerEntry.Content(
                    dev.berth.layers.LayerPath.of("etc/os-release"), "x".getBytes(), dev.berth.layers.LayerEntry.Attributes.DEFAULT))
                    .write(store, new dev.berth.layers.Compression.Gzip(1, 1), true);
            var config = dev.berth.layers.Document.of(ImageConfig.empty(dev.berth.layers.Platform.host())
                    .withLayer(layer.diffId(), ImageConfig.History.of(Optional.empty(), "base", Optional.empty())),
                    dev.berth.layers.MediaType.DOCKER_CONFIG);
            store.put(config);
            var manifest = dev.berth.layers.Document.of(dev.berth.layers.Manifest.of(dev.berth.layers.MediaType.DOCKER_MANIFEST,
                    config.descriptor(), List.of(layer.blob()), Map.of()), dev.berth.layers.MediaType.DOCKER_MANIFEST);
            store.tag(dev.berth.layers.Reference.parse("docker-base:1"), store.put(manifest));
        }
        f.file("a.txt", "a");
        BuildResult r = f.build("FROM docker-base:1", "COPY a.txt /");
        assertThat(f.image(r).layers()).extracting(d -> d.mediaType().value())
                .containsOnly("application/vnd.oci.image.layer.v1.tar+gzip");
        assertThat(f.tree(r)).containsKeys("etc/os-release", "a.txt");
    }
}
