package dev.berth.layers;

import static dev.berth.layers.testing.Trees.dir;
import static dev.berth.layers.testing.Trees.file;
import static dev.berth.layers.testing.Trees.symlink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.LayerEntry.Attributes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LayerWriterTest {
    @TempDir
    Path tmp;

    private Path sampleTree(Path root) {
        file(root, "bin/app", "#!/bin/sh\necho hi\n", 0755);
        file(root, "etc/config.txt", "key=value\n", 0644);
        file(root, "etc/secret", "s", 0600);
        dir(root, "var/empty", 0700);
        symlink(root, "etc/link", "config.txt");
        symlink(root, "abs", "/etc/config.txt");
        file(root, "deep/" + "d".repeat(80) + "/" + "f".repeat(90), "long name", 0644);
        file(root, "unicode/ünïcödé.txt", "äöü", 0644);
        file(root, "big.bin", new String(new char[300_000]).replace('\0', 'x'), 0644);
        return root;
    }

    private static List<TarArchiveEntry> entries(byte[] tar) throws IOException {
        List<TarArchiveEntry> out = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.add(e);
            }
        }
        return out;
    }

    private static byte[] tar(LayerWriter w) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTar(out);
        return out.toByteArray();
    }

    @Test
    void sameTreeWithOtherTimesAndOwnersGivesTheSameDigests() throws IOException {
        Path a = sampleTree(tmp.resolve("a"));
        Path b = sampleTree(tmp.resolve("b"));
        // different mtimes, atimes and (as root) owners in the second copy
        try (var s = Files.walk(b)) {
            for (Path p : s.toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.getFileAttributeView(p, java.nio.file.attribute.BasicFileAttributeView.class)
                            .setTimes(FileTime.from(Instant.parse("2011-02-03T04:05:06.789Z")),
                                    FileTime.from(Instant.parse("2012-02-03T04:05:06Z")), null);
                    if (BerthHome.isRoot()) {
                        Files.setAttribute(p, "unix:uid", 1234);
                        Files.setAttribute(p, "unix:gid", 4321);
                    }
                }
            }
        }
        try (ImageStore store = ImageStore.open(tmp.resolve("store"))) {
            LayerWriter.Result ra = LayerWriter.create().addTree(a, LayerPath.of("app"), Attributes.DEFAULT)
                    .write(store, Compression.defaultGzip(), false);
            LayerWriter.Result rb = LayerWriter.create().addTree(b, LayerPath.of("app"), Attributes.DEFAULT)
                    .write(store, Compression.defaultGzip(), false);
            assertThat(rb.diffId()).isEqualTo(ra.diffId());
            assertThat(rb.blob()).isEqualTo(ra.blob());
            assertThat(ra.blob().mediaType()).isEqualTo(MediaType.OCI_LAYER_GZIP);
            // the blob is the gzip of a tar whose hash is the diff_id
            try (var in = new GZIPInputStream(store.open(ra.blob(), "test"))) {
                assertThat(Digest.sha256(in.readAllBytes())).isEqualTo(ra.diffId());
            }
        }
    }

    @Test
    void entriesAreSortedParentsFirstWithFixedMetadata() throws IOException {
        Path root = sampleTree(tmp.resolve("t"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-x---"));
        byte[] tar = tar(LayerWriter.create().addTree(root, LayerPath.of("opt/app"), Attributes.DEFAULT));
        List<TarArchiveEntry> es = entries(tar);
        List<String> names = es.stream().map(TarArchiveEntry::getName).toList();
        assertThat(names).isSorted();
        assertThat(names).startsWith("opt/", "opt/app/");
        assertThat(names).doesNotHaveDuplicates().noneMatch(n -> n.startsWith("./") || n.startsWith("/"));
        for (TarArchiveEntry e : es) {
            assertThat(e.getModTime().toInstant()).as(e.getName()).isEqualTo(Instant.ofEpochSecond(1));
            assertThat(e.getUserName()).isEmpty();
            assertThat(e.getGroupName()).isEmpty();
            assertThat(e.getLongUserId()).isZero();
            assertThat(e.getLastAccessTime()).isNull();
            assertThat(e.getStatusChangeTime()).isNull();
        }
        TarArchiveEntry created = es.get(0);
        assertThat(created.isDirectory()).isTrue();
        assertThat(created.getMode() & 07777).isEqualTo(0755);
        // the tree's own directory is the destination, with its mode from disk
        assertThat(byName(es, "opt/app/").getMode() & 07777).isEqualTo(0750);
        assertThat(byName(es, "opt/app/etc/secret").getMode() & 07777).isEqualTo(0600);
        assertThat(byName(es, "opt/app/var/empty/").getMode() & 07777).isEqualTo(0700);
        assertThat(byName(es, "opt/app/etc/link").getLinkName()).isEqualTo("config.txt");
        assertThat(byName(es, "opt/app/abs").getLinkName()).isEqualTo("/etc/config.txt");
        assertThat(byName(es, "opt/app/unicode/ünïcödé.txt").getSize()).isEqualTo(6);
        assertThat(names).anyMatch(n -> n.length() > 180);
        // USTAR with PAX only where needed: a short ASCII name has no PAX header before it
        assertThat(new String(tar, 0, 100, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("opt/");
        // the archive ends with exactly two zero records, no blocking-factor padding
        assertThat(tar.length % 512).isZero();
    }

    @Test
    void ownershipAndModesAsGivenAndCreatedParentsAsConfigured() throws IOException {
        LayerWriter w = LayerWriter.create(Instant.parse("2020-01-01T00:00:00.5Z"))
                .parentAttributes(Attributes.of(0750, 1000, 1000))
                .add(new LayerEntry.Content(LayerPath.of("home/me/.profile"), "x".getBytes(), Attributes.of(0640, 1000, 1000)));
        List<TarArchiveEntry> es = entries(tar(w));
        assertThat(es).extracting(TarArchiveEntry::getName).containsExactly("home/", "home/me/", "home/me/.profile");
        assertThat(es.get(0).getMode() & 07777).isEqualTo(0750);
        assertThat(es.get(1).getLongGroupId()).isEqualTo(1000);
        assertThat(es.get(2).getModTime().toInstant()).isEqualTo(Instant.parse("2020-01-01T00:00:00Z"));
    }

    @Test
    void hardlinksInsideTheLayerAreLinksAndOutsideAreContent() throws IOException {
        Path root = tmp.resolve("h");
        Path original = file(root, "a/original", "same inode", 0644);
        Files.createLink(root.resolve("b-link"), original);
        List<TarArchiveEntry> es = entries(tar(LayerWriter.create().addTree(root, LayerPath.ROOT, Attributes.DEFAULT)));
        TarArchiveEntry link = byName(es, "b-link");
        assertThat(link.isLink()).isTrue();
        assertThat(link.getLinkName()).isEqualTo("a/original");
        assertThat(byName(es, "a/original").getSize()).isEqualTo(10);
        // only one of the two names is in this layer: it carries the content
        List<TarArchiveEntry> one = entries(tar(LayerWriter.create()
                .addFromDisk(root.resolve("b-link"), LayerPath.of("only"), Attributes.DEFAULT)));
        assertThat(one).singleElement().satisfies(e -> {
            assertThat(e.isFile()).isTrue();
            assertThat(e.getSize()).isEqualTo(10);
        });
    }

    @Test
    void aTreeGivenAsARelativeOrSlashEndedPathHasTheSameEntries() throws IOException {
        Path root = sampleTree(tmp.resolve("r"));
        List<String> expected = entries(tar(LayerWriter.create().addTree(root, LayerPath.ROOT, Attributes.DEFAULT)))
                .stream().map(TarArchiveEntry::getName).toList();
        assertThat(expected).contains("bin/", "bin/app", "etc/link", "var/empty/");
        Path relative = Path.of("").toAbsolutePath().relativize(root);
        for (Path p : List.of(relative, Path.of(root + "/"), root.resolve("."))) {
            assertThat(entries(tar(LayerWriter.create().addTree(p, LayerPath.ROOT, Attributes.DEFAULT))))
                    .extracting(TarArchiveEntry::getName).as(p.toString()).isEqualTo(expected);
        }
    }

    @Test
    void aTreeWrittenAsItIsWalkedIsTheTreeWalkedFirst() throws IOException {
        Path root = sampleTree(tmp.resolve("s"));
        // names around "d/" in sort order: '-' and '.' sort before '/', '0' and 'é' after it
        for (String name : List.of("d-x", "d.x", "d0", "dé", "d/in-x", "d/in/z", "d/in.x", "d/in0", "e", "D", "a b")) {
            file(root, name, name, 0644);
        }
        Files.createLink(root.resolve("d/hard"), root.resolve("e"));
        for (LayerPath destination : List.of(LayerPath.ROOT, LayerPath.of("opt/app"))) {
            LayerWriter streamed = LayerWriter.create().addTree(root, destination, Attributes.DEFAULT);
            LayerWriter walked = LayerWriter.create().addTree(root, destination, Attributes.DEFAULT);
            assertThat(walked.size()).isPositive(); // walks the tree now
            byte[] tar = tar(streamed);
            assertThat(tar).as("%s", destination).isEqualTo(tar(walked));
            List<String> names = entries(tar).stream().map(TarArchiveEntry::getName).toList();
            assertThat(names).isSorted().doesNotHaveDuplicates().contains(destination.isRoot() ? "d/in/z" : "opt/app/d/in/z");
            assertThat(entries(tar)).filteredOn(TarArchiveEntry::isLink).hasSize(1);
        }
    }

    @Test
    void aTreeIsWalkedAtOnceWhenMoreIsAdded() throws IOException {
        Path root = sampleTree(tmp.resolve("m"));
        LayerWriter w = LayerWriter.create().addTree(root, LayerPath.ROOT, Attributes.DEFAULT)
                .add(new LayerEntry.Content(LayerPath.of("etc/config.txt"), "replaced".getBytes(), Attributes.DEFAULT))
                .addTree(root.resolve("etc"), LayerPath.of("copy"), Attributes.DEFAULT);
        List<TarArchiveEntry> es = entries(tar(w));
        assertThat(byName(es, "etc/config.txt").getSize()).isEqualTo(8);
        assertThat(byName(es, "copy/config.txt").getSize()).isEqualTo(10);
        assertThat(es).extracting(TarArchiveEntry::getName).isSorted().contains("bin/app", "copy/", "copy/secret");
    }

    @Test
    void aTreeMustBeADirectory() throws IOException {
        Path plain = file(tmp.resolve("f"), "plain", "not a tree", 0644);
        Path link = Files.createSymbolicLink(tmp.resolve("f/link"), tmp.resolve("f"));
        for (Path p : List.of(plain, link)) {
            LayerWriter w = LayerWriter.create();
            assertThatThrownBy(() -> w.addTree(p, LayerPath.of("app"), Attributes.DEFAULT))
                    .isInstanceOf(LayersException.class)
                    .hasMessage("cannot add the tree " + p + ": not a directory");
            assertThat(w.isEmpty()).isTrue();
        }
    }

    @Test
    void oneFileAddedUnderTwoNamesIsContentTwice() throws IOException {
        Path source = file(tmp.resolve("t"), "single", "one inode, one link", 0644);
        List<TarArchiveEntry> es = entries(tar(LayerWriter.create()
                .add(new LayerEntry.File(LayerPath.of("a"), source, Attributes.DEFAULT))
                .add(new LayerEntry.File(LayerPath.of("b"), source, Attributes.DEFAULT))));
        assertThat(es).extracting(TarArchiveEntry::getName).containsExactly("a", "b");
        assertThat(es).allSatisfy(e -> {
            assertThat(e.isFile()).isTrue();
            assertThat(e.getSize()).isEqualTo(19);
        });
    }

    @Test
    void aSourceThatChangesBeforeItIsWrittenIsAnErrorNamingIt() throws IOException {
        Path root = tmp.resolve("c");
        Path removed = file(root, "removed", "r", 0644);
        LayerWriter gone = LayerWriter.create().addTree(root, LayerPath.ROOT, Attributes.DEFAULT);
        assertThat(gone.size()).isEqualTo(1); // walks the tree now, not as the layer is written
        Files.delete(removed);
        assertThatThrownBy(() -> tar(gone)).hasMessage("\"removed\": source file " + removed + " no longer exists");

        Path dir = Files.createDirectories(root.resolve("now-a-dir"));
        assertThatThrownBy(() -> tar(LayerWriter.create()
                .add(new LayerEntry.File(LayerPath.of("d"), dir, Attributes.DEFAULT))))
                .hasMessage("\"d\": source " + dir + " is not a regular file");
    }

    @Test
    void whiteoutsAndOpaqueDirectories() throws IOException {
        LayerWriter w = LayerWriter.create()
                .add(new LayerEntry.Whiteout(LayerPath.of("etc/removed")))
                .add(new LayerEntry.OpaqueWhiteout(LayerPath.of("var/cache")))
                .add(new LayerEntry.Content(LayerPath.of("var/cache/new"), new byte[0], Attributes.DEFAULT));
        assertThat(entries(tar(w))).extracting(TarArchiveEntry::getName).containsExactly(
                "etc/", "etc/.wh.removed", "var/", "var/cache/", "var/cache/.wh..wh..opq", "var/cache/new");
        assertThatThrownBy(() -> LayerWriter.create()
                .add(new LayerEntry.Content(LayerPath.of("x/.wh.y"), new byte[0], Attributes.DEFAULT)))
                .hasMessageContaining("reserved for whiteouts");
    }

    @Test
    void laterEntriesReplaceEarlierOnesAndConflictsAreErrors() throws IOException {
        LayerWriter w = LayerWriter.create()
                .add(new LayerEntry.Content(LayerPath.of("f"), "one".getBytes(), Attributes.DEFAULT))
                .add(new LayerEntry.Content(LayerPath.of("f"), "two".getBytes(), Attributes.DEFAULT));
        assertThat(entries(tar(w))).singleElement().extracting(TarArchiveEntry::getSize).isEqualTo(3L);
        LayerWriter conflict = LayerWriter.create()
                .add(new LayerEntry.Content(LayerPath.of("a"), new byte[0], Attributes.DEFAULT))
                .add(new LayerEntry.Content(LayerPath.of("a/b"), new byte[0], Attributes.DEFAULT));
        assertThatThrownBy(() -> tar(conflict)).hasMessageContaining("\"a\" is added both as a directory and as a non-directory");
    }

    @Test
    void socketsAreLeftOut() throws IOException {
        Path root = tmp.resolve("s");
        file(root, "keep", "k", 0644);
        Path sock = root.resolve("sock");
        try (var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(java.net.UnixDomainSocketAddress.of(sock));
            assertThat(entries(tar(LayerWriter.create().addTree(root, LayerPath.ROOT, Attributes.DEFAULT))))
                    .extracting(TarArchiveEntry::getName).containsExactly("keep");
        }
    }

    @Test
    void emptyLayerHasTheWellKnownDiffId() throws IOException {
        assertThat(LayerWriter.create().writeTar(new ByteArrayOutputStream()))
                .hasToString("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 524288, 1_048_575, 1_048_576, 1_048_577, 3_500_017}) // around one 1 MiB block
    void parallelGzipIsTheSameOnOneAndTwoThreadsAndIsValidGzip(int size) throws IOException {
        byte[] data = new byte[size];
        Random r = new Random(size);
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (r.nextInt(16) + 'a'); // compressible, but not trivially
        }
        byte[] one = gzip(data, 1);
        byte[] two = gzip(data, 2);
        byte[] four = gzip(data, 4);
        assertThat(two).isEqualTo(one);
        assertThat(four).isEqualTo(one);
        try (var in = new GZIPInputStream(new ByteArrayInputStream(one))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        // header: no name, mtime 0, OS unknown
        assertThat(java.util.Arrays.copyOf(one, 10)).containsExactly(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);
    }

    private static byte[] gzip(byte[] data, int threads) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var z = new Compression.Gzip(6, threads).compress(out)) {
            // odd write sizes, so block boundaries never line up with writes
            for (int off = 0; off < data.length; off += 7919) {
                z.write(data, off, Math.min(7919, data.length - off));
            }
        }
        return out.toByteArray();
    }

    @Test
    void zstdAndUncompressedLayers() throws IOException {
        try (ImageStore store = ImageStore.open(tmp.resolve("store"))) {
            LayerWriter w = LayerWriter.create().add(new LayerEntry.Content(LayerPath.of("a"), "abc".getBytes(), Attributes.DEFAULT));
            LayerWriter.Result z1 = w.write(store, new Compression.Zstd(3, 1), false);
            LayerWriter.Result z2 = w.write(store, new Compression.Zstd(3, 2), false);
            assertThat(z2.blob()).isEqualTo(z1.blob());
            assertThat(z1.blob().mediaType()).isEqualTo(MediaType.OCI_LAYER_ZSTD);
            LayerWriter.Result none = w.write(store, new Compression.None(), true);
            assertThat(none.blob().digest()).isEqualTo(none.diffId()).isEqualTo(z1.diffId());
            assertThat(none.blob().mediaType()).isEqualTo(MediaType.DOCKER_LAYER);
            try (var in = Compression.decompress(store.open(z1.blob(), "t"))) {
                assertThat(Digest.sha256(in.readAllBytes())).isEqualTo(z1.diffId());
            }
        }
    }

    private static TarArchiveEntry byName(List<TarArchiveEntry> es, String name) {
        return es.stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no entry " + name + " in " + es.stream().map(TarArchiveEntry::getName).toList()));
    }
}
