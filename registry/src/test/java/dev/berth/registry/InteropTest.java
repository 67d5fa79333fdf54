package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import dev.berth.registry.testing.Tools;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * berth against tools no one here wrote, on the real registry: skopeo pushes and berth pulls (same
 * digests), berth pushes and skopeo reads and copies, skopeo pushes a multi-platform index (OCI and Docker
 * list) and berth picks the platform, and jib-core builds on an image berth pushed.
 */
class InteropTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static Path skopeo;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        skopeo = Tools.require("skopeo", "skopeo");
        registry = LocalRegistry.open(shared.resolve("registry"));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private Reference ref(String s) {
        return Reference.parse(registry.host() + "/" + s);
    }

    private Tools.Result skopeo(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(skopeo.toString(), "--insecure-policy"));
        cmd.addAll(List.of(args));
        return Tools.run(cmd, tmp, 300).orThrow("skopeo " + String.join(" ", args));
    }

    private static Digest sha256(String raw) {
        return Digest.sha256(raw.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void whatSkopeoPushedBerthPullsWithTheSameDigests() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            Reference local = Reference.parse("fromskopeo:1");
            Descriptor made = TestImages.create(source, local, AMD64, 1, 400_000, 30_000);
            source.close();
            skopeo("copy", "--dest-tls-verify=false", "oci:" + source.root() + ":" + local,
                    "docker://" + registry.host() + "/skopeo/pushed:1");
            Digest remote = sha256(skopeo("inspect", "--raw", "--tls-verify=false",
                    "docker://" + registry.host() + "/skopeo/pushed:1").stdout());

            PullResult r = client.pull(target, ref("skopeo/pushed:1"), PullOptions.defaults());
            assertThat(r.digest()).isEqualTo(remote).isEqualTo(made.digest());
            Image image = target.image(ref("skopeo/pushed:1"), AMD64);
            assertThat(image.layers()).hasSize(2);
            for (Descriptor l : image.layers()) {
                try (InputStream in = target.open(l, "test")) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
            }
        }
    }

    @Test
    void whatBerthPushedSkopeoInspectsAndCopies() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            Reference local = Reference.parse("fromberth:1");
            Descriptor made = TestImages.create(source, local, AMD64, 2, 300_000, 10);
            client.push(source, local, ref("berth/pushed:1"), PushOptions.defaults());

            String raw = skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + registry.host() + "/berth/pushed:1").stdout();
            assertThat(raw.getBytes(StandardCharsets.UTF_8)).isEqualTo(source.readBytes(made, "test"));
            JsonNode inspect = Json.mapper().readTree(skopeo("inspect", "--tls-verify=false",
                    "docker://" + registry.host() + "/berth/pushed:1").stdout());
            assertThat(inspect.path("Digest").asText()).isEqualTo(made.digest().toString());
            assertThat(inspect.path("Layers").size()).isEqualTo(2);
            assertThat(inspect.path("Architecture").asText()).isEqualTo("amd64");

            Path copy = tmp.resolve("copy");
            skopeo("copy", "--src-tls-verify=false", "docker://" + registry.host() + "/berth/pushed:1", "oci:" + copy + ":x");
            ImageIndex layout = Json.read(Files.readAllBytes(copy.resolve("index.json")), ImageIndex.class, "index.json");
            assertThat(layout.manifests().getFirst().digest()).isEqualTo(made.digest());
        }
    }

    @Test
    void aMultiPlatformIndexSkopeoPushedGivesTheRightPlatform() throws Exception {
        List<Platform> platforms = List.of(AMD64, Platform.parse("linux/arm64"), Platform.parse("linux/arm/v7"));
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            Reference local = Reference.parse("multi:1");
            TestImages.createIndex(source, local, platforms, true, 3, 20_000);
            source.close();
            skopeo("copy", "--all", "--dest-tls-verify=false", "oci:" + source.root() + ":" + local,
                    "docker://" + registry.host() + "/skopeo/multi:oci");
            skopeo("copy", "--all", "--format", "v2s2", "--dest-tls-verify=false", "oci:" + source.root() + ":" + local,
                    "docker://" + registry.host() + "/skopeo/multi:docker");

            for (String tag : List.of("oci", "docker")) {
                String raw = skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + registry.host() + "/skopeo/multi:" + tag).stdout();
                ImageIndex index = Json.read(raw.getBytes(StandardCharsets.UTF_8), ImageIndex.class, "index");
                assertThat(index.mediaType()).contains(tag.equals("oci") ? MediaType.OCI_INDEX : MediaType.DOCKER_MANIFEST_LIST);
                Descriptor arm64 = index.manifests().stream()
                        .filter(d -> d.platform().map(p -> p.toString().equals("linux/arm64")).orElse(false)).findFirst().orElseThrow();
                PullResult r = client.pull(target, ref("skopeo/multi:" + tag),
                        PullOptions.defaults().withPlatform(Platform.parse("linux/arm64")));
                assertThat(r.digest()).isEqualTo(sha256(raw));
                assertThat(r.image().digest()).isEqualTo(arm64.digest());
                assertThat(target.image(ref("skopeo/multi:" + tag), AMD64).platform().architecture()).isEqualTo("arm64");
            }
        }
    }

    @Test
    void jibBuildsOnAnImageBerthPushedAndBerthReadsTheResult() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            Reference local = Reference.parse("jibbase:1");
            TestImages.create(source, local, AMD64, 4, 100_000, 5000);
            client.push(source, local, ref("berth/jibbase:1"), PushOptions.defaults());
            Image base = source.image(local, AMD64);

            Path app = tmp.resolve("hello.txt");
            Files.writeString(app, "hello from jib\n");
            JibContainer built = Jib.from(RegistryImage.named(registry.host() + "/berth/jibbase:1"))
                    .addLayer(List.of(app), AbsoluteUnixPath.get("/app"))
                    .containerize(Containerizer.to(RegistryImage.named(registry.host() + "/jib/built:1"))
                            .setAllowInsecureRegistries(true)
                            .setBaseImageLayersCache(tmp.resolve("jib-cache"))
                            .setApplicationLayersCache(tmp.resolve("jib-app-cache"))
                            .setToolName("berth-test"));

            PullResult r = client.pull(target, ref("jib/built:1"), PullOptions.defaults());
            assertThat(r.digest().toString()).isEqualTo(built.getDigest().toString());
            Image image = target.image(ref("jib/built:1"), AMD64);
            assertThat(image.layers()).hasSize(base.layers().size() + 1);
            assertThat(image.layers().subList(0, base.layers().size())).extracting(Descriptor::digest)
                    .containsExactlyElementsOf(base.layers().stream().map(Descriptor::digest).toList());
            assertThat(image.diffIds().subList(0, base.diffIds().size())).isEqualTo(base.diffIds());
            String content = null;
            try (InputStream in = target.open(image.layers().getLast(), "test");
                 TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(in))) {
                for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                    if (e.getName().endsWith("app/hello.txt")) {
                        content = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
                    }
                }
            }
            assertThat(content).isEqualTo("hello from jib\n");
        }
    }
}
