package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.testing.Tars;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerExtractorTest {
    @TempDir
    Path tmp;

    @Test
    void aTruncatedGzipLayerSaysSo() throws Exception {
        byte[] big = new byte[200_000];
        new java.util.Random(1).nextBytes(big);
        byte[] tar = new dev.berth.layers.testing.Tars().file("small", "s").file("big", big).bytes();
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
            out.write(tar);
        }
        byte[] cut = java.util.Arrays.copyOf(gz.toByteArray(), gz.size() / 2);
        java.nio.file.Files.createDirectories(tmp.resolve("root"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LayerExtractor.extract(new java.io.ByteArrayInputStream(cut),
                tmp.resolve("root"), LayerExtractor.Whiteouts.APPLY))
                .hasMessageStartingWith("the layer is truncated or corrupt").hasMessageContaining("ZLIB");
    }

    private Path target(String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    private static void extract(byte[] tar, Path target) throws IOException {
        LayerExtractor.extract(new ByteArrayInputStream(tar), target, LayerExtractor.Whiteouts.APPLY);
    }

    @Test
    void writtenTreeExtractsToTheSameTree() throws IOException {
        Path src = tmp.resolve("src");
        Trees.file(src, "bin/tool", "#!/bin/sh\n", 04755);
        Trees.file(src, "etc/a.conf", "a", 0640);
        Trees.dir(src, "var/lib/empty", 0700);
        Trees.symlink(src, "etc/alias", "a.conf");
        Trees.symlink(src, "dangling", "/nowhere");
        Files.createLink(src.resolve("etc/hard"), src.resolve("etc/a.conf"));
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        LayerWriter.create().addTree(src, LayerPath.ROOT, Attributes.DEFAULT).writeTar(tar);
        Path out = target("out");
        extract(tar.toByteArray(), out);
        assertThat(Trees.describe(out, false)).isEqualTo(Trees.describe(src, false));
        assertThat(Files.getAttribute(out.resolve("etc/hard"), "unix:ino"))
                .isEqualTo(Files.getAttribute(out.resolve("etc/a.conf"), "unix:ino"));
        assertThat(Files.getLastModifiedTime(out.resolve("var/lib")).toInstant()).isEqualTo(LayerWriter.DEFAULT_TIME);
    }

    @Test
    void rejectsEntriesThatLeaveTheTarget() throws IOException {
        Path out = target("t");
        assertThatThrownBy(() -> extract(new Tars().file("../../etc/passwd", "x").bytes(), out))
                .isInstanceOf(LayersException.class)
                .hasMessage("layer entry \"../../etc/passwd\": leaves the target directory");
        assertThatThrownBy(() -> extract(new Tars().file("/etc/passwd", "x").bytes(), out))
                .hasMessage("layer entry \"/etc/passwd\": absolute path");
        assertThatThrownBy(() -> extract(new Tars().file("a/../../b", "x").bytes(), out))
                .hasMessageContaining("leaves the target directory");
        assertThatThrownBy(() -> extract(new Tars().hardlink("h", "../../etc/shadow").bytes(), out))
                .hasMessageContaining("leaves the target directory");
        assertThat(tmp.resolve("etc")).doesNotExist();
        assertThat(Files.list(out).toList()).isEmpty();
    }

    @Test
    void rejectsWritingThroughASymlink() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path out = target("t");
        byte[] evil = new Tars().symlink("escape", outside.toString()).file("escape/pwned", "x").bytes();
        assertThatThrownBy(() -> extract(evil, out))
                .hasMessage("layer entry \"escape/pwned\": would be written through the symlink \"escape\"");
        assertThat(outside.resolve("pwned")).doesNotExist();
        // also when the symlink came from a lower layer
        Path out2 = target("t2");
        extract(new Tars().symlink("lib", "../outside").bytes(), out2);
        assertThatThrownBy(() -> extract(new Tars().file("lib/x", "x").bytes(), out2))
                .hasMessageContaining("through the symlink \"lib\"");
        assertThat(outside.resolve("x")).doesNotExist();
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestFailsTheExtraction() throws IOException {
        try (ImageStore store = ImageStore.open(tmp.resolve("store"))) {
            LayerWriter.Result r = LayerWriter.create()
                    .add(new LayerEntry.Content(LayerPath.of("f"), "x".repeat(100_000).getBytes(), Attributes.DEFAULT))
                    .write(store, Compression.defaultGzip(), false);
            Path blob = store.blobPath(r.blob().digest());
            byte[] bytes = Files.readAllBytes(blob);
            bytes[4] ^= 1; // the gzip header's mtime: gzip itself does not check it
            Files.write(blob, bytes);
            assertThatThrownBy(() -> {
                try (var in = store.open(r.blob(), "img")) {
                    LayerExtractor.extract(in, target("t"), LayerExtractor.Whiteouts.APPLY);
                }
            }).isInstanceOf(LayersException.class).hasMessageContaining(r.blob().digest().toString());
        }
    }

    @Test
    void truncatedTarIsAnError() throws IOException {
        byte[] tar = new Tars().file("big", "y".repeat(5000)).bytes();
        byte[] cut = Arrays.copyOf(tar, 2048);
        assertThatThrownBy(() -> extract(cut, target("t"))).isInstanceOf(LayersException.class)
                .hasMessageContaining("layer");
    }

    @Test
    void whiteoutsDeleteLowerContentButNotTheirOwnLayers() throws IOException {
        Path out = target("t");
        extract(new Tars().file("etc/keep", "k").file("etc/gone", "g").file("data/old1", "1").dir("data/sub")
                .file("data/sub/old2", "2").bytes(), out);
        extract(new Tars().file("etc/.wh.gone", "").dir("data").file("data/.wh..wh..opq", "").file("data/new", "n")
                .file("etc/.wh.mine", "").file("etc/mine", "m").bytes(), out);
        assertThat(Trees.describe(out, false).keySet())
                .containsExactly("data", "data/new", "etc", "etc/keep", "etc/mine");
    }

    @Test
    void overlayModeWritesOverlayWhiteouts() throws IOException {
        Tools.requireRoot();
        Path out = target("snap");
        LayerExtractor.extract(new ByteArrayInputStream(new Tars().file("etc/.wh.gone", "").dir("data")
                .file("data/.wh..wh..opq", "").file("data/new", "n").bytes()), out, LayerExtractor.Whiteouts.OVERLAY);
        Path wh = out.resolve("etc/gone");
        assertThat((Integer) Files.getAttribute(wh, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000).isEqualTo(0020000);
        assertThat(Files.getAttribute(wh, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0L);
        assertThat(Posix.getXattr(out.resolve("data"), "trusted.overlay.opaque")).hasValueSatisfying(
                v -> assertThat(new String(v)).isEqualTo("y"));
        assertThat(out.resolve("data/new")).hasContent("n");
    }

    @Test
    void replacesFilesByDirectoriesAndBack() throws IOException {
        Path out = target("t");
        extract(new Tars().file("x", "file").dir("y").file("y/inner", "i").bytes(), out);
        extract(new Tars().dir("x").file("x/child", "c").file("y", "now a file").bytes(), out);
        assertThat(out.resolve("x/child")).hasContent("c");
        assertThat(out.resolve("y")).isRegularFile().hasContent("now a file");
    }

    @Test
    void modesOwnersAndDevices() throws IOException {
        Path out = target("t");
        extract(new Tars().entry("f", TarConstants.LF_NORMAL, "x", 02750, e -> {
            e.setUserId(123);
            e.setGroupId(456);
        }).entry("fifo", TarConstants.LF_FIFO, null, 0600, e -> { }).dir("ro").bytes(), out);
        assertThat((Integer) Files.getAttribute(out.resolve("f"), "unix:mode") & 07777).isEqualTo(02750);
        assertThat((Integer) Files.getAttribute(out.resolve("fifo"), "unix:mode") & 0170000).isEqualTo(0010000);
        if (BerthHome.isRoot()) {
            assertThat(Files.getAttribute(out.resolve("f"), "unix:uid")).isEqualTo(123);
            assertThat(Files.getAttribute(out.resolve("f"), "unix:gid")).isEqualTo(456);
            extract(new Tars().entry("null", TarConstants.LF_CHR, null, 0666, e -> {
                e.setDevMajor(1);
                e.setDevMinor(3);
            }).bytes(), out);
            assertThat(Files.getAttribute(out.resolve("null"), "unix:rdev")).isEqualTo(Posix.makedev(1, 3));
        }
    }
}
