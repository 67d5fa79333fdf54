package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --platform a,b}: one build per platform, an index of the images, shared stages built once. */
class MultiPlatformBuildTest {
    @TempDir
    Path tmp;

    private static final Platform AMD64 = Platform.parse("linux/amd64");
    private static final Platform ARM64 = Platform.parse("linux/arm64");
    private static final Platform ARMV7 = Platform.parse("linux/arm/v7");

    @Test
    void severalPlatformsMakeAnIndexWithOneImagePerPlatformAndTheAutomaticArgs() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "same on every platform");
        BuildResult r = build(f, o -> o.platform(AMD64).platform(ARM64).platform(ARMV7).tag("multi:1"), """
                ARG GLOBAL=global-$TARGETARCH
                FROM --platform=$BUILDPLATFORM scratch AS build
                ARG BUILDPLATFORM
                COPY a.txt /a.txt
                LABEL build=$BUILDPLATFORM
                FROM scratch
                ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDARCH GLOBAL
                COPY --from=build /a.txt /a.txt
                LABEL target=$TARGETPLATFORM os=$TARGETOS arch=$TARGETARCH variant=$TARGETVARIANT build=$BUILDARCH \\
                      global=$GLOBAL
                """.lines().toArray(String[]::new));
        assertThat(r.manifest().mediaType()).isEqualTo(MediaType.OCI_INDEX);
        try (ImageStore store = f.home.openStore()) {
            assertThat(store.resolve(Reference.parse("multi:1")).orElseThrow().digest()).isEqualTo(r.digest());
            ImageIndex index = store.readIndex(r.manifest(), "built").value();
            assertThat(index.manifests()).extracting(d -> d.platform().orElseThrow().toString())
                    .containsExactly("linux/amd64", "linux/arm64", "linux/arm/v7");
            for (Platform p : List.of(AMD64, ARM64, ARMV7)) {
                Image image = store.image(r.manifest(), p, "built");
                ImageConfig config = image.config().value();
                assertThat(config.platform().toString()).isEqualTo(p.toString());
                assertThat(config.containerConfig().labels()).containsEntry("target", p.toString())
                        .containsEntry("os", "linux").containsEntry("arch", p.architecture())
                        .containsEntry("variant", p.variant().orElse(""))
                        .containsEntry("build", Platform.host().architecture())
                        .containsEntry("global", "global-" + p.architecture());
                // the COPY of the shared stage's file is the same layer for every platform
                assertThat(config.rootfs().diffIds()).isEqualTo(store.image(r.manifest(), AMD64, "built").config()
                        .value().rootfs().diffIds());
            }
        }
        // the build stage is built by the first platform's build and reused by the others
        List<String> labels = r.steps().stream().filter(BuildEvent.StepDone::cached).map(s -> s.step().label()).toList();
        assertThat(labels).contains("[linux/arm64 build 3/8] COPY a.txt /a.txt", "[linux/arm/v7 build 3/8] COPY a.txt /a.txt")
                .noneMatch(l -> l.startsWith("[linux/amd64"));
        assertThat(r.steps()).hasSize(24);
    }

    @Test
    void aDockerArchiveOfSeveralPlatformsHoldsThisMachinesAndSaysSo() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        Path archive = tmp.resolve("app.tar");
        Path layout = tmp.resolve("layout");
        BuildResult r = build(f, o -> o.platform(ARM64).platform(Platform.host()).tag("app:1")
                .output(new BuildOutput.DockerArchive(archive)).output(new BuildOutput.OciLayout(layout)),
                "FROM scratch", "ARG TARGETARCH", "LABEL arch=$TARGETARCH");
        assertThat(f.events).contains(new BuildEvent.Note("wrote docker-archive " + archive + " (" + Platform.host()
                + " only: a docker-archive holds one platform)"));
        String manifestJson = null;
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(java.nio.file.Files.newInputStream(archive))) {
            for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.getName().equals("manifest.json")) {
                    manifestJson = new String(tar.readAllBytes());
                }
            }
        }
        try (ImageStore store = f.home.openStore(); ImageStore oci = ImageStore.open(layout)) {
            assertThat(manifestJson).contains(store.image(r.manifest(), Platform.host(), "built").config().digest().hex());
            assertThat(oci.resolve(Reference.parse("app:1")).orElseThrow().digest()).isEqualTo(r.digest());
            assertThat(oci.image(Reference.parse("app:1"), ARM64).config().value().containerConfig().labels())
                    .containsEntry("arch", "arm64");
        }
    }

    @Test
    void oneValueBuildsAnImageNotAnIndex() {
        BuildFixture f = new BuildFixture(tmp);
        BuildResult r = build(f, o -> o.platform(ARM64), "FROM scratch", "ARG TARGETARCH", "LABEL arch=$TARGETARCH");
        assertThat(r.manifest().mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
        assertThat(f.container(r).labels()).containsEntry("arch", "arm64");
    }

    @Test
    void aBaseIsResolvedPerPlatformFromItsIndex() {
        BuildFixture f = new BuildFixture(tmp);
        try (ImageStore store = f.home.openStore()) {
            Descriptor amd = image(store, AMD64, "amd64 file");
            Descriptor arm = image(store, ARM64, "arm64 file");
            Descriptor index = store.put(Document.of(ImageIndex.of(MediaType.OCI_INDEX,
                    List.of(amd.withPlatform(Optional.of(AMD64)), arm.withPlatform(Optional.of(ARM64)))), MediaType.OCI_INDEX));
            store.tag(Reference.parse("base:multi"), index);
            store.tag(Reference.parse("base:amd64"), amd);
        }
        BuildResult r = build(f, o -> o.platform(AMD64).platform(ARM64), "FROM base:multi", "LABEL x=1");
        try (ImageStore store = f.home.openStore()) {
            for (Platform p : List.of(AMD64, ARM64)) {
                Image built = store.image(r.manifest(), p, "built");
                assertThat(built.diffIds()).isEqualTo(store.image(Reference.parse("base:multi"), p).diffIds());
                assertThat(built.manifest().value().annotations()).containsEntry("org.opencontainers.image.base.digest",
                        store.image(Reference.parse("base:multi"), p).digest().toString());
            }
        }
        f.dockerfile("FROM base:amd64", "LABEL x=1");
        assertThatThrownBy(() -> f.build(o -> o.platform(AMD64).platform(ARM64)))
                .hasMessage("Dockerfile:1: image base:amd64 is for linux/amd64, not linux/arm64");
        assertThat(f.events).noneMatch(e -> e instanceof BuildEvent.StepStarted);
        f.dockerfile("FROM base:multi", "LABEL x=1");
        assertThatThrownBy(() -> f.build(o -> o.platform(AMD64).platform(ARMV7)))
                .hasMessage("Dockerfile:1: base:multi: no image for platform linux/arm/v7; the index has linux/amd64, "
                        + "linux/arm64");
        assertThat(f.events).noneMatch(e -> e instanceof BuildEvent.StepStarted);
    }

    @Test
    void unknownPlatformsAreRefused() {
        assertThatThrownBy(() -> Platforms.parse("linux/arm65", "--platform linux/arm65"))
                .hasMessageStartingWith("--platform linux/arm65: unknown architecture \"arm65\" in \"linux/arm65\" (known: amd64");
        assertThatThrownBy(() -> Platforms.parse("linx/amd64", "--platform linx/amd64"))
                .hasMessage("--platform linx/amd64: unknown operating system \"linx\" in \"linx/amd64\"");
        // one part, as containerd reads it: an os is this machine's architecture on it
        assertThat(Platforms.parse("linux", "--platform linux")).isEqualTo(dev.berth.layers.Platform.host());
        assertThat(Platforms.parse("arm64", "x")).isEqualTo(ARM64);
        BuildFixture f = new BuildFixture(tmp);
        assertThatThrownBy(() -> f.build("FROM --platform=linux/arm65 scratch", "LABEL a=1"))
                .hasMessageStartingWith("Dockerfile:1: FROM --platform=linux/arm65: unknown architecture \"arm65\"");
    }

    @Test
    void aRunForAnArchitectureWithoutEmulationIsRefusedBeforeAnythingIsBuilt() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM --platform=$BUILDPLATFORM scratch AS tools", "COPY Dockerfile /", "FROM scratch",
                "COPY --from=tools /Dockerfile /", "RUN true");
        StepRunner noEmulation = new StepRunner() {
            @Override
            public Optional<String> unavailable() {
                return Optional.empty();
            }

            @Override
            public Optional<String> unavailable(Platform platform) {
                return platform.equals(Platform.host()) ? Optional.empty()
                        : Optional.of("no emulation here (install qemu-user-static)");
            }

            @Override
            public Changes run(Step step, Consumer<String> output) {
                throw new AssertionError("nothing runs");
            }
        };
        List<BuildEvent> events = new java.util.ArrayList<>();
        BuildRequest request = f.request().platform(Platform.host()).platform(Platform.parse("linux/riscv64")).build();
        assertThatThrownBy(() -> Builder.create(f.home).withStepRunner(noEmulation).build(request, events::add))
                .hasMessage("Dockerfile:5: RUN for linux/riscv64: no emulation here (install qemu-user-static)");
        assertThat(events).noneMatch(e -> e instanceof BuildEvent.StepStarted);
        // COPY-only stages need no emulation
        f.dockerfile("FROM --platform=$BUILDPLATFORM scratch AS tools", "COPY Dockerfile /x", "FROM scratch",
                "COPY --from=tools /x /");
        BuildResult copied = Builder.create(f.home).withStepRunner(noEmulation)
                .build(f.request().platform(Platform.parse("linux/riscv64")).build(), e -> {});
        assertThat(f.config(copied).architecture()).isEqualTo("riscv64");
    }

    private static BuildResult build(BuildFixture f, java.util.function.UnaryOperator<BuildRequest.Builder> options,
                                     String... lines) {
        f.dockerfile(lines);
        return f.build(options);
    }

    /** An image for {@code platform} with one file, in the store; its manifest's descriptor. */
    private static Descriptor image(ImageStore store, Platform platform, String content) {
        try {
            LayerWriter.Result layer = LayerWriter.create().add(new LayerEntry.Content(LayerPath.of("file"),
                    content.getBytes(), LayerEntry.Attributes.DEFAULT)).write(store, new dev.berth.layers.Compression.Gzip(1, 1), false);
            Document<ImageConfig> config = Document.of(ImageConfig.empty(platform).withContainerConfig(ContainerConfig.EMPTY)
                    .withLayer(layer.diffId(), ImageConfig.History.of(Optional.empty(), "base", Optional.empty())),
                    MediaType.OCI_CONFIG);
            store.put(config);
            return store.put(Document.of(Manifest.of(MediaType.OCI_MANIFEST, config.descriptor(), List.of(layer.blob()),
                    Map.of()), MediaType.OCI_MANIFEST));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
