package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.layers.Json;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import dev.berth.registry.testing.LocalRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The interop matrix, one direction per test: what skopeo, umoci, podman and buildah write (docker-archive,
 * OCI archive, OCI layout directory, Docker's and OCI's media types, zstd layers, non-distributable layers,
 * 100 layers) is what berth loads, runs, inspects and pushes; and berth's store and archives are what buildah
 * and podman run. The directions tested elsewhere are not repeated: berth's store and archives read by
 * skopeo and umoci ({@code layers} InteropTest), pushes and pulls against skopeo and jib ({@code registry}
 * InteropTest), berth's OCI output unpacked by umoci and run by runc ({@code builder} InteropTest),
 * {@code berth bundle} under runc (BundleTest), podman load of {@code berth save} (StoreCommandsTest).
 *
 * <p>One image made by the peers is the start of every peer direction: busybox (copied out of berth's store
 * by skopeo) with a file {@code /msg} that umoci inserts and a {@code CMD cat /msg} that umoci sets.
 */
class InteropMatrixTest {
    @TempDir
    static Path tmp;
    static Path home;
    static Path peer;
    static LocalRegistry registry;
    static List<String> podman;
    static List<String> buildah;

    @BeforeAll
    static void fixtures() {
        home = TestBases.busybox("interop-matrix");
        registry = LocalRegistry.openAllowingLayerUrls(tmp.resolve("registry"));
        String storage = "[vfs@" + tmp.resolve("storage") + "+" + tmp.resolve("runroot") + "]";
        podman = List.of(Tools.require("podman").toString(), "--root", tmp.resolve("storage").toString(), "--runroot",
                tmp.resolve("runroot").toString(), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file");
        buildah = List.of(Tools.require("buildah").toString(), "--root", tmp.resolve("storage").toString(),
                "--runroot", tmp.resolve("runroot").toString(), "--storage-driver", "vfs");
        peer = tmp.resolve("peer");
        peer("skopeo", "copy", "-q", "oci:" + home.resolve("store") + ":docker.io/library/busybox:test",
                "oci:" + peer + ":base");
        Path msg = write(tmp.resolve("msg"), "made by umoci\n");
        peer("skopeo", "copy", "-q", "oci:" + peer + ":base", "oci:" + peer + ":app");
        peer("umoci", "insert", "--image", peer + ":app", msg.toString(), "/msg");
        peer("umoci", "config", "--image", peer + ":app", "--config.cmd", "cat", "--config.cmd", "/msg");
        peer("skopeo", "copy", "-q", "oci:" + peer + ":app", "containers-storage:" + storage + "localhost/peer:1");
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
    }

    // ------------------------------------------------------------------ berth -> peers

    @Test
    void buildahRunsAnImageOfBerthsStore() {
        String ctr = buildah("from", "-q", "oci:" + home.resolve("store") + ":docker.io/library/busybox:test")
                .stdout().strip();
        try {
            String theirs = buildah("run", ctr, "--", "sh", "-c", "cat /etc/group; echo $FROM_IMAGE").stdout();
            assertThat(theirs).contains("extra:x:2000:app").endsWith("yes\n")
                    .isEqualTo(run("busybox:test", "sh", "-c", "cat /etc/group; echo $FROM_IMAGE"));
        } finally {
            buildah("rm", ctr);
        }
    }

    @Test
    void podmanRunsWhatBerthSavesAndPrintsWhatBerthRunPrints() {
        Path archive = tmp.resolve("berth-saved.tar");
        CliRun.berth(home, "save", "-o", archive.toString(), "busybox:test").ok();
        podman("load", "-q", "-i", archive.toString());
        // not `id`'s groups: podman gives root no supplementary groups, docker (and berth) give it its gid
        String script = "id -u; id -g; echo $PATH; ls /bin/busybox";
        String theirs = podman("run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit",
                "nproc=1024:1024", "docker.io/library/busybox:test", "sh", "-c", script).stdout();
        assertThat(theirs).startsWith("0\n0\n").isEqualTo(run("busybox:test", "sh", "-c", script));
    }

    // ------------------------------------------------------------------ peers -> berth

    @ParameterizedTest
    @ValueSource(strings = {"docker-archive", "oci-archive", "oci-dir"})
    void whatPodmanSavesBerthLoadsAndRuns(String format) throws IOException {
        Path out = tmp.resolve("podman-" + format);
        podman("save", "-q", "--format", format, "-o", out.toString(), "localhost/peer:1");
        Path h = freshHome("podman-" + format);
        assertThat(CliRun.berth(h, "load", "-i", out.toString()).ok().out()).isEqualTo("Loaded image: localhost/peer:1\n");
        assertThat(run(h, "localhost/peer:1")).isEqualTo("made by umoci\n");
        assertThat(CliRun.berth(h, "inspect", "localhost/peer:1").ok().out()).contains("Cmd:          [ \"cat\", \"/msg\" ]");
        pushAndCompare(h, "localhost/peer:1", "podman/" + format + ":1");
    }

    @Test
    void whatBuildahPushesToAnOciDirAndADockerArchiveBerthLoadsAndRuns() {
        String ctr = buildah("from", "-q", "oci:" + peer + ":app").stdout().strip();
        buildah("run", ctr, "--", "sh", "-c", "echo made by buildah > /msg");
        buildah("commit", "-q", ctr, "localhost/frombuildah:1");
        buildah("rm", ctr);
        Path dir = tmp.resolve("buildah-oci");
        Path archive = tmp.resolve("buildah.tar");
        buildah("push", "-q", "localhost/frombuildah:1", "oci:" + dir + ":localhost/frombuildah:1");
        buildah("push", "-q", "localhost/frombuildah:1", "docker-archive:" + archive + ":localhost/frombuildah:1");
        for (Path artifact : List.of(dir, archive)) {
            Path h = freshHome("buildah-" + artifact.getFileName());
            assertThat(CliRun.berth(h, "load", "-i", artifact.toString()).ok().out())
                    .isEqualTo("Loaded image: localhost/frombuildah:1\n");
            assertThat(run(h, "localhost/frombuildah:1")).isEqualTo("made by buildah\n");
        }
    }

    @Test
    void umocisLayoutDirectoryBerthLoadsRunsAndPushes() {
        Path h = freshHome("umoci");
        // umoci names images by bare tags, which berth loads unnamed: run and tag them by id, as docker does
        String loaded = CliRun.berth(h, "load", "-i", peer.toString()).ok().out();
        assertThat(loaded.lines()).hasSize(2).allMatch(l -> l.startsWith("Loaded image: sha256:"));
        String app = digestOf(peer, "app");
        assertThat(loaded).contains("Loaded image: " + app);
        assertThat(run(h, app.substring(7, 19))).isEqualTo("made by umoci\n");
        CliRun.berth(h, "tag", app.substring(7, 19), "umoci/app:1").ok();
        assertThat(CliRun.berth(h, "inspect", "umoci/app:1").ok().out()).contains("Digest:       " + app);
        assertThat(pushAndCompare(h, "umoci/app:1", "umoci/app:1")).isEqualTo(app);
    }

    /** skopeo's two manifest families in an OCI archive: berth keeps each manifest's bytes, so its digest. */
    @ParameterizedTest
    @ValueSource(strings = {"v2s2", "oci"})
    void bothMediaTypeFamiliesLoadRunAndPushWithTheirDigests(String format) throws IOException {
        Path archive = tmp.resolve("skopeo-" + format + ".tar");
        peer("skopeo", "copy", "-q", "--format", format, "oci:" + peer + ":app",
                "oci-archive:" + archive + ":example.com/skopeo/" + format + ":1");
        Path h = freshHome("skopeo-" + format);
        CliRun.berth(h, "load", "-i", archive.toString()).ok();
        String name = "example.com/skopeo/" + format + ":1";
        JsonNode inspect = inspectJson(h, name);
        assertThat(inspect.get("Manifest").get("layers").get(0).get("mediaType").asText()).isEqualTo(format.equals("oci")
                ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.docker.image.rootfs.diff.tar.gzip");
        assertThat(run(h, name)).isEqualTo("made by umoci\n");
        String pushed = pushAndCompare(h, name, "skopeo/" + format + ":1");
        assertThat(pushed).isEqualTo(inspect.get("Digest").asText());
        JsonNode raw = Json.mapper().readTree(peer("skopeo", "inspect", "--raw", "--tls-verify=false",
                "docker://" + registry.host() + "/skopeo/" + format + ":1").stdout());
        assertThat(raw.get("config").get("mediaType").asText()).contains(format.equals("oci") ? ".oci." : ".docker.");
    }

    @Test
    void zstdLayersSkopeoWroteBerthLoadsRunsAndPushes() throws IOException {
        Path archive = tmp.resolve("zstd.tar");
        peer("skopeo", "copy", "-q", "--dest-compress-format", "zstd", "oci:" + peer + ":app",
                "oci-archive:" + archive + ":example.com/zstd/app:1");
        Path h = freshHome("zstd");
        CliRun.berth(h, "load", "-i", archive.toString()).ok();
        JsonNode layers = inspectJson(h, "example.com/zstd/app:1").get("Manifest").get("layers");
        assertThat(layers).hasSize(2).allMatch(l -> l.get("mediaType").asText().equals("application/vnd.oci.image.layer.v1.tar+zstd"));
        assertThat(run(h, "example.com/zstd/app:1")).isEqualTo("made by umoci\n");
        pushAndCompare(h, "example.com/zstd/app:1", "zstd/app:1");
        // what berth pushed, skopeo copies back as it is (umoci 0.4 unpacks no zstd), and it runs again
        Path back = tmp.resolve("zstd-back");
        peer("skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + registry.host() + "/zstd/app:1",
                "oci:" + back + ":example.com/zstd/back:1");
        Path again = freshHome("zstd-back");
        CliRun.berth(again, "load", "-i", back.toString()).ok();
        assertThat(inspectJson(again, "example.com/zstd/back:1").get("Manifest").get("layers")).isEqualTo(layers);
        assertThat(run(again, "example.com/zstd/back:1")).isEqualTo("made by umoci\n");
    }

    /**
     * Non-distributable layers, blob present: berth loads and runs them. On push it does what docker and
     * skopeo do: a layer whose descriptor has {@code urls} is left where they point (not uploaded; the
     * registry takes the manifest without it), one without urls has no other source and is uploaded.
     */
    @ParameterizedTest
    @ValueSource(strings = {"oci", "oci-urls", "docker-urls"})
    void nonDistributableLayersLoadRunAndPushAsDockerPushesThem(String kind) throws IOException {
        boolean docker = kind.startsWith("docker");
        boolean urls = kind.endsWith("urls");
        Path layout = nonDistributable(kind, docker ? "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
                : "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", urls, docker);
        Path h = freshHome("nondistributable-" + kind);
        assertThat(CliRun.berth(h, "load", "-i", layout.toString()).ok().out()).isEqualTo("Loaded image: nd/" + kind + ":1\n");
        assertThat(run(h, "nd/" + kind + ":1")).isEqualTo("made by umoci\n");
        String digest = pushAndCompare(h, "nd/" + kind + ":1", "nd/" + kind + ":1");
        assertThat(digest).isEqualTo(digestOf(layout, "nd/" + kind + ":1"));
        JsonNode layers = Json.mapper().readTree(peer("skopeo", "inspect", "--raw", "--tls-verify=false",
                "docker://" + registry.host() + "/nd/" + kind + ":1").stdout()).get("layers");
        for (int i = 0; i < 2; i++) {
            int status = registryStatus("/v2/nd/" + kind + "/blobs/" + layers.get(i).get("digest").asText());
            assertThat(status).as("layer %d in the registry", i).isEqualTo(i == 0 && urls ? 404 : 200);
        }
    }

    /** 100 layers made by umoci, one file each: one overlay of 100 lowers under berth run. */
    @Test
    void anImageOfAHundredLayersLoadsRunsAndPushes() throws IOException {
        Path many = tmp.resolve("many");
        peer("skopeo", "copy", "-q", "oci:" + peer + ":base", "oci:" + many + ":many");
        for (int i = 2; i <= 100; i++) {
            peer("umoci", "insert", "--image", many + ":many", write(tmp.resolve("layer" + i), "layer " + i + "\n").toString(),
                    "/layers/" + i);
        }
        peer("umoci", "config", "--image", many + ":many", "--config.cmd", "sh", "--config.cmd", "-c", "--config.cmd",
                "cat /layers/2 /layers/100; ls /layers | wc -l");
        Path archive = tmp.resolve("many.tar");
        peer("skopeo", "copy", "-q", "oci:" + many + ":many", "oci-archive:" + archive + ":example.com/many:100");
        Path h = freshHome("many");
        CliRun.berth(h, "load", "-i", archive.toString()).ok();
        assertThat(inspectJson(h, "example.com/many:100").get("Manifest").get("layers")).hasSize(100);
        assertThat(run(h, "example.com/many:100")).isEqualTo("layer 2\nlayer 100\n99\n");
        pushAndCompare(h, "example.com/many:100", "many:100");
        JsonNode remote = Json.mapper().readTree(peer("skopeo", "inspect", "--tls-verify=false",
                "docker://" + registry.host() + "/many:100").stdout());
        assertThat(remote.get("Layers")).hasSize(100);
    }

    // ------------------------------------------------------------------ helpers

    /** Pushes NAME to the registry as DEST; skopeo finds there the digest berth printed. Returns it. */
    private static String pushAndCompare(Path h, String name, String dest) {
        String out = CliRun.berth(h, "push", name, registry.host() + "/" + dest).ok().out();
        String digest = out.strip().replaceAll("(?s).*digest: (sha256:[0-9a-f]{64}).*", "$1");
        assertThat(digest).startsWith("sha256:");
        String raw = peer("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + registry.host() + "/" + dest).stdout();
        assertThat("sha256:" + sha256(raw.getBytes(java.nio.charset.StandardCharsets.UTF_8))).isEqualTo(digest);
        return digest;
    }

    /** The peer image {@code app} with its busybox layer retyped as non-distributable (and given urls). */
    private static Path nonDistributable(String kind, String mediaType, boolean urls, boolean docker) throws IOException {
        Path layout = tmp.resolve("nd-" + kind);
        peer("skopeo", "copy", "-q", "oci:" + peer + ":app", "oci:" + layout + ":nd/" + kind + ":1");
        ObjectNode index = (ObjectNode) Json.mapper().readTree(layout.resolve("index.json").toFile());
        ObjectNode entry = (ObjectNode) index.get("manifests").get(0);
        ObjectNode manifest = (ObjectNode) Json.mapper().readTree(blob(layout, entry.get("digest").asText()).toFile());
        ObjectNode layer = (ObjectNode) manifest.get("layers").get(0);
        layer.put("mediaType", mediaType);
        if (urls) {
            ((ArrayNode) layer.putArray("urls")).add("https://example.com/layers/" + layer.get("digest").asText());
        }
        if (docker) {
            manifest.put("mediaType", "application/vnd.docker.distribution.manifest.v2+json");
            ((ObjectNode) manifest.get("config")).put("mediaType", "application/vnd.docker.container.image.v1+json");
            manifest.get("layers").forEach(l -> {
                if (!l.get("mediaType").asText().contains("foreign")) {
                    ((ObjectNode) l).put("mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip");
                }
            });
            entry.put("mediaType", "application/vnd.docker.distribution.manifest.v2+json");
        }
        byte[] bytes = Json.mapper().writeValueAsBytes(manifest);
        Files.write(layout.resolve("blobs/sha256/" + sha256(bytes)), bytes);
        entry.put("digest", "sha256:" + sha256(bytes)).put("size", bytes.length);
        Files.write(layout.resolve("index.json"), Json.mapper().writeValueAsBytes(index));
        return layout;
    }

    private static JsonNode inspectJson(Path h, String name) throws IOException {
        return Json.mapper().readTree(CliRun.berth(h, "inspect", "--format", "json", name).ok().out()).get(0);
    }

    /** The digest of the manifest a layout names {@code ref}. */
    private static String digestOf(Path layout, String ref) {
        try {
            for (JsonNode m : Json.mapper().readTree(layout.resolve("index.json").toFile()).get("manifests")) {
                if (m.path("annotations").path("org.opencontainers.image.ref.name").asText().equals(ref)) {
                    return m.get("digest").asText();
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new AssertionError(ref + " is not in " + layout);
    }

    private static int registryStatus(String path) throws IOException {
        var c = (java.net.HttpURLConnection) registry.uri().resolve(path).toURL().openConnection();
        c.setRequestMethod("HEAD");
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    /** What {@code berth run --rm IMAGE ARGS} prints, in its own JVM (the container's output is the process's). */
    private static String run(Path h, String image, String... args) {
        return CliRun.runInJvm(h, image, args);
    }

    private static String run(String image, String... args) {
        return run(home, image, args);
    }

    private static Path freshHome(String name) {
        return TestBases.freshHome("interop-" + name);
    }

    private static Tools.Result peer(String tool, String... args) {
        return Peers.run(tool, args);
    }

    private static Tools.Result podman(String... args) {
        List<String> cmd = new ArrayList<>(podman);
        cmd.addAll(List.of(args));
        return Tools.run(cmd).ok();
    }

    private static Tools.Result buildah(String... args) {
        List<String> cmd = new ArrayList<>(buildah);
        cmd.addAll(List.of(args));
        return Tools.run(cmd).ok();
    }

    private static Path blob(Path layout, String digest) {
        return layout.resolve("blobs/sha256/" + digest.substring("sha256:".length()));
    }

    private static Path write(Path file, String content) {
        try {
            return Files.writeString(file, content);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
