package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * buildah as the oracle for RUN: the same Dockerfile on the same busybox base, built by {@code buildah bud
 * --layers} and by berth, unpacked by umoci, gives the same tree (paths, types, modes, owners, contents,
 * link targets), and every RUN layer has the same whiteouts and opaque markers.
 *
 * <p>One difference is expected and checked: buildah leaves the mount points it made in the layers (empty
 * {@code /proc}, {@code /sys}, {@code /dev}, {@code /run}, {@code /etc/hosts} and the cache mount's
 * target), as BuildKit does not; berth removes them as BuildKit does.
 */
class RunOracleTest {
    @TempDir
    Path tmp;

    private static final List<String> DOCKERFILE = List.of(
            "FROM busybox:test",
            "RUN mkdir -p /data/keep /data/gone /opq /srv && echo a > /data/keep/x && echo b > /data/gone/y "
                    + "&& echo c > /opq/1 && echo d > /opq/2 && echo old > /etc/motd && echo e > /srv/e",
            "RUN rm -rf /data/gone /etc/motd && rm -rf /opq && mkdir /opq && echo new > /opq/3 "
                    + "&& chmod 700 /data/keep && chown 1000:1000 /data/keep/x && chmod 4755 /srv/e "
                    + "&& ln -s /data/keep/x /link && ln /data/keep/x /hard && mkfifo /fifo && rm /bin/vi",
            "RUN --mount=type=cache,target=/var/cache/thing sh -c 'echo cached > /var/cache/thing/f; echo done > /done'");

    /** What buildah leaves and berth does not: the mount points it made (the base has /proc, /sys, /dev). */
    private static final Set<String> BUILDAH_STUBS = Set.of("run", "etc/hosts", "etc/hostname", "etc/resolv.conf",
            "var/cache", "var/cache/thing");

    @Test
    void berthAndBuildahMakeTheSameTreeAndTheSameWhiteouts() throws Exception {
        Path buildah = Tools.require("buildah");
        Path skopeo = Tools.require("skopeo");
        Path umoci = Tools.require("umoci");
        Path home = TestBases.busybox("run-oracle");
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Builds.dockerfile(ctx, DOCKERFILE.toArray(String[]::new));
        String storage = "[overlay@" + tmp.resolve("storage") + "+" + tmp.resolve("runroot") + "]";
        List<String> bud = List.of(buildah.toString(), "--root", tmp.resolve("storage").toString(), "--runroot",
                tmp.resolve("runroot").toString(), "--storage-driver", "overlay");

        Tools.run(skopeo.toString(), "copy", "-q", "oci:" + home.resolve("store") + ":docker.io/library/busybox:test",
                "containers-storage:" + storage + "docker.io/library/busybox:test").ok();
        List<String> build = new ArrayList<>(bud);
        build.addAll(List.of("bud", "--pull=never", "--layers", "-t", "oracle:1", ctx.toString()));
        Tools.run(build).ok();
        List<String> push = new ArrayList<>(bud);
        push.addAll(List.of("push", "oracle:1", "oci:" + tmp.resolve("theirs") + ":oracle"));
        Tools.run(push).ok();
        CliRun.berth(home, "build", "-q", "-t", "mine:1", "-o", "oci:" + tmp.resolve("ours"), ctx.toString()).ok();

        Tools.run(umoci.toString(), "unpack", "--image", tmp.resolve("theirs") + ":oracle",
                tmp.resolve("theirs-bundle").toString()).ok();
        Tools.run(umoci.toString(), "unpack", "--image", tmp.resolve("ours") + ":docker.io/library/mine:1",
                tmp.resolve("ours-bundle").toString()).ok();
        Map<String, String> theirs = new TreeMap<>(Trees.describe(tmp.resolve("theirs-bundle/rootfs"), true));
        Map<String, String> ours = Trees.describe(tmp.resolve("ours-bundle/rootfs"), true);
        Map<String, String> onlyTheirs = new TreeMap<>(theirs);
        onlyTheirs.keySet().removeAll(ours.keySet());
        assertThat(BUILDAH_STUBS).as("what only buildah's image has").containsAll(onlyTheirs.keySet());
        assertThat(onlyTheirs.values()).as("all empty").allMatch(v -> v.startsWith("dir ")
                || v.endsWith(" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        theirs.keySet().removeAll(BUILDAH_STUBS);
        assertThat(ours).isEqualTo(theirs);
        assertThat(ours).containsKeys("data/keep/x", "hard", "link", "fifo", "opq/3", "done")
                .doesNotContainKeys("data/gone", "etc/motd", "opq/1", "bin/vi");
        assertThat(Files.isSameFile(tmp.resolve("ours-bundle/rootfs/hard"), tmp.resolve("ours-bundle/rootfs/data/keep/x")))
                .as("hard links stay hard links").isTrue();

        List<List<String>> theirWhiteouts = whiteouts(tmp.resolve("theirs"), "oracle");
        List<List<String>> ourWhiteouts = whiteouts(tmp.resolve("ours"), "docker.io/library/mine:1");
        assertThat(ourWhiteouts).isEqualTo(theirWhiteouts);
        assertThat(ourWhiteouts.get(2)).containsExactly("bin/.wh.vi", "data/.wh.gone", "etc/.wh.motd",
                "opq/.wh..wh..opq");
    }

    /** The whiteout entries of each layer of an image in an OCI layout, sorted. */
    private static List<List<String>> whiteouts(Path layout, String ref) throws IOException {
        var index = new com.fasterxml.jackson.databind.ObjectMapper().readTree(layout.resolve("index.json").toFile());
        String manifest = null;
        for (var m : index.get("manifests")) {
            if (ref.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                manifest = m.get("digest").asText().substring(7);
            }
        }
        var layers = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(layout.resolve("blobs/sha256").resolve(manifest).toFile()).get("layers");
        List<List<String>> out = new ArrayList<>();
        for (var l : layers) {
            List<String> names = new ArrayList<>();
            try (InputStream in = Files.newInputStream(layout.resolve("blobs/sha256").resolve(l.get("digest").asText()
                    .substring(7)));
                 TarArchiveInputStream tar = new TarArchiveInputStream(new java.util.zip.GZIPInputStream(in))) {
                for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                    String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                    if (name.substring(name.lastIndexOf('/') + 1).startsWith(".wh.")) {
                        names.add(name);
                    }
                }
            }
            names.sort(null);
            out.add(names);
        }
        return out;
    }
}
