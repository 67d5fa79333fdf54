package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code -v HOST:CONTAINER[:ro]}: bind mounts resolved inside the container's root. */
class VolumeTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    @Test
    void aReadWriteVolumeSharesFilesBothWays() throws IOException {
        Path dir = Files.createTempDirectory(f.scratch, "rw");
        Files.writeString(dir.resolve("in.txt"), "from host\n");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).volume(Volume.parse(dir + ":/work/data"))
                .command("sh", "-c", "cat /work/data/in.txt; echo from container > /work/data/out.txt"));
        assertThat(r.out()).isEqualTo("from host\n");
        assertThat(Files.readString(dir.resolve("out.txt"))).isEqualTo("from container\n");
    }

    @Test
    void aReadOnlyVolumeRefusesWrites() throws IOException {
        Path dir = Files.createTempDirectory(f.scratch, "ro");
        Files.writeString(dir.resolve("in.txt"), "x\n");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true).volume(Volume.parse(dir + ":/ro:ro"))
                .command("sh", "-c", "cat /ro/in.txt; touch /ro/new && echo WROTE; grep ' /ro ' /proc/self/mountinfo"));
        assertThat(r.out()).startsWith("x\n").doesNotContain("WROTE").contains(" /ro ro,");
        assertThat(r.err()).contains("Read-only file system");
        assertThat(dir.resolve("new")).doesNotExist();
    }

    @Test
    void aSingleFileCanBeMounted() throws IOException {
        Path file = f.scratch.resolve("config.ini");
        Files.writeString(file, "key=value\n");
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().remove(true)
                .volume(Volume.parse(file + ":/etc/app/config.ini:ro")).command("cat", "/etc/app/config.ini"));
        assertThat(r.out()).isEqualTo("key=value\n");
    }

    @Test
    void aSymlinkInTheImageCannotLeadAMountOutOfTheRoot() throws IOException {
        Path escape = Path.of(Fixture.ESCAPE_TARGET);
        assertThat(escape).as("left over from an earlier run?").doesNotExist();
        Path dir = Files.createTempDirectory(f.scratch, "esc");
        Files.writeString(dir.resolve("marker"), "m\n");
        Fixture.Run r = f.run("escape:test", RunOptions.builder().remove(true)
                .volume(Volume.parse(dir + ":/mnt/up/sub")).volume(Volume.parse(dir + ":/mnt/abs/other"))
                .command("sh", "-c", "cat " + Fixture.ESCAPE_TARGET + "/sub/marker "
                        + Fixture.ESCAPE_TARGET + "/other/marker; ls /mnt/up/"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).as("both landed inside the container's root").isEqualTo("m\nm\nother\nsub\n");
        assertThat(escape).as("nothing was created on the host").doesNotExist();
    }
}
