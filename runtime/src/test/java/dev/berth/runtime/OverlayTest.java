package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The root file system: an overlay of shared, never modified layer snapshots; whiteouts and opaque
 * directories as umoci (the reference unpacker) sees them; and images with more layers than one page of
 * mount options can name.
 */
class OverlayTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static List<Path> snapshots(String name) {
        try (ImageStore store = f.home.openStore()) {
            Image image = store.image(Reference.parse(name), Platform.parse("linux/amd64"));
            SnapshotStore s = SnapshotStore.of(f.home);
            return image.diffIds().stream().map(s::path).toList();
        }
    }

    @Test
    void writesDeletesAndReplacementsLeaveEveryLayerUnchanged() {
        f.run("layers:test", RunOptions.builder().remove(true).command("true")); // the snapshots exist
        List<Path> layers = snapshots("layers:test");
        Map<Path, Map<String, String>> before = new LinkedHashMap<>();
        for (Path l : layers) {
            before.put(l, Trees.describe(l, true));
        }
        Fixture.Run changed = f.run("layers:test", RunOptions.builder().remove(true).command("sh", "-c",
                "set -e; echo written > /new-file; rm /bin/cat /keep/y; echo replaced > /etc/passwd; "
                        + "rm -rf /data; mkdir /data; echo mine > /data/mine; chmod 600 /bin/busybox; "
                        + "mv /keep /moved; ls /data /moved"));
        assertThat(changed.code()).as(changed.err()).isZero();
        assertThat(changed.out()).isEqualTo("/data:\nmine\n\n/moved:\nx\n");
        for (Path l : layers) {
            assertThat(Trees.describe(l, true)).as("layer %s", l.getFileName()).isEqualTo(before.get(l));
        }
        String second = f.run("layers:test", RunOptions.builder().remove(true).command("sh", "-c",
                "cat /etc/passwd | head -1; ls /data /keep; cat /keep/x; [ -e /new-file ] || echo no-new-file; "
                        + "stat -c %a /bin/busybox; ls /bin/cat")).out();
        assertThat(second).isEqualTo("root:x:0:0:root:/root:/bin/sh\n/data:\nc\n\n/keep:\nx\ny\nnew\nno-new-file\n"
                + "755\n/bin/cat\n");
    }

    @Test
    void theRootIsAVolatileOverlay() {
        // volatile: unmounting the root must not sync the whole file system under the upper directory
        String root = f.sh("awk '$5 == \"/\" { for (i = 6; i <= NF; i++) if ($i == \"-\") print $(i + 1), $(i + 3) }'"
                + " /proc/self/mountinfo");
        assertThat(root).startsWith("overlay ").contains("volatile");
    }

    @Test
    void aContainersChangesStayInItsOwnUpperDirectory() throws IOException {
        Fixture.Run r = f.run(Fixture.BUSYBOX, RunOptions.builder().command("sh", "-c",
                "echo kept > /root/note; rm /etc/group"));
        Path upper = f.home.containers().resolve(r.result().id()).resolve("upper");
        assertThat(Files.readString(upper.resolve("root/note"))).isEqualTo("kept\n");
        Map<String, Object> whiteout = Files.readAttributes(upper.resolve("etc/group"), "unix:mode,rdev",
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        assertThat((Integer) whiteout.get("mode") & 0170000).as("a character device").isEqualTo(0020000);
        assertThat(whiteout.get("rdev")).isEqualTo(0L);
        f.runtime.remove(List.of(r.result().name()), false);
        assertThat(f.home.containers().resolve(r.result().id())).doesNotExist();
    }

    @Test
    void theMergedViewOfWhiteoutsAndOpaqueDirectoriesIsWhatUmociUnpacks() throws IOException {
        Path umoci = Tools.require("umoci");
        Path bundle = f.scratch.resolve("umoci-layers");
        List<String> unpack = new ArrayList<>(List.of(umoci.toString(), "unpack"));
        if (Fixture.rootless()) {
            unpack.add("--rootless");
        }
        unpack.addAll(List.of("--image", f.home.store() + ":docker.io/library/layers:test", bundle.toString()));
        Tools.run(unpack).ok();
        String script = "cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev \\) -prune -o -print "
                + "| sort | while read p; do "
                + "if [ -L \"$p\" ]; then echo \"$p link $(readlink \"$p\")\"; "
                + "elif [ -d \"$p\" ]; then echo \"$p dir $(stat -c %a \"$p\")\"; "
                + "elif [ -f \"$p\" ]; then echo \"$p file $(stat -c %a \"$p\") $(sha256sum < \"$p\" | cut -d' ' -f1)\"; "
                + "fi; done";
        Fixture.Run r = f.run("layers:test", RunOptions.builder().remove(true).command("sh", "-c", script));
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, String> inContainer = new TreeMap<>();
        for (String line : r.out().lines().toList()) {
            int sp = line.indexOf(' ');
            inContainer.put(line.substring(0, sp), line.substring(sp + 1));
        }
        // the root's own mode, and the /etc files berth binds in, are not the image's
        inContainer.remove(".");
        List.of("./etc/hosts", "./etc/hostname", "./etc/resolv.conf").forEach(inContainer::remove);
        assertThat(inContainer).containsKeys("./data/c", "./keep/x", "./new").doesNotContainKeys("./data/a",
                "./etc/removeme");
        Map<String, String> unpacked = describe(bundle.resolve("rootfs"));
        Map<String, String> differences = new TreeMap<>();
        for (String k : union(inContainer.keySet(), unpacked.keySet())) {
            if (!java.util.Objects.equals(inContainer.get(k), unpacked.get(k))) {
                differences.put(k, "container: " + inContainer.get(k) + " | umoci: " + unpacked.get(k));
            }
        }
        assertThat(differences).as("paths that differ").isEmpty();
        assertThat(inContainer).as("busybox and its applets").hasSizeGreaterThan(250);
    }

    private static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> u = new java.util.TreeSet<>(a);
        u.addAll(b);
        return u;
    }

    /** The same listing as the in-container script, from a directory on the host. */
    private static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                String rel = "." + (d.equals(root) ? "" : "/" + root.relativize(d));
                if (List.of("./proc", "./sys", "./dev").contains(rel)) {
                    return FileVisitResult.SKIP_SUBTREE; // pruned in the container too: mount points there
                }
                if (!d.equals(root)) {
                    out.put(rel, "dir " + mode(d));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path p, BasicFileAttributes a) throws IOException {
                String rel = "./" + root.relativize(p);
                if (a.isSymbolicLink()) {
                    out.put(rel, "link " + Files.readSymbolicLink(p));
                } else if (a.isRegularFile()) {
                    out.put(rel, "file " + mode(p) + " " + Trees.sha256(p));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return out;
    }

    private static String mode(Path p) throws IOException {
        return Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode",
                java.nio.file.LinkOption.NOFOLLOW_LINKS) & 07777);
    }

    @Test
    void imagesWithMoreLayersThanOnePageOfMountOptionsRunInEveryOverlayMode() {
        List<Path> layers = snapshots("many:test");
        assertThat(layers).hasSize(Fixture.MANY);
        String absolute = String.join(":", layers.stream().map(Path::toString).toList());
        assertThat(absolute.length()).as("absolute lowerdirs would not fit in one page").isGreaterThan(4096);
        for (OverlayMode mode : OverlayMode.values()) {
            Fixture.Run r = f.run("many:test", RunOptions.builder().remove(true).overlayMode(mode)
                    .command("sh", "-c", "ls /many | wc -l; cat /many/f1 /many/f199"));
            assertThat(r.code()).as("%s: %s", mode, r.err()).isZero();
            assertThat(r.out()).as(mode.name()).isEqualTo((Fixture.MANY - 1) + "\n1\n199\n");
        }
    }

    @Test
    void snapshotsAreSharedAndKeyedByDiffId() throws IOException {
        f.sh("true");
        List<Path> busybox = snapshots(Fixture.BUSYBOX);
        assertThat(busybox).hasSize(1);
        assertThat(busybox.getFirst()).isDirectory();
        Digest diffId = Digest.parse("sha256:" + busybox.getFirst().getFileName());
        assertThat(snapshots("nocmd:test")).containsExactly(f.home.snapshots().resolve(diffId.hex()));
        try (var tmp = Files.list(f.home.tmp())) {
            assertThat(tmp.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("snapshot-")).toList())
                    .as("no extraction left behind").isEmpty();
        }
        List<Path> shared = new ArrayList<>(snapshots("many:test")); // base first
        assertThat(shared.getFirst()).as("many:test's base layer is busybox's").isEqualTo(busybox.getFirst());
    }

    @Test
    void concurrentExtractionsOfTheSameLayersAgree() throws Exception {
        Path dir = Files.createTempDirectory(f.scratch, "snapshots");
        Path tmp;
        SnapshotStore store;
        Image image;
        if (Fixture.rootless()) { // extractions in the user's namespace, into a home of their own
            BerthHome home = new BerthHome(dir.resolve("home"));
            try (ImageStore from = f.home.openStore(); ImageStore to = home.openStore()) {
                var d = from.resolve(Reference.parse("layers:test")).orElseThrow();
                to.copyFrom(from, d);
                to.tag(Reference.parse("layers:test"), d);
                image = to.image(Reference.parse("layers:test"), Platform.parse("linux/amd64"));
            }
            tmp = home.tmp();
            store = SnapshotStore.of(home);
        } else {
            tmp = Files.createDirectories(dir.resolve("tmp"));
            store = new SnapshotStore(dir.resolve("snap"), tmp);
            try (ImageStore s = f.home.openStore()) {
                image = s.image(Reference.parse("layers:test"), Platform.parse("linux/amd64"));
            }
        }
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<List<Path>>> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(pool.submit(() -> store.prepare(image)));
            }
            List<Path> first = all.getFirst().get();
            for (var r : all) {
                assertThat(r.get()).isEqualTo(first);
            }
            assertThat(first).hasSize(3).allSatisfy(p -> assertThat(p).isDirectory());
            assertThat(Trees.describe(first.get(2), true)).containsKey("etc/removeme");
            assertThat(Trees.describe(first.get(1), true).get("etc/removeme")).as("a whiteout").startsWith("special 20000");
        } finally {
            pool.shutdownNow();
        }
        try (var left = Files.list(tmp)) {
            assertThat(left.toList()).as("no extraction left behind").isEmpty();
        }
    }

    @Test
    void aLayerUnpackedAsideBecomesTheSnapshotThatPrepareMakes() throws Exception {
        Path dir = Files.createTempDirectory(f.scratch, "aside");
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Image image;
        try (ImageStore s = f.home.openStore()) {
            image = s.image(Reference.parse("layers:test"), Platform.parse("linux/amd64"));
        }
        if (Fixture.rootless()) { // rootless snapshots need the user's namespace, which a pull is not in
            SnapshotStore rootless = SnapshotStore.of(f.home);
            try (var in = image.blobs().open(image.layers().getFirst())) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> rootless.unpackAside(in, "layer"))
                        .isInstanceOf(IllegalStateException.class);
            }
            return;
        }
        SnapshotStore aside = new SnapshotStore(dir.resolve("aside"), tmp);
        SnapshotStore prepared = new SnapshotStore(dir.resolve("prepared"), tmp);
        for (int i = 0; i < image.layers().size(); i++) {
            SnapshotStore.Aside a;
            try (var in = image.blobs().open(image.layers().get(i))) {
                a = aside.unpackAside(in, "layer " + i);
            }
            assertThat(a.diffId()).isEqualTo(image.diffIds().get(i));
            assertThat(aside.path(a.diffId())).doesNotExist();
            a.keep();
            assertThat(aside.path(a.diffId())).isDirectory();
        }
        List<Path> expected = prepared.prepare(image);
        List<Path> got = image.diffIds().reversed().stream().map(aside::path).toList();
        for (int i = 0; i < expected.size(); i++) {
            assertThat(Trees.describe(got.get(i), true)).isEqualTo(Trees.describe(expected.get(i), true));
        }
        // once more: kept over an existing snapshot it is dropped; discarded it is deleted
        try (var in = image.blobs().open(image.layers().getFirst())) {
            aside.unpackAside(in, "again").keep();
        }
        try (var in = image.blobs().open(image.layers().getLast())) {
            aside.unpackAside(in, "dropped").discard();
        }
        assertThat(aside.path(image.diffIds().getLast())).isDirectory();
        try (var left = Files.list(tmp)) {
            assertThat(left.toList()).as("no extraction left behind").isEmpty();
        }
        // a blob that is not a layer throws and leaves nothing
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> aside.unpackAside(
                new java.io.ByteArrayInputStream(new byte[] {31, (byte) 139, 8, 0, 1, 2}), "layer broken"))
                .hasMessageContaining("layer broken");
        try (var left = Files.list(tmp)) {
            assertThat(left.toList()).isEmpty();
        }
    }
}
