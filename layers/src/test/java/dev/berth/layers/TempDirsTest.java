package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TempDirsTest {
    @TempDir
    Path tmp;

    @Test
    void removesOnlyTheDirectoriesOfProcessesThatAreGone() throws IOException {
        Path mine = TempDirs.create(tmp, "build-");
        Files.writeString(mine.resolve("f"), "x");
        assertThat(mine.getFileName().toString()).startsWith("build-" + ProcessHandle.current().pid() + "-");
        Path dead = Files.createDirectories(tmp.resolve("build-2147483646-123"));
        Files.createDirectories(dead.resolve("sub/dir"));
        Path alive = Files.createDirectories(tmp.resolve("build-1-456")); // init never exits
        Path other = Files.createDirectories(tmp.resolve("snapshot-2147483646-789"));
        Path odd = Files.createDirectories(tmp.resolve("build-notapid"));
        TempDirs.removeAbandoned(tmp, "build-");
        assertThat(dead).doesNotExist();
        assertThat(mine.resolve("f")).exists();
        assertThat(alive).exists();
        assertThat(other).exists();
        assertThat(odd).exists();
    }
}
