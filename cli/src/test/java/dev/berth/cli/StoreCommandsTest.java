package dev.berth.cli;

import static dev.berth.cli.CliRun.berth;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.BerthHome;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.testing.TestImages;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** images, inspect, tag, rmi, save, load, prune and the error conventions, through the command line. */
class StoreCommandsTest {
    @TempDir
    Path home;
    Descriptor app;

    @BeforeEach
    void images() {
        try (ImageStore store = new BerthHome(home).openStore()) {
            ContainerConfig config = ContainerConfig.EMPTY.toBuilder().build();
            var b = config.toBuilder();
            b.cmd = Optional.of(List.of("/hello"));
            b.env = List.of("PATH=/usr/bin");
            app = TestImages.store(store, "example.com/team/app:1", List.of(LayerWriter.create()
                    .add(new LayerEntry.Content(LayerPath.of("hello"), "hi".getBytes(), LayerEntry.Attributes.DEFAULT))),
                    b.build());
            TestImages.store(store, "busy:2", List.of(LayerWriter.create()
                    .add(new LayerEntry.Content(LayerPath.of("b"), "b".getBytes(), LayerEntry.Attributes.DEFAULT))),
                    ContainerConfig.EMPTY);
        }
    }

    @Test
    void imagesListsNamesTagsDigestsSizes() throws IOException {
        String out = berth(home, "images").ok().out();
        assertThat(out.lines().toList().getFirst()).startsWith("REPOSITORY").contains("TAG", "DIGEST", "CREATED", "SIZE");
        assertThat(out).contains("example.com/team/app").contains(app.digest().hex().substring(0, 12)).contains("busy");
        JsonNode json = Json.mapper().readTree(berth(home, "images", "--format", "json").ok().out());
        assertThat(json).hasSize(2);
        assertThat(json.get(1).get("repository").asText()).isEqualTo("example.com/team/app");
        assertThat(json.get(1).get("digest").asText()).isEqualTo(app.digest().toString());
        assertThat(json.get(1).get("size").asLong()).isPositive();
        assertThat(berth(home, "images", "-q").ok().out().lines()).hasSize(2);
    }

    @Test
    void inspectShowsManifestAndConfig() throws IOException {
        String text = berth(home, "inspect", "example.com/team/app:1").ok().out();
        assertThat(text).contains("Digest:       " + app.digest()).contains("Cmd:          [ \"/hello\" ]")
                .contains("PATH=/usr/bin").contains("linux/amd64");
        JsonNode json = Json.mapper().readTree(berth(home, "inspect", "--format", "json", app.digest().hex().substring(0, 8)).ok().out());
        assertThat(json.get(0).get("Manifest").get("schemaVersion").asInt()).isEqualTo(2);
        assertThat(json.get(0).get("Config").get("config").get("Cmd").get(0).asText()).isEqualTo("/hello");
    }

    @Test
    void tagRmiAndPrune() {
        berth(home, "tag", "busy:2", "busy:latest").ok();
        assertThat(berth(home, "images").ok().out()).contains("latest");
        assertThat(berth(home, "rmi", "busy:2", "busy").ok().out()).contains("Untagged: busy:2").contains("Untagged: busy:latest");
        assertThat(berth(home, "prune").ok().out()).matches("Deleted 3 blobs, freed [0-9.]+k?B\n");
        assertThat(berth(home, "images").ok().out()).doesNotContain("busy");
        assertThat(berth(home, "prune").ok().out()).startsWith("Deleted 0 blobs");
    }

    @Test
    void saveAndLoadRoundTrip() throws IOException {
        Path archive = home.resolve("images.tar");
        berth(home, "save", "-o", archive.toString(), "example.com/team/app:1", "busy:2").ok();
        assertThat(archive).isRegularFile();
        Path other = home.resolve("other-home");
        String loaded = berth(other, "load", "-i", archive.toString()).ok().out();
        assertThat(loaded).contains("Loaded image: example.com/team/app:1").contains("Loaded image: busy:2");
        assertThat(berth(other, "inspect", "example.com/team/app:1").ok().out()).contains(app.digest().toString());
    }

    @Test
    void podmanLoadsWhatBerthSaves() throws IOException {
        Path podman = Tools.require("podman");
        Tools.requireRoot();
        Path archive = home.resolve("images.tar");
        berth(home, "save", "-o", archive.toString(), "example.com/team/app:1", "busy:2").ok();
        List<String> base = List.of(podman.toString(), "--root", home.resolve("podman/root").toString(),
                "--runroot", home.resolve("podman/run").toString(), "--storage-driver", "vfs",
                "--cgroup-manager", "cgroupfs", "--events-backend", "file");
        List<String> load = new java.util.ArrayList<>(base);
        load.addAll(List.of("load", "-i", archive.toString()));
        Tools.run(load).ok();
        List<String> images = new java.util.ArrayList<>(base);
        images.addAll(List.of("images", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}"));
        String listed = Tools.run(images).ok().stdout();
        assertThat(listed).contains("example.com/team/app:1").contains("docker.io/library/busy:2");
    }

    @Test
    void aFailedLoadLeavesTheStoreAsItWas() throws IOException {
        Path archive = home.resolve("images.tar");
        berth(home, "save", "-o", archive.toString(), "busy:2").ok();
        Path other = home.resolve("other-home");
        berth(other, "images").ok();
        byte[] indexBefore = Files.readAllBytes(other.resolve("store/index.json"));
        // corrupt one byte inside the first blob (after the two directory headers and the blob's header)
        byte[] bytes = Files.readAllBytes(archive);
        bytes[3 * 512 + 10] ^= 0x55;
        Path broken = home.resolve("broken.tar");
        Files.write(broken, bytes);
        CliRun.Result r = berth(other, "load", "-i", broken.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("berth: broken.tar: blob sha256:").contains("does not match its digest");
        assertThat(Files.readAllBytes(other.resolve("store/index.json"))).isEqualTo(indexBefore);
        assertThat(Files.list(other.resolve("tmp")).toList()).isEmpty();
        Path empty = Files.createFile(home.resolve("empty.tar"));
        assertThat(berth(other, "load", "-i", empty.toString()).err())
                .isEqualTo("berth: empty.tar: empty file, not an image archive\n");
        assertThat(Files.readAllBytes(other.resolve("store/index.json"))).isEqualTo(indexBefore);
    }

    @Test
    void errorsAreOneLineWithExitCodeOne() {
        CliRun.Result missing = berth(home, "inspect", "nosuch:1");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("berth: image nosuch:1 is not in the store\n");
        CliRun.Result bad = berth(home, "tag", "busy:2", "Bad/Name");
        assertThat(bad.err()).isEqualTo("berth: invalid reference format \"Bad/Name\": repository name must be lowercase\n");
        CliRun.Result debug = berth(home, "--debug", "inspect", "nosuch:1");
        assertThat(debug.err()).startsWith("berth: image nosuch:1 is not in the store\n").contains("\tat dev.berth.");
        CliRun.Result usage = berth(home, "images", "--bogus");
        assertThat(usage.exitCode()).isEqualTo(1);
        assertThat(usage.err()).startsWith("berth: Unknown option: '--bogus'");
        CliRun.Result load = berth(home, "load", "-i", home.resolve("none.tar").toString());
        assertThat(load.err()).isEqualTo("berth: none.tar: no such file\n");
    }

    @Test
    void outputReachesStandardOutputWithoutAFlushByTheCaller() {
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setProperty("berth.home", home.toString());
        try {
            System.setOut(new java.io.PrintStream(captured, false, java.nio.charset.StandardCharsets.UTF_8));
            assertThat(Berth.execute("images", "-q")).isZero();
        } finally {
            System.setOut(saved);
            System.clearProperty("berth.home");
        }
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8).lines()).hasSize(2);
    }

    @Test
    void helpVersionAndCompletion() {
        assertThat(berth(home, "--help").ok().out()).contains("images").contains("save").contains("load");
        assertThat(berth(home, "save", "--help").ok().out()).contains("-o, --output=FILE");
        assertThat(berth(home, "version").ok().out()).startsWith("berth ");
        assertThat(berth(home, "completion").ok().out()).contains("complete -F");
    }

    @Test
    void infoAsRoot() {
        assertThat(berth(home, "info").ok().out()).contains("home: " + home + "\n").contains("rootless: no (root)\n")
                .containsPattern("cgroups: v[12]; limits available: --memory, --cpus, --pids-limit\n")
                .doesNotContain("uid map");
    }
}
