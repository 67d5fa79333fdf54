package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.Json;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import dev.berth.registry.testing.LocalRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-platform images (issue #14): an index assembled with {@code berth manifest} from an amd64 image (the
 * Debian busybox-static of this machine) and an arm64 one (Debian's arm64 busybox-static, imported with
 * {@code --platform linux/arm64}); what images, inspect, verify, prune and save do with it; its push read by
 * skopeo, podman and buildah; pulls of one platform and of all; and an index buildah writes, loaded and run.
 */
class MultiPlatformStoreTest {
    private static final String PLATFORMS = "linux/amd64, linux/arm64";

    @TempDir
    static Path tmp;
    static Path home;
    static LocalRegistry registry;
    static String index;
    static List<String> podman;
    static List<String> buildah;

    @BeforeAll
    static void fixtures() {
        home = TestBases.busybox("multi-platform");
        CliRun.berth(home, "import", "--platform", "linux/arm64", ArmBusybox.rootfsTar().toString(), "bb:arm64").ok();
        index = CliRun.berth(home, "manifest", "create", "multi:1", "busybox:test", "bb:arm64").ok().out().strip();
        registry = LocalRegistry.open(tmp.resolve("registry"));
        CliRun.berth(home, "manifest", "push", "-q", "multi:1", registry.host() + "/team/multi:1").ok();
        podman = List.of(Tools.require("podman").toString(), "--root", tmp.resolve("storage").toString(), "--runroot",
                tmp.resolve("runroot").toString(), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file");
        buildah = List.of(Tools.require("buildah").toString(), "--root", tmp.resolve("storage").toString(),
                "--runroot", tmp.resolve("runroot").toString(), "--storage-driver", "vfs");
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void anIndexIsListedOnceWithItsPlatformsAndInspectedWholeOrByPlatform() throws IOException {
        JsonNode rows = Json.mapper().readTree(CliRun.berth(home, "images", "--format", "json").ok().out());
        List<JsonNode> multi = StreamSupport.stream(rows.spliterator(), false)
                .filter(r -> r.get("repository").asText().equals("multi")).toList();
        assertThat(multi).hasSize(1);
        assertThat(multi.getFirst().get("digest").asText()).isEqualTo(index);
        assertThat(multi.getFirst().get("platforms").toString()).isEqualTo("[\"linux/amd64\",\"linux/arm64\"]");
        assertThat(CliRun.berth(home, "images").ok().out()).containsPattern("multi +1 .* linux/amd64,linux/arm64\n");

        assertThat(CliRun.berth(home, "inspect", "multi:1").ok().out())
                .contains("Digest:       " + index, "Media type:   application/vnd.oci.image.index.v1+json")
                .containsPattern("  linux/amd64  sha256:[0-9a-f]{64}  [0-9.]+[kM]B\n")
                .containsPattern("  linux/arm64  sha256:[0-9a-f]{64}  [0-9.]+[kM]B\n");
        assertThat(CliRun.berth(home, "inspect", "--platform", "linux/arm64", "multi:1").ok().out())
                .contains("Platform:     linux/arm64", "(for linux/arm64)");
        JsonNode json = Json.mapper().readTree(CliRun.berth(home, "inspect", "-f", "json", "multi:1").ok().out()).get(0);
        assertThat(json.get("Index").get("manifests")).hasSize(2);
        assertThat(CliRun.berth(home, "inspect", "-f", "{{.Digest}}", "multi:1").ok().out()).isEqualTo(index + "\n");

        JsonNode raw = Json.mapper().readTree(CliRun.berth(home, "manifest", "inspect", "multi:1").ok().out());
        assertThat(raw.get("mediaType").asText()).isEqualTo("application/vnd.oci.image.index.v1+json");
        assertThat(raw.get("manifests").findValuesAsText("architecture")).containsExactly("amd64", "arm64");
        String skopeo = peer("skopeo", "inspect", "--raw", "oci:" + home.resolve("store") + ":docker.io/library/multi:1")
                .stdout();
        assertThat("sha256:" + sha256(skopeo)).isEqualTo(index);
    }

    @Test
    void manifestVerbsEditAListAndRefuseWhatIsNotOne() throws IOException {
        assertThat(CliRun.berth(home, "manifest", "create", "multi:1").err())
                .isEqualTo("berth: multi:1 already exists in the store (--amend adds to it)\n");
        CliRun.berth(home, "manifest", "create", "edit:1").ok();
        CliRun.berth(home, "manifest", "add", "--arch", "riscv64", "edit:1", "busybox:test").ok();
        CliRun.berth(home, "manifest", "add", "edit:1", "bb:arm64").ok();
        assertThat(architectures("edit:1")).containsExactly("riscv64", "arm64");
        // the host's entry of an index: busybox:test's manifest again, which replaces the entry of that digest
        CliRun.berth(home, "manifest", "add", "edit:1", "multi:1").ok();
        JsonNode edited = Json.mapper().readTree(CliRun.berth(home, "manifest", "inspect", "edit:1").ok().out());
        assertThat(edited.get("manifests").findValuesAsText("architecture")).containsExactly("arm64", "amd64");
        CliRun.berth(home, "manifest", "remove", "edit:1", edited.get("manifests").get(0).get("digest").asText()).ok();
        assertThat(architectures("edit:1")).containsExactly("amd64");
        CliRun.berth(home, "manifest", "create", "--amend", "edit:1", "--all", "multi:1").ok();
        assertThat(architectures("edit:1")).containsExactly("amd64", "arm64");
        assertThat(CliRun.berth(home, "manifest", "rm", "edit:1").ok().out()).isEqualTo("Untagged: edit:1\n");

        assertThat(CliRun.berth(home, "manifest", "add", "busybox:test", "bb:arm64").err())
                .startsWith("berth: busybox:test is a single-platform image (application/vnd.oci.image.manifest.v1+json),"
                        + " not a manifest list");
        assertThat(CliRun.berth(home, "manifest", "add", "--arch", "x//", "multi:1", "bb:arm64").err())
                .isEqualTo("berth: invalid platform \"linux/x//\": expected os/arch[/variant]\n");
        assertThat(CliRun.berth(home, "inspect", "--platform", "linux/s390x", "multi:1").err())
                .isEqualTo("berth: multi:1: no image for platform linux/s390x; the index has " + PLATFORMS + "\n");
        assertThat(CliRun.berth(home, "inspect", "--platform", "bogus", "multi:1").err())
                .isEqualTo("berth: invalid platform \"bogus\": unknown operating system or architecture\n");
    }

    @Test
    void saveKeepsTheIndexAndAStoreThatLoadsItVerifiesPrunesAndRunsIt() {
        Path archive = tmp.resolve("multi.tar");
        CliRun.berth(home, "save", "-o", archive.toString(), "multi:1").ok();
        Path h = freshHome("loaded");
        assertThat(CliRun.berth(h, "load", "-i", archive.toString()).ok().out()).isEqualTo("Loaded image: multi:1\n");
        assertThat(CliRun.berth(h, "prune").ok().err()).isEmpty();
        // the index, two manifests, two configs and two layers
        assertThat(CliRun.berth(h, "verify").ok().out()).isEqualTo("ok docker.io/library/multi:1 (7 blobs)\n");
        assertThat(CliRun.berth(h, "inspect", "--platform", "linux/arm64", "multi:1").ok().out())
                .contains("Platform:     linux/arm64");
        assertThat(run(h, "multi:1", "sh", "-c", "echo ran here")).isEqualTo("ran here\n");
    }

    @Test
    void thePushedIndexIsWhatSkopeoPodmanAndBuildahRead() throws IOException {
        String dest = registry.host() + "/team/multi:1";
        String raw = peer("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + dest).stdout();
        assertThat("sha256:" + sha256(raw)).isEqualTo(index);
        JsonNode arm = Json.mapper().readTree(peer("skopeo", "--override-arch", "arm64", "inspect", "--tls-verify=false",
                "docker://" + dest).stdout());
        assertThat(arm.get("Architecture").asText()).isEqualTo("arm64");
        // podman 4.3's manifest inspect has no --tls-verify: the registry is insecure in a registries.conf
        Path conf = Files.writeString(tmp.resolve("registries.conf"),
                "[[registry]]\nlocation = \"" + registry.host() + "\"\ninsecure = true\n");
        List<String> inspect = new ArrayList<>(podman);
        inspect.addAll(List.of("manifest", "inspect", dest));
        JsonNode theirs = Json.mapper().readTree(Tools.run(inspect, Map.of("CONTAINERS_REGISTRIES_CONF", conf.toString()),
                null).ok().stdout());
        assertThat(theirs.get("manifests").findValuesAsText("architecture")).containsExactly("amd64", "arm64");
        tool(buildah, "manifest", "create", "localhost/fromberth:1");
        tool(buildah, "manifest", "add", "--all", "--tls-verify=false", "localhost/fromberth:1", "docker://" + dest);
        JsonNode list = Json.mapper().readTree(tool(buildah, "manifest", "inspect", "localhost/fromberth:1").stdout());
        assertThat(list.get("manifests").findValuesAsText("digest"))
                .containsExactlyElementsOf(Json.mapper().readTree(raw).get("manifests").findValuesAsText("digest"));
        // berth push of an index (not only manifest push) sends it whole, to a repository that has none of it
        assertThat(CliRun.berth(home, "push", "multi:1", registry.host() + "/other/multi:2").ok().out())
                .endsWith("2: digest: " + index + " size: " + raw.length() + "\n");
    }

    @Test
    void pullStoresOnePlatformOrTheWholeIndex() throws IOException {
        String dest = registry.host() + "/team/multi:1";
        Path all = freshHome("pulled-all");
        assertThat(CliRun.berth(all, "pull", "--all-platforms", dest).ok().out())
                .contains("Platforms: " + PLATFORMS + "\nDigest: " + index + "\n");
        assertThat(CliRun.berth(all, "verify").ok().out()).isEqualTo("ok " + dest + " (7 blobs)\n");
        assertThat(CliRun.berth(all, "images", "--format", "{{.Platform}} {{.Digest}}").ok().out())
                .isEqualTo("linux/amd64,linux/arm64 " + index + "\n");
        assertThat(sha256(peer("skopeo", "inspect", "--raw", "oci:" + all.resolve("store") + ":" + dest).stdout()))
                .isEqualTo(index.substring(7));
        assertThat(run(all, dest, "sh", "-c", "echo pulled")).isEqualTo("pulled\n");

        Path arm = freshHome("pulled-arm64");
        CliRun.berth(arm, "pull", "-q", "--platform", "linux/arm64", dest).ok();
        assertThat(CliRun.berth(arm, "images", "--format", "{{.Platform}}").ok().out()).isEqualTo("linux/arm64\n");
        assertThat(CliRun.berth(arm, "inspect", dest).ok().out()).contains("Platform:     linux/arm64");

        assertThat(CliRun.berth(arm, "pull", "--platform", "linux/s390x", dest).err())
                .startsWith("berth: pull " + dest + ": ")
                .endsWith(": no image for platform linux/s390x; the index has " + PLATFORMS + "\n");
        assertThat(CliRun.berth(arm, "pull", "--platform", "linux/amd64/v9/x", dest).err())
                .isEqualTo("berth: invalid platform \"linux/amd64/v9/x\": expected os/arch[/variant]\n");
        assertThat(CliRun.berth(arm, "pull", "--all-platforms", "--platform", "linux/arm64", dest).err())
                .startsWith("berth: --all-platforms stores the index as it is: give it without --platform\n");
    }

    @Test
    void anIndexBuildahWritesBerthLoadsAndRunsForThisMachine() {
        Path peer = tmp.resolve("peer");
        peer("skopeo", "copy", "-q", "oci:" + home.resolve("store") + ":docker.io/library/busybox:test", "oci:" + peer + ":amd64");
        peer("skopeo", "copy", "-q", "oci:" + home.resolve("store") + ":docker.io/library/bb:arm64", "oci:" + peer + ":arm64");
        tool(buildah, "manifest", "create", "localhost/blist:1");
        tool(buildah, "manifest", "add", "localhost/blist:1", "oci:" + peer + ":amd64");
        tool(buildah, "manifest", "add", "localhost/blist:1", "oci:" + peer + ":arm64");
        Path out = tmp.resolve("buildah-index");
        tool(buildah, "manifest", "push", "-q", "--all", "localhost/blist:1", "oci:" + out + ":localhost/blist:1");
        Path h = freshHome("from-buildah");
        assertThat(CliRun.berth(h, "load", "-i", out.toString()).ok().out()).isEqualTo("Loaded image: localhost/blist:1\n");
        assertThat(CliRun.berth(h, "images", "--format", "{{.Repository}} {{.Platform}}").ok().out())
                .isEqualTo("localhost/blist linux/amd64,linux/arm64\n");
        assertThat(run(h, "localhost/blist:1", "sh", "-c", "echo buildah made me")).isEqualTo("buildah made me\n");
    }

    // ------------------------------------------------------------------ helpers

    private static List<String> architectures(String list) throws IOException {
        return Json.mapper().readTree(CliRun.berth(home, "manifest", "inspect", list).ok().out()).get("manifests")
                .findValuesAsText("architecture");
    }

    /** What {@code berth run --rm IMAGE ARGS} prints, in its own JVM (the container's output is the process's). */
    private static String run(Path h, String image, String... args) {
        return CliRun.runInJvm(h, image, args);
    }

    private static Path freshHome(String name) {
        return TestBases.freshHome("mp-store-" + name);
    }

    private static Tools.Result peer(String tool, String... args) {
        return Peers.run(tool, args);
    }

    private static Tools.Result tool(List<String> base, String... args) {
        List<String> cmd = new ArrayList<>(base);
        cmd.addAll(List.of(args));
        return Tools.run(cmd).ok();
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
