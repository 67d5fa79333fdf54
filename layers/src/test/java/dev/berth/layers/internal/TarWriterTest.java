package dev.berth.layers.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tar writer against commons-compress's, configured as layers used to be written (POSIX long names and
 * big numbers, PAX for non-ASCII names): the same bytes for every kind of entry, name length and number
 * range, and the same entries read back where the PAX records' order differs.
 */
class TarWriterTest {
    @TempDir
    Path tmp;

    private static final String LONG = "d/" + "x".repeat(120);
    private static final String UMLAUT = "ünïcödé/ä.txt";

    /** Headers that make one PAX record at most, so commons-compress's record order cannot differ. */
    private static List<TarWriter.Header> singleRecordHeaders() {
        List<TarWriter.Header> hs = new ArrayList<>();
        hs.add(file("a", 0644, 0, 1));
        hs.add(file("bin/app", 0755, 13, 1));
        hs.add(file("setuid", 04755, 511, 1));
        hs.add(file("z", 0600, 512, 1_700_000_000L));
        hs.add(file("y", 0, 513, 0));
        hs.add(file("x".repeat(99), 0644, 3, 1));
        hs.add(file("x".repeat(100), 0644, 3, 1));
        hs.add(file("x".repeat(101), 0644, 3, 1));
        hs.add(file(LONG, 0644, 3, 1));
        hs.add(file(UMLAUT, 0644, 6, 1));
        hs.add(file("x".repeat(98) + "é", 0644, 1, 1)); // 100 bytes, two of them one character
        hs.add(file("x".repeat(99) + "é", 0644, 1, 1)); // the cut falls inside a character
        hs.add(file("big-time", 0644, 1, 077777777777L + 1));
        hs.add(file("negative-time", 0644, 1, -1));
        hs.add(file("max-time", 0644, 1, 077777777777L));
        hs.add(new TarWriter.Header("dir/", (byte) '5', 0755, 0, 0, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("owned", (byte) '0', 0644, 1000, 1000, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("max-id", (byte) '0', 0644, 07777777, 07777777, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("big-uid", (byte) '0', 0644, 07777777 + 1, 0, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("big-gid", (byte) '0', 0644, 0, 4_000_000_000L, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("link", (byte) '2', 0777, 0, 0, 0, 1, "target/file", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("long-link", (byte) '2', 0777, 0, 0, 0, 1, LONG, 0, 0, Map.of()));
        hs.add(new TarWriter.Header("umlaut-link", (byte) '2', 0777, 0, 0, 0, 1, UMLAUT, 0, 0, Map.of()));
        hs.add(new TarWriter.Header("hard", (byte) '1', 0644, 0, 0, 0, 1, "a", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("long-hard", (byte) '1', 0644, 0, 0, 0, 1, LONG, 0, 0, Map.of()));
        hs.add(new TarWriter.Header("dev/null", (byte) '3', 0666, 0, 0, 0, 1, "", 1, 3, Map.of()));
        hs.add(new TarWriter.Header("dev/sda", (byte) '4', 0660, 0, 6, 0, 1, "", 8, 0, Map.of()));
        hs.add(new TarWriter.Header("dev/big", (byte) '3', 0600, 0, 0, 0, 1, "", 07777777 + 1, 0, Map.of()));
        hs.add(new TarWriter.Header("fifo", (byte) '6', 0644, 0, 0, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("x", (byte) '0', 0644, 0, 0, 0, 1, "", 0, 0,
                Map.of("security.capability", "AQAAAgAgAAAAAAAAAAAAAAAAAAA=")));
        hs.add(new TarWriter.Header(".wh.gone", (byte) '0', 0, 0, 0, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("a/.wh..wh..opq", (byte) '0', 0, 0, 0, 0, 1, "", 0, 0, Map.of()));
        hs.add(new TarWriter.Header("nul\u0000and/slash\\ \u007f", (byte) '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of()));
        return hs;
    }

    private static TarWriter.Header file(String name, int mode, long size, long mtime) {
        return new TarWriter.Header(name, (byte) '0', mode, 0, 0, size, mtime, "", 0, 0, Map.of());
    }

    @Test
    void writesTheBytesCommonsCompressWrites() throws IOException {
        List<TarWriter.Header> hs = singleRecordHeaders();
        byte[] ours = ours(hs);
        byte[] theirs = commonsCompress(hs);
        assertThat(ours.length).isEqualTo(theirs.length);
        for (int i = 0; i < ours.length; i += 512) {
            byte[] a = Arrays.copyOfRange(ours, i, i + 512);
            byte[] b = Arrays.copyOfRange(theirs, i, i + 512);
            assertThat(a).as("record %d: %s", i / 512, new String(b, 0, 100, StandardCharsets.UTF_8)).isEqualTo(b);
        }
    }

    @Test
    void severalPaxRecordsReadBackAsCommonsCompressWroteThem() throws IOException {
        List<TarWriter.Header> hs = List.of(
                new TarWriter.Header(LONG, (byte) '2', 0777, 9_000_000, 9_000_001, 0, -5, UMLAUT, 0, 0,
                        Map.of("user.a", "1", "user.b", "zwei", "security.selinux", "system_u:object_r:bin_t:s0")),
                new TarWriter.Header(UMLAUT, (byte) '0', 0644, 0, 0, 70_000, 1, "", 0, 0, Map.of("user.x", "é")));
        List<TarArchiveEntry> ours = read(ours(hs));
        List<TarArchiveEntry> theirs = read(commonsCompress(hs));
        assertThat(ours).hasSize(2).hasSameSizeAs(theirs);
        for (int i = 0; i < ours.size(); i++) {
            TarArchiveEntry a = ours.get(i);
            TarArchiveEntry b = theirs.get(i);
            assertThat(a.getName()).isEqualTo(b.getName()).isEqualTo(hs.get(i).name());
            assertThat(a.getLinkName()).isEqualTo(b.getLinkName());
            assertThat(a.getLongUserId()).isEqualTo(b.getLongUserId());
            assertThat(a.getLongGroupId()).isEqualTo(b.getLongGroupId());
            assertThat(a.getLastModifiedTime()).isEqualTo(b.getLastModifiedTime());
            assertThat(a.getSize()).isEqualTo(b.getSize());
            assertThat(a.getExtraPaxHeaders()).isEqualTo(b.getExtraPaxHeaders());
        }
        // records in key order: the first entry's PAX data
        String pax = new String(ours(hs.subList(0, 1)), 512, 512, StandardCharsets.UTF_8);
        assertThat(pax.indexOf("SCHILY.xattr.security.selinux")).isLessThan(pax.indexOf("SCHILY.xattr.user.a"));
        assertThat(pax.indexOf(" gid=")).isLessThan(pax.indexOf(" linkpath=")).isLessThan(pax.indexOf(" mtime="));
    }

    @Test
    void aSizeOver8GiBGoesToPax() throws IOException {
        TarWriter.Header huge = file("huge", 0644, 10L << 30, 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.entry(huge);
        w.flush();
        ByteArrayOutputStream cc = new ByteArrayOutputStream();
        TarArchiveOutputStream t = commonsStream(cc);
        t.putArchiveEntry(entry(huge));
        t.flush();
        assertThat(out.toByteArray()).isEqualTo(cc.toByteArray()).hasSize(3 * 512);
        assertThat(new String(out.toByteArray(), 512, 512, StandardCharsets.US_ASCII)).startsWith("20 size=10737418240\n");
    }

    @Test
    void copiesAFileAndSeesItGrowOrShrink() throws IOException {
        byte[] content = new byte[300_000]; // more than the writer's buffer
        new Random(7).nextBytes(content);
        Path f = Files.write(tmp.resolve("f"), content);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.entry(file("first", 0644, 10, 1));
        w.write(new byte[10], 0, 10);
        w.endEntry();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            w.entry(file("f", 0644, content.length, 1));
            assertThat(w.copy(ch)).isTrue();
        }
        w.endEntry();
        try (FileChannel ch = FileChannel.open(Files.createFile(tmp.resolve("e")), StandardOpenOption.READ)) {
            w.entry(file("empty", 0644, 0, 1));
            assertThat(w.copy(ch)).isTrue();
        }
        w.endEntry();
        w.finish();
        List<TarArchiveEntry> es = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                es.add(e);
                if (e.getName().equals("f")) {
                    assertThat(in.readAllBytes()).isEqualTo(content);
                }
            }
        }
        assertThat(es).extracting(TarArchiveEntry::getName).containsExactly("first", "f", "empty");
        assertThat(out.size() % 512).isZero();

        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            TarWriter grown = new TarWriter(new ByteArrayOutputStream());
            grown.entry(file("f", 0644, content.length - 1, 1));
            assertThat(grown.copy(ch)).as("a file longer than its header").isFalse();
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            TarWriter shrunk = new TarWriter(new ByteArrayOutputStream());
            shrunk.entry(file("f", 0644, content.length + 1, 1));
            assertThat(shrunk.copy(ch)).as("a file shorter than its header").isFalse();
            assertThatThrownBy(shrunk::endEntry).hasMessage("1 bytes of content missing");
        }
    }

    @Test
    void contentMustMatchTheSize() throws IOException {
        TarWriter w = new TarWriter(new ByteArrayOutputStream());
        w.entry(file("a", 0644, 2, 1));
        assertThatThrownBy(() -> w.write(new byte[3], 0, 3)).hasMessage("more content than the entry's size");
        assertThatThrownBy(() -> w.entry(file("b", 0644, 0, 1))).hasMessageContaining("before the last one ended");
        assertThatThrownBy(w::finish).hasMessage("the last entry has not ended");
    }

    private static byte[] ours(List<TarWriter.Header> hs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        for (TarWriter.Header h : hs) {
            w.entry(h);
            byte[] content = content(h);
            w.write(content, 0, content.length);
            w.endEntry();
        }
        w.finish();
        return out.toByteArray();
    }

    private static byte[] commonsCompress(List<TarWriter.Header> hs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = commonsStream(out)) {
            for (TarWriter.Header h : hs) {
                t.putArchiveEntry(entry(h));
                t.write(content(h));
                t.closeArchiveEntry();
            }
            t.finish();
        }
        return out.toByteArray();
    }

    private static TarArchiveOutputStream commonsStream(ByteArrayOutputStream out) {
        TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512, "UTF-8");
        t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        t.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        t.setAddPaxHeadersForNonAsciiNames(true);
        return t;
    }

    private static TarArchiveEntry entry(TarWriter.Header h) {
        TarArchiveEntry t = new TarArchiveEntry(h.name(), h.type(), false);
        t.setMode(h.mode());
        t.setUserId(h.uid());
        t.setGroupId(h.gid());
        t.setUserName("");
        t.setGroupName("");
        t.setSize(h.size());
        t.setModTime(FileTime.from(Instant.ofEpochSecond(h.mtime())));
        t.setLinkName(h.linkName());
        t.setDevMajor(h.devMajor());
        t.setDevMinor(h.devMinor());
        h.xattrs().forEach((k, v) -> t.addPaxHeader("SCHILY.xattr." + k, v));
        return t;
    }

    private static byte[] content(TarWriter.Header h) {
        byte[] b = new byte[(int) h.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + h.name().length());
        }
        return b;
    }

    private static List<TarArchiveEntry> read(byte[] tar) throws IOException {
        List<TarArchiveEntry> es = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                es.add(e);
            }
        }
        return es;
    }
}
