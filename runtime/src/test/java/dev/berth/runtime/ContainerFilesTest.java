package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.Compression;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A container's file system as {@code diff}, {@code commit} and {@code export} read it: its changes from
 * the upper directory, never the runtime's mount stubs, for a running container and one that ended.
 */
class ContainerFilesTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static final String CHANGES = "mkdir -p /added/dir && echo a > /added/dir/f && echo more >> /etc/passwd"
            + " && rm /keep/y && ln -s /elsewhere /added/link && rm -r /data/c && chmod 700 /keep";

    @Test
    void diffListsTheChangesAndNotTheMountStubs() {
        // layers:test has no /proc, /dev, /sys or /etc/hosts of its own: the runtime makes their stubs
        RunningContainer c = f.runtime.start("layers:test", RunOptions.builder().command("sh", "-c", CHANGES).build());
        assertThat(c.await().exitCode()).isZero();
        assertThat(f.runtime.files(c.name(), "diff").diff()).containsExactly("A /added", "A /added/dir",
                "A /added/dir/f", "A /added/link", "C /data", "D /data/c", "C /etc", "C /etc/passwd", "C /keep", "D /keep/y");
        f.runtime.remove(List.of(c.name()), false);
    }

    @Test
    void aRunningContainersChangesAreReadWhileItRunsAndItGoesOn() throws Exception {
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .resources(new Resources(java.util.OptionalLong.empty(), java.util.OptionalLong.empty(),
                        java.util.OptionalLong.of(100)))
                .command("sh", "-c", "echo hi > /tmp/made; while true; do sleep 0.1; done").build());
        for (int i = 0; i < 300 && !f.runtime.files(c.name(), "diff").diff().contains("A /tmp/made"); i++) {
            Thread.sleep(10);
        }
        ContainerFiles files = f.runtime.files(c.name(), "commit");
        assertThat(files.diff()).containsExactly("C /tmp", "A /tmp/made");
        try (ImageStore store = f.home.openStore()) {
            UsernsTasks.Layer layer = files.layer(store, Compression.parse("gzip:1"), Instant.ofEpochSecond(1));
            Map<String, TarArchiveEntry> entries = new HashMap<>();
            try (var in = new TarArchiveInputStream(new java.util.zip.GZIPInputStream(
                    store.blobs("layer").open(layer.blob())))) {
                for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                    entries.put(e.getName(), e);
                }
            }
            assertThat(entries.keySet()).containsExactlyInAnyOrder("tmp/", "tmp/made");
            assertThat(entries.get("tmp/made").getSize()).isEqualTo(3);
        }
        assertThat(f.runtime.control().running(c.name())).as("paused for the commit, then thawed").isTrue();
        assertThat(f.runtime.list(false)).filteredOn(i -> i.id().equals(c.id())).singleElement()
                .satisfies(i -> assertThat(i.paused()).isFalse());
        f.runtime.remove(List.of(c.name()), true);
    }

    @Test
    void exportIsTheImageUnpackedWithTheChangesApplied() throws Exception {
        RunningContainer c = f.runtime.start("layers:test", RunOptions.builder().command("sh", "-c", CHANGES).build());
        assertThat(c.await().exitCode()).isZero();
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        f.runtime.files(c.name(), "export").export(tar);
        Map<String, TarArchiveEntry> entries = new HashMap<>();
        Map<String, String> content = new HashMap<>();
        try (var in = new TarArchiveInputStream(new ByteArrayInputStream(tar.toByteArray()))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                entries.put(e.getName(), e);
                if (e.isFile() && e.getSize() < 1000) {
                    content.put(e.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        assertThat(entries).containsKeys("bin/busybox", "added/dir/f", "added/link", "data/", "keep/x", "new", "added/")
                .doesNotContainKeys("etc/removeme", "data/a", "data/c", "keep/y", "etc/hosts", "etc/hostname");
        assertThat(content.get("added/dir/f")).isEqualTo("a\n");
        assertThat(content.get("etc/passwd")).endsWith("more\n");
        assertThat(content.get("keep/x")).isEqualTo("new\n");
        assertThat(entries.get("added/link").getLinkName()).isEqualTo("/elsewhere");
        assertThat(entries.get("keep/").getMode() & 07777).isEqualTo(0700);

        // the same as the image unpacked with the container's layer on top (umoci's way, here berth's own)
        Path dir = Files.createTempDirectory(f.scratch, "unpacked");
        try (ImageStore store = f.home.openStore()) {
            UsernsTasks.Layer layer = f.runtime.files(c.name(), "commit").layer(store, Compression.parse("gzip:1"),
                    Instant.ofEpochSecond(1));
            Path root = dir.resolve("rootfs");
            LayerExtractor.unpack(store.image(dev.berth.layers.Reference.parse("layers:test"),
                    dev.berth.layers.Platform.host()), root);
            try (var in = store.blobs("layer").open(layer.blob())) {
                LayerExtractor.extract(in, root, LayerExtractor.Whiteouts.APPLY);
            }
            try (var files = Files.walk(root)) {
                List<String> onDisk = files.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()
                        + (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? "/" : "")).sorted().toList();
                assertThat(entries.keySet().stream().sorted().toList()).isEqualTo(onDisk);
            }
        } finally {
            LayerExtractor.deleteTree(dir);
        }
        f.runtime.remove(List.of(c.name()), false);
    }
}
