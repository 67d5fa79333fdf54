package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Tools;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tree as it is on disk, read as an overlayfs upper directory or as a plain tree. */
class DiskTreeTest {
    @TempDir
    Path dir;

    private static Map<String, LayerEntry> byName(List<LayerEntry> entries) {
        Map<String, LayerEntry> out = new TreeMap<>();
        for (LayerEntry e : entries) {
            out.put(e.getClass().getSimpleName() + " " + e.path().value(), e);
        }
        return out;
    }

    @Test
    void overlayWhiteoutsAndOpaqueDirectoriesBecomeOciWhiteouts() throws Exception {
        Tools.requireRoot(); // 0:0 devices and trusted.* xattrs
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(upper.resolve("etc"));
        Posix.mknod(upper.resolve("etc/gone"), Posix.S_IFCHR, 0, 0);
        Path opq = Files.createDirectories(upper.resolve("opq"));
        Posix.setXattr(opq, "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(opq.resolve("new"), "n");
        Posix.mknod(upper.resolve("null"), Posix.S_IFCHR | 0666, 1, 3);
        Map<String, LayerEntry> overlay = byName(DiskTree.entries(upper, DiskTree.Kind.OVERLAY, Optional.empty(), w -> { }));
        assertThat(overlay.keySet()).containsExactly("Directory etc", "Directory opq", "File opq/new",
                "OpaqueWhiteout opq", "Special null", "Whiteout etc/gone");
        Map<String, LayerEntry> plain = byName(DiskTree.entries(upper, DiskTree.Kind.PLAIN, Optional.empty(), w -> { }));
        assertThat(plain.keySet()).as("a plain tree has no whiteouts").containsExactly("Directory etc", "Directory opq",
                "File opq/new", "Special etc/gone", "Special null");
        LayerEntry.Special nul = (LayerEntry.Special) overlay.get("Special null");
        assertThat(List.of(nul.major(), nul.minor())).containsExactly(1, 3);
    }

    @Test
    void ownersModesAndTimesComeFromDiskAndNewerTimesAreClamped() throws Exception {
        Tools.requireRoot();
        Path f = Files.writeString(dir.resolve("f"), "x");
        Posix.lchown(f, 1000, 2000);
        Posix.chmod(f, 04750);
        Files.setLastModifiedTime(f, FileTime.from(Instant.ofEpochSecond(2_000_000_000L, 999)));
        Path old = Files.writeString(dir.resolve("old"), "o");
        Files.setLastModifiedTime(old, FileTime.from(Instant.ofEpochSecond(5)));
        Files.createSymbolicLink(dir.resolve("l"), Path.of("f"));
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(dir.resolve("sock")));
            Instant clamp = Instant.ofEpochSecond(1_700_000_000L);
            Map<String, LayerEntry> e = byName(DiskTree.entries(dir, DiskTree.Kind.PLAIN, Optional.of(clamp), w -> { }));
            assertThat(e.keySet()).as("sockets have no place in a layer").containsExactly("File f", "File old", "Symlink l");
            LayerEntry.Attributes a = e.get("File f").attributes();
            assertThat(a.mode()).hasValue(04750);
            assertThat(List.of(a.uid(), a.gid())).containsExactly(1000, 2000);
            assertThat(a.mtime()).contains(clamp);
            assertThat(e.get("File old").attributes().mtime()).contains(Instant.ofEpochSecond(5));
            assertThat(((LayerEntry.Symlink) e.get("Symlink l")).target()).isEqualTo("f");
            Map<String, LayerEntry> unclamped = byName(DiskTree.entries(dir, DiskTree.Kind.PLAIN, Optional.empty(),
                    w -> { }));
            assertThat(unclamped.get("File f").attributes().mtime()).as("whole seconds")
                    .contains(Instant.ofEpochSecond(2_000_000_000L));
        }
    }

    @Test
    void fileCapabilitiesAreKeptWhenTheyFitTextAndOtherwiseWarned() throws Exception {
        Tools.requireRoot();
        // cap_net_bind_service+ep: VFS_CAP_REVISION_2 | effective, permitted bit 10
        byte[] bind = {1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        Path f = Files.writeString(dir.resolve("server"), "x");
        Posix.setXattr(f, "security.capability", bind);
        // cap_setuid+ep: bit 7, a byte above 0x7f
        byte[] setuid = {1, 0, 0, 2, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        Path g = Files.writeString(dir.resolve("tool"), "y");
        Posix.setXattr(g, "security.capability", setuid);
        List<String> warnings = new ArrayList<>();
        Map<String, LayerEntry> e = byName(DiskTree.entries(dir, DiskTree.Kind.PLAIN, Optional.empty(), warnings::add));
        assertThat(e.get("File server").attributes().xattrs().get("security.capability").getBytes(StandardCharsets.UTF_8))
                .isEqualTo(bind);
        assertThat(e.get("File tool").attributes().xattrs()).isEmpty();
        // and they survive a layer: written as a PAX record, set again when the layer is extracted
        LayerWriter w = LayerWriter.create();
        w.add(e.get("File server"));
        java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
        w.writeTar(tar);
        Path out = Files.createDirectories(dir.resolve("out"));
        LayerExtractor.extract(new java.io.ByteArrayInputStream(tar.toByteArray()), out, LayerExtractor.Whiteouts.APPLY);
        assertThat(Posix.getXattr(out.resolve("server"), "security.capability")).hasValueSatisfying(
                v -> assertThat(v).isEqualTo(bind));
        assertThat(warnings).containsExactly("/tool: its file capabilities (security.capability) are not kept: berth "
                + "writes extended attributes as text, and these bytes are not");
    }
}
