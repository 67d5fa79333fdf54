package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileStats} against the JDK's own view of the same files. */
class FileStatsTest {
    @TempDir
    Path tmp;

    private static FileStats.Stat jdk(Path p) throws Exception {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,size,ino,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        return new FileStats.Stat((Integer) a.get("mode"), (Long) a.get("size"),
                ((FileTime) a.get("lastModifiedTime")).to(java.util.concurrent.TimeUnit.NANOSECONDS), (Long) a.get("ino"));
    }

    @Test
    void statsAndListsAsTheJdkSeesThem() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Files.writeString(dir.resolve("plain.txt"), "hello");
        Files.write(dir.resolve("ünïcödé name"), new byte[70_000]);
        Files.createDirectory(dir.resolve("sub"));
        Files.createSymbolicLink(dir.resolve("link"), Path.of("/nowhere/at/all"));
        Files.setLastModifiedTime(dir.resolve("plain.txt"), FileTime.from(java.time.Instant.parse("2001-02-03T04:05:06.123456789Z")));
        for (int i = 0; i < 3000; i++) { // more entries than one getdents64 call returns
            Files.writeString(dir.resolve("many-" + i), "x".repeat(i % 7));
        }
        List<FileStats.Entry> listed = FileStats.list(dir.toString()).stream()
                .sorted(Comparator.comparing(FileStats.Entry::name)).toList();
        List<String> expected;
        try (Stream<Path> s = Files.list(dir)) {
            expected = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(listed).extracting(FileStats.Entry::name).containsExactlyElementsOf(expected);
        for (FileStats.Entry e : listed) {
            assertThat(e.stat()).as(e.name()).isEqualTo(jdk(dir.resolve(e.name())));
            assertThat(FileStats.lstat(dir.resolve(e.name()).toString())).isEqualTo(e.stat());
        }
        assertThat(FileStats.lstat(dir.resolve("plain.txt").toString()).mtimeNanos() % 1_000_000_000L).isEqualTo(123456789L);
        assertThat(FileStats.lstat(dir.resolve("link").toString()).mode() & 0170000).as("not followed").isEqualTo(0120000);
        assertThat(FileStats.list(dir.resolve("sub").toString())).isEmpty();
    }

    @Test
    void whatIsNotThereIsNoSuchFile() {
        assertThatThrownBy(() -> FileStats.lstat(tmp.resolve("gone").toString())).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> FileStats.lstat(tmp.resolve("gone/below").toString())).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> FileStats.list(tmp.resolve("gone").toString())).isInstanceOf(NoSuchFileException.class);
    }
}
