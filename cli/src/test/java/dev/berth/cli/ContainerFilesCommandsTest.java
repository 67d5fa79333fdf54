package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.LayerExtractor;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code berth diff}, {@code commit} and {@code export} as a user runs them: the committed image runs with
 * the changes, and umoci's unpack of it is what {@code export} writes.
 */
class ContainerFilesCommandsTest {

    @Test
    void commitThenRunAndExportEqualsUmociUnpackOfTheCommit() throws Exception {
        Path umoci = Tools.require("umoci");
        Path home = TestBases.busybox("container-files");
        Path tmp = Files.createDirectories(home.getParent().resolve("container-files-tmp"));
        CliRun.berth(home, "run", "--name", "changed", "-w", "/work", "-e", "MINE=1", "busybox:test", "sh", "-c",
                "echo made > made; echo more >> /etc/passwd; rm /bin/vi; mkdir -p /opq; ln -s /etc/passwd /work/link")
                .ok();
        assertThat(CliRun.berth(home, "diff", "changed").ok().out()).isEqualTo(String.join("\n", "C /bin",
                "D /bin/vi", "C /etc", "C /etc/passwd", "A /opq", "A /work", "A /work/link", "A /work/made") + "\n");
        String digest = CliRun.berth(home, "commit", "-m", "by hand", "changed", "committed:1").ok().out().trim();
        assertThat(digest).matches("sha256:[0-9a-f]{64}");
        Tools.Result run = Tools.run(dev.berth.layers.testing.Jvm.command(Berth.class, "run", "--rm", "committed:1", "sh",
                "-c", "pwd; cat made; echo $MINE; ls /bin/vi 2>&1; tail -1 /etc/passwd"),
                Map.of("BERTH_HOME", home.toString()), null); // a JVM of its own: the container writes to its fd 1
        assertThat(run.stdout())
                .as("the container's directory, environment and files").isEqualTo("/work\nmade\n1\n"
                        + "ls: /bin/vi: No such file or directory\nmore\n");
        assertThat(CliRun.berth(home, "inspect", "--format", "json", "committed:1").ok().out())
                .contains("\"created_by\" : \"berth commit\"", "\"comment\" : \"by hand\"");
        java.util.List<String> history = CliRun.berth(home, "history", "committed:1").ok().out().lines().toList();
        assertThat(history.getFirst()).startsWith("IMAGE").contains("CREATED BY", "SIZE", "COMMENT");
        assertThat(history.get(1)).as("the image id, then the step").matches("[0-9a-f]{12} .*berth commit.*by hand");
        assertThat(history.subList(2, history.size())).isNotEmpty().allMatch(l -> l.startsWith("<missing>"));
        assertThat(CliRun.berth(home, "history", "-H=false", "committed:1").ok().out().lines().skip(1).findFirst()
                .orElseThrow()).as("the layer's file bytes: made and passwd").containsPattern("berth commit +\\d+ ");

        Tools.run(umoci.toString(), "unpack", "--image", home.resolve("store") + ":docker.io/library/committed:1",
                tmp.resolve("bundle").toString()).ok();
        CliRun.berth(home, "export", "-o", tmp.resolve("export.tar").toString(), "changed").ok();
        Path exported = Files.createDirectories(tmp.resolve("exported"));
        Tools.run("tar", "-xpf", tmp.resolve("export.tar").toString(), "-C", exported.toString()).ok();
        Map<String, String> theirs = Trees.describe(tmp.resolve("bundle/rootfs"), true);
        Map<String, String> ours = Trees.describe(exported, true);
        assertThat(ours).isEqualTo(theirs).containsKeys("work/made", "work/link").doesNotContainKeys("bin/vi",
                "etc/hosts");
        CliRun.Result none = CliRun.berth(home, "diff", "no-such");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).isEqualTo("berth: no such container: no-such\n");
        CliRun.berth(home, "rm", "changed").ok();
        LayerExtractor.deleteTree(tmp);
    }

    @Test
    void systemDfCountsWhatTheHomeHoldsAndPruneFreesTheStoppedContainers() {
        Path home = TestBases.busybox("system-df");
        CliRun.berth(home, "run", "--name", "big", "busybox:test", "sh", "-c",
                "dd if=/dev/zero of=/file bs=1024 count=2048 2>/dev/null").ok();
        String df = CliRun.berth(home, "system", "df").ok().out();
        assertThat(df.lines().toList()).hasSize(5).first().asString().matches("TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE");
        assertThat(df).containsPattern("(?m)^Images +1 +1 ").containsPattern("(?m)^Containers +1 +0 +2\\.10MB +2\\.10MB \\(100%\\)$")
                .containsPattern("(?m)^Snapshots +1 +1 ");
        CliRun.Result refused = CliRun.berth(home, "system", "prune");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("give -f");
        assertThat(CliRun.berth(home, "system", "prune", "-f").ok().out()).startsWith("Deleted 1 container\n");
        assertThat(CliRun.berth(home, "system", "df").ok().out()).containsPattern("(?m)^Containers +0 +0 +0B");
        assertThat(CliRun.berth(home, "images").ok().out()).as("images stay").contains("busybox");
    }
}
