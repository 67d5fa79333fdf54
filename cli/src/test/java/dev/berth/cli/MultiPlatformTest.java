package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Busybox;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import dev.berth.runtime.Emulation;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth build --platform a,b} and {@code berth run --platform} end to end, foreign programs under
 * QEMU user emulation (qemu-user-static, its binfmt_misc handlers registered with the F flag: registered
 * here when the machine has not, as scripts/test does). The foreign base is Debian's busybox-static for
 * arm64, from its .deb. Needs root, gcc, aarch64-linux-gnu-gcc, skopeo and dpkg; in CI their absence fails.
 */
class MultiPlatformTest {
    private static final Platform ARM64 = Platform.parse("linux/arm64");
    private static final Path BASES = Path.of(System.getProperty("user.dir"), "target", "test-bases");

    @TempDir
    Path tmp;

    @BeforeAll
    static void emulation() {
        Tools.requireRoot();
        Tools.require("qemu-aarch64-static");
        Path binfmt = Path.of("/proc/sys/fs/binfmt_misc");
        if (!Files.exists(binfmt.resolve("status"))) {
            Tools.run("mount", "-t", "binfmt_misc", "binfmt_misc", binfmt.toString());
        }
        if (!Files.exists(binfmt.resolve("qemu-aarch64"))) {
            Tools.run("sh", "-c", "grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > " + binfmt.resolve("register")).ok();
        }
        assertThat(Emulation.missing(ARM64)).as("QEMU for arm64").isEmpty();
    }

    private static Tools.Result berth(Path home, String... args) {
        return Tools.run(new ArrayList<>(Jvm.command(Berth.class, args)), Map.of("BERTH_HOME", home.toString()), null);
    }

    @Test
    void aStaticProgramCrossCompiledForTwoPlatformsIsOneIndexThatRunsOnBoth() throws Exception {
        Path gcc = Tools.require("gcc");
        Path cross = Tools.require("aarch64-linux-gnu-gcc");
        Path skopeo = Tools.require("skopeo");
        Path home = TestBases.busybox("multi-platform-cross");
        Path ctx = Files.createDirectories(tmp.resolve("ctx/out"));
        Path src = tmp.resolve("hello.c");
        Files.writeString(src, """
                #include <stdio.h>
                #include <sys/utsname.h>
                int main(void) {
                    struct utsname u;
                    uname(&u);
                #ifdef __aarch64__
                    printf("hello from aarch64 on %s\\n", u.machine);
                #else
                    printf("hello from x86_64 on %s\\n", u.machine);
                #endif
                    return 0;
                }
                """);
        Tools.run(gcc.toString(), "-static", "-O2", "-o", ctx.resolve("hello-amd64").toString(), src.toString()).ok();
        Tools.run(cross.toString(), "-static", "-O2", "-o", ctx.resolve("hello-arm64").toString(), src.toString()).ok();
        // the RUN of the build stage runs natively; only the final stage takes the target platform
        Files.writeString(tmp.resolve("ctx/Dockerfile"), """
                FROM --platform=$BUILDPLATFORM busybox:test AS build
                ARG TARGETARCH
                COPY out/ /out/
                RUN cp /out/hello-$TARGETARCH /hello && uname -m > /built-on
                FROM scratch
                COPY --from=build /hello /built-on /
                ENTRYPOINT ["/hello"]
                """);
        Path layout = tmp.resolve("layout");
        Tools.Result built = berth(home, "build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64",
                "-t", "hello:multi", tmp.resolve("ctx").toString()).ok();
        assertThat(built.stderr()).contains("[linux/arm64 build 4/7] RUN cp /out/hello-$TARGETARCH /hello");
        berth(home, "build", "-q", "--platform", "linux/amd64,linux/arm64", "-t", "hello:multi", "-o", "oci:" + layout,
                tmp.resolve("ctx").toString()).ok();
        try (ImageStore store = new BerthHome(home).openStore()) {
            Descriptor d = store.resolve(Reference.parse("hello:multi")).orElseThrow();
            assertThat(d.mediaType()).isEqualTo(MediaType.OCI_INDEX);
            ImageIndex index = store.readIndex(d, "hello:multi").value();
            assertThat(index.manifests()).extracting(m -> m.platform().orElseThrow().toString())
                    .containsExactly("linux/amd64", "linux/arm64");
            Image arm = store.image(d, ARM64, "hello:multi");
            assertThat(arm.config().value().platform()).isEqualTo(ARM64);
            Map<String, byte[]> files = files(store.blobs("layer").open(arm.layers().getFirst()));
            assertThat(elfMachine(files.get("hello"))).isEqualTo(183); // EM_AARCH64
            assertThat(new String(files.get("built-on"))).isEqualTo("x86_64\n");
        }
        // skopeo, as an oracle, picks the arm64 image from the layout's index
        Path copied = tmp.resolve("arm64-dir");
        Tools.run(skopeo.toString(), "--override-arch", "arm64", "copy", "oci:" + layout + ":docker.io/library/hello:multi",
                "dir:" + copied).ok();
        Manifest m = Document.parse(Files.readAllBytes(copied.resolve("manifest.json")), Manifest.class,
                MediaType.OCI_MANIFEST, "skopeo's copy").value();
        Map<String, byte[]> files = files(Files.newInputStream(copied.resolve(m.layers().getFirst().digest().hex())));
        assertThat(elfMachine(files.get("hello"))).isEqualTo(183);
        pushedIndexReadsAsTwoPlatforms(home, skopeo);
        assertThat(berth(home, "run", "--rm", "hello:multi").ok().stdout()).isEqualTo("hello from x86_64 on x86_64\n");
        assertThat(berth(home, "run", "--rm", "--platform", "linux/arm64", "hello:multi").ok().stdout())
                .isEqualTo("hello from aarch64 on aarch64\n");
        // started again, a container runs the image it ran, not this machine's of the same name
        assertThat(berth(home, "run", "--name", "arm-again", "--platform", "linux/arm64", "hello:multi").ok().stdout())
                .isEqualTo("hello from aarch64 on aarch64\n");
        assertThat(berth(home, "start", "-a", "arm-again").ok().stdout()).isEqualTo("hello from aarch64 on aarch64\n");
        berth(home, "rm", "arm-again").ok();
    }

    /**
     * The same build with {@code --push} to a registry: skopeo sees an index of the two platforms, and its
     * arm64 image, copied by skopeo and unpacked by umoci, holds the arm64 program.
     */
    private void pushedIndexReadsAsTwoPlatforms(Path home, Path skopeo) throws Exception {
        Path umoci = Tools.require("umoci");
        try (dev.berth.registry.testing.LocalRegistry registry = dev.berth.registry.testing.LocalRegistry.open(
                tmp.resolve("registry"))) {
            String name = registry.host() + "/team/hello:multi";
            berth(home, "build", "-q", "--platform", "linux/amd64,linux/arm64", "--push", "-t", name,
                    tmp.resolve("ctx").toString()).ok();
            com.fasterxml.jackson.databind.JsonNode raw = dev.berth.layers.Json.mapper().readTree(Tools.run(
                    skopeo.toString(), "inspect", "--raw", "--tls-verify=false", "docker://" + name).ok().stdout());
            assertThat(raw.get("mediaType").asText()).isEqualTo(MediaType.OCI_INDEX.toString());
            List<String> platforms = new ArrayList<>();
            raw.get("manifests").forEach(m -> platforms.add(m.get("platform").get("os").asText() + "/"
                    + m.get("platform").get("architecture").asText()));
            assertThat(platforms).containsExactly("linux/amd64", "linux/arm64");
            Path oci = tmp.resolve("pushed-arm64");
            Tools.run(skopeo.toString(), "--override-arch", "arm64", "copy", "--src-tls-verify=false",
                    "docker://" + name, "oci:" + oci + ":arm64").ok();
            Path bundle = tmp.resolve("pushed-arm64-bundle");
            Tools.run(umoci.toString(), "unpack", "--image", oci + ":arm64", bundle.toString()).ok();
            assertThat(elfMachine(Files.readAllBytes(bundle.resolve("rootfs/hello")))).isEqualTo(183);
        }
    }

    @Test
    void aRunOnAnArm64BaseRunsUnderEmulation() throws Exception {
        Path home = TestBases.freshHome("multi-platform-arm64");
        try (ImageStore store = new BerthHome(home).openStore()) {
            LayerWriter.Result layer = Busybox.layer(arm64Busybox()).write(store, Compression.defaultGzip(), false);
            Document<ImageConfig> config = Document.of(ImageConfig.empty(ARM64)
                    .withContainerConfig(Busybox.config(Optional.of(List.of("sh"))))
                    .withLayer(layer.diffId(), ImageConfig.History.of(Optional.empty(), "busybox arm64", Optional.empty())),
                    MediaType.OCI_CONFIG);
            store.put(config);
            store.tag(Reference.parse("busybox-arm64:test"), store.put(Document.of(Manifest.of(MediaType.OCI_MANIFEST,
                    config.descriptor(), List.of(layer.blob()), Map.of()), MediaType.OCI_MANIFEST)));
        }
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox-arm64:test\nRUN uname -m > /arch\n");
        berth(home, "build", "--platform", "linux/arm64", "-t", "arch:arm64", ctx.toString()).ok();
        try (ImageStore store = new BerthHome(home).openStore()) {
            Image image = store.image(Reference.parse("arch:arm64"), ARM64);
            assertThat(image.manifest().mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
            assertThat(image.platform()).isEqualTo(ARM64);
            Map<String, byte[]> files = files(store.blobs("layer").open(image.layers().getLast()));
            assertThat(new String(files.get("arch"))).isEqualTo("aarch64\n");
        }
        assertThat(berth(home, "run", "--rm", "arch:arm64", "cat", "/arch").ok().stdout()).isEqualTo("aarch64\n");
        // bad input: a base without the wanted platform, an unknown platform
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox-arm64:test\nRUN true\n");
        Tools.Result mixed = berth(home, "build", "--platform", "linux/amd64,linux/arm64", ctx.toString());
        assertThat(mixed.exitCode()).isEqualTo(1);
        assertThat(mixed.stderr()).isEqualTo("berth: Dockerfile:1: image busybox-arm64:test is for linux/arm64, not "
                + "linux/amd64\n");
        Tools.Result unknown = berth(home, "build", "--platform", "linux/amd64,linux/arm65", ctx.toString());
        assertThat(unknown.stderr()).startsWith("berth: --platform linux/amd64,linux/arm65: unknown architecture \"arm65\" "
                + "in \"linux/arm65\" (known: amd64, arm64, ");
        Tools.Result run = berth(home, "run", "--rm", "--platform", "linux/amd64", "arch:arm64");
        assertThat(run.exitCode()).isEqualTo(125);
        assertThat(run.stderr()).isEqualTo("berth: run arch:arm64: image arch:arm64 is for linux/arm64, not linux/amd64\n");
    }

    /** Debian's busybox-static for arm64, from its .deb (fetched once, kept under target/). */
    private static synchronized Path arm64Busybox() throws Exception {
        Path dir = BASES.resolve("busybox-arm64");
        Path busybox = dir.resolve("bin/busybox");
        if (Files.isRegularFile(busybox)) {
            return busybox;
        }
        Path debs = Files.createDirectories(BASES.resolve("debs"));
        Tools.run("dpkg", "--add-architecture", "arm64").ok();
        List<String> download = List.of("sh", "-c", "cd " + debs + " && apt-get download busybox-static:arm64");
        if (Tools.run(download).exitCode() != 0) {
            Tools.run("apt-get", "update", "-q").ok(); // the arm64 package lists, once
            Tools.run(download).ok();
        }
        Path deb;
        try (var found = Files.list(debs)) {
            deb = found.filter(p -> p.getFileName().toString().matches("busybox-static_.*_arm64\\.deb")).findFirst().orElseThrow();
        }
        Path partial = BASES.resolve("busybox-arm64.part");
        Tools.run("rm", "-rf", partial.toString()).ok();
        Tools.run("dpkg-deb", "-x", deb.toString(), partial.toString()).ok();
        Files.move(partial, dir);
        return busybox;
    }

    /** The regular files of a gzip'd layer, by path without a leading {@code ./} or {@code /}. */
    private static Map<String, byte[]> files(InputStream blob) throws Exception {
        Map<String, byte[]> out = new HashMap<>();
        try (InputStream in = blob; var tar = new TarArchiveInputStream(new java.util.zip.GZIPInputStream(in))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile()) {
                    out.put(e.getName().replaceFirst("^\\./|^/", ""), tar.readAllBytes());
                }
            }
        }
        return out;
    }

    /** An ELF file's e_machine (little-endian). */
    private static int elfMachine(byte[] elf) {
        assertThat(elf).startsWith(0x7f, 'E', 'L', 'F');
        return (elf[18] & 0xff) | (elf[19] & 0xff) << 8;
    }
}
