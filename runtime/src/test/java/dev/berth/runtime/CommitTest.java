package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Trees;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A container of layers that are not an image of the store (as a build's RUN is), with mounts beyond
 * volumes, its output on a pipe, and its upper directory handed back when it exits: a complete diff
 * without the mount points the helper made.
 */
class CommitTest {
    static Fixture f;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    /** Rootless, the changes are owned by the user's sub-ids: only the user's namespace may remove them. */
    @AfterEach
    void removeChanges() throws java.io.IOException {
        if (Fixture.rootless()) {
            UsernsTasks.forCurrentUser(f.home).deleteTree(tmp);
            Files.createDirectories(tmp);
        }
    }

    private static Image image(String name) {
        try (ImageStore store = f.home.openStore()) {
            return store.image(Reference.parse(name), Platform.parse("linux/amd64"));
        }
    }

    /** busybox's layers, with the given config (and its layer twice, as images with repeated layers have). */
    private static ContainerImage step(ContainerConfig config) {
        Image busybox = image(Fixture.BUSYBOX);
        List<ContainerImage.Layer> layers = new ArrayList<>(ContainerImage.layersOf(busybox));
        layers.addAll(ContainerImage.layersOf(busybox));
        return new ContainerImage("step", "", layers, busybox.blobs(), config, busybox.platform());
    }

    private static String output(RunningContainer c) throws Exception {
        String out = new String(c.output().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(c.await().exitCode()).as(out).isZero();
        return out;
    }

    @Test
    void theUpperDirectoryComesBackWithoutTheHelpersMountPoints() throws Exception {
        ContainerConfig.Builder cc = ContainerConfig.EMPTY.toBuilder();
        cc.env = List.of("PATH=/bin", "GREETING=hi");
        cc.user = Optional.of("app");
        cc.workingDir = Optional.of("/home/app/work");
        Path changes = tmp.resolve("changes");
        RunningContainer c = f.runtime.start(step(cc.build()), RunOptions.builder().remove(true).entrypoint("")
                .command("sh", "-c", "echo $GREETING $(id -u) $(pwd); echo err >&2; echo made > ../made; "
                        + "echo t > /mnt/t/in-tmpfs")
                .stdout(Stdio.PIPE).stderr(Stdio.PIPE).commitTo(changes)
                .mount(new ContainerMount.Tmpfs("/mnt/t", OptionalLong.of(1 << 20))).build());
        assertThat(output(c)).isEqualTo("hi 1000 /home/app/work\nerr\n");
        assertThat(Trees.describe(changes, true).keySet()).as("/etc/hosts, /etc/hostname, /etc/resolv.conf and "
                + "/mnt/t were made for mounts; the working directory was made for the command")
                .containsExactly("home", "home/app", "home/app/made", "home/app/work");
        assertThat(f.home.containers().resolve(c.id())).doesNotExist();
    }

    @Test
    void mountsOfImageLayersAndOfDirectoriesWithHiddenEntriesNeverWriteTheirSources() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("dir"));
        Trees.file(dir, "a", "a", 0644);
        Trees.file(dir, "b/hidden", "h", 0644);
        Trees.file(dir, "b/shown", "s", 0600);
        Path changes = tmp.resolve("changes");
        Image layers = image("layers:test");
        ContainerConfig.Builder cc = ContainerConfig.EMPTY.toBuilder();
        cc.env = List.of("PATH=/bin");
        RunningContainer c = f.runtime.start(step(cc.build()), RunOptions.builder().remove(true).entrypoint("")
                .command("sh", "-c", "ls /data /d /d/b; cat /k; stat -c %a /d/b/shown; touch /data/w /d/w && echo wrote")
                .stdout(Stdio.PIPE).stderr(Stdio.PIPE).commitTo(changes)
                .mount(new ContainerMount.Layers("/data", ContainerImage.layersOf(layers), layers.blobs(), "/data", true))
                .mount(new ContainerMount.Layers("/k", ContainerImage.layersOf(layers), layers.blobs(), "/keep/x", false))
                .mount(new ContainerMount.Directory("/d", dir, List.of("b/hidden"), true)).build());
        assertThat(output(c)).isEqualTo("/d:\na\nb\n\n/d/b:\nshown\n\n/data:\nc\nnew\n600\nwrote\n");
        assertThat(dir.resolve("w")).doesNotExist();
        assertThat(Trees.describe(changes, false)).isEmpty();
    }
}
