package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** berth's images judged by tools no one here wrote: umoci, runc, buildah, skopeo. */
class InteropTest {
    @TempDir
    Path tmp;

    @Test
    void anImageBerthBuiltRunsUnderRuncAndPrintsWhatItsCmdSays() throws Exception {
        Tools.requireRoot();
        Path busybox = Tools.require("busybox");
        Path umoci = Tools.require("umoci");
        Path runc = Tools.require("runc");
        BuildFixture f = new BuildFixture(tmp);
        Files.copy(busybox, f.context.resolve("busybox"));
        f.dockerfile("FROM scratch", "COPY busybox /bin/busybox", "WORKDIR /work",
                "ENTRYPOINT [\"/bin/busybox\"]", "CMD [\"echo\", \"hello from berth\"]");
        Path layout = tmp.resolve("layout");
        f.build(r -> r.tag("hello:1").output(new BuildOutput.OciLayout(layout)));
        Path bundle = tmp.resolve("bundle");
        Tools.run(umoci.toString(), "unpack", "--image", layout + ":docker.io/library/hello:1", bundle.toString()).ok();
        Path config = bundle.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"terminal\": true", "\"terminal\": false")
                .replace("\"terminal\":true", "\"terminal\":false"));
        String id = "berth-test-" + ProcessHandle.current().pid();
        Tools.Result run = Tools.run(List.of("sh", "-c", "cd " + bundle + " && " + runc + " run " + id), Map.of(), null);
        Tools.run(runc.toString(), "delete", "-f", id);
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("hello from berth\n");
    }

    @Test
    void treeAndConfigEqualBuildahsForTheSameContext() throws Exception {
        Tools.requireRoot();
        Path buildah = Tools.require("buildah");
        Path umoci = Tools.require("umoci");
        BuildFixture f = new BuildFixture(tmp);
        copyTree(Path.of(System.getProperty("berth.testdata"), "contexts", "buildah-compare"), f.context);
        Path berthLayout = tmp.resolve("berth-oci");
        f.build(r -> r.tag("cmp:1").output(new BuildOutput.OciLayout(berthLayout)));

        String name = "localhost/berth-interop-" + ProcessHandle.current().pid();
        Path buildahLayout = tmp.resolve("buildah-oci");
        try {
            Tools.run(buildah.toString(), "bud", "--isolation", "chroot", "-q", "-t", name, f.context.toString()).ok();
            Tools.run(buildah.toString(), "push", "-q", name, "oci:" + buildahLayout + ":cmp:1").ok();
        } finally {
            Tools.run(buildah.toString(), "rmi", "-f", name);
        }
        Tools.run(umoci.toString(), "unpack", "--image", berthLayout + ":docker.io/library/cmp:1", tmp.resolve("b1").toString()).ok();
        Tools.run(umoci.toString(), "unpack", "--image", buildahLayout + ":cmp:1", tmp.resolve("b2").toString()).ok();
        assertThat(Trees.describe(tmp.resolve("b1/rootfs"), true))
                .isEqualTo(Trees.describe(tmp.resolve("b2/rootfs"), true));

        ContainerConfig ours = config(berthLayout);
        ContainerConfig theirs = config(buildahLayout);
        Map<String, String> theirLabels = new LinkedHashMap<>(theirs.labels());
        theirLabels.remove("io.buildah.version");
        assertThat(ours.env()).isEqualTo(theirs.env());
        assertThat(ours.cmd()).isEqualTo(theirs.cmd());
        assertThat(ours.entrypoint()).isEqualTo(theirs.entrypoint());
        assertThat(ours.workingDir()).isEqualTo(theirs.workingDir());
        assertThat(ours.user()).isEqualTo(theirs.user());
        assertThat(ours.labels()).isEqualTo(theirLabels);
        assertThat(ours.exposedPorts().keySet()).isEqualTo(theirs.exposedPorts().keySet());
    }

    /** Copies a fixture directory (files, modes) into a test's context. */
    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES,
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static ContainerConfig config(Path layout) {
        try (ImageStore store = ImageStore.open(layout)) {
            // buildah names it "cmp:1" in the layout, berth by its full name.
            var entry = store.entries().stream()
                    .filter(d -> d.annotation(dev.berth.layers.Descriptor.REF_NAME).orElse("").endsWith("cmp:1"))
                    .findFirst().orElseThrow();
            Image image = store.image(entry, Platform.host(), "cmp:1");
            return image.config().value().containerConfig();
        }
    }

    @Test
    void skopeoReadsTheOciLayoutAndTheDockerArchive() throws Exception {
        Path skopeo = Tools.require("skopeo");
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        Path layout = tmp.resolve("out-oci");
        Path archive = tmp.resolve("out/image.tar");
        f.dockerfile("FROM scratch", "COPY a.txt /", "CMD [\"/a.txt\"]");
        BuildResult r = f.build(o -> o.tag("example.com/app:2").output(new BuildOutput.OciLayout(layout))
                .output(new BuildOutput.DockerArchive(archive)));
        Tools.Result oci = Tools.run(skopeo.toString(), "inspect", "oci:" + layout + ":example.com/app:2").ok();
        assertThat(oci.stdout()).contains(r.digest().toString());
        Tools.Result tar = Tools.run(skopeo.toString(), "inspect", "--raw", "docker-archive:" + archive).ok();
        assertThat(tar.stdout()).contains(f.config(r).rootfs().diffIds().getFirst().hex());
        Tools.run(skopeo.toString(), "inspect", "docker-archive:" + archive + ":example.com/app:2").ok();
        // --output replaces the local store: nothing was named there.
        try (ImageStore store = f.home.openStore()) {
            assertThat(store.resolve(Reference.parse("example.com/app:2"))).isEmpty();
        }
    }
}
