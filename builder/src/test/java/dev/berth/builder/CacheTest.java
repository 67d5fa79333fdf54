package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a COPY's layer is reused, and when it is not. */
class CacheTest {
    @TempDir
    Path tmp;

    private BuildFixture fixture() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("app/main.bin", "0123456789");
        f.file("app/lib/util.bin", "util");
        f.file("other.txt", "other");
        f.dockerfile("FROM scratch", "COPY app /app", "COPY other.txt /", "CMD [\"/app/main.bin\"]");
        return f;
    }

    private static List<Boolean> cached(BuildResult r) {
        return r.steps().stream().map(BuildEvent.StepDone::cached).toList();
    }

    @Test
    void anUnchangedRebuildReusesEveryLayerAndGivesTheSameImage() {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r.tag("app:1"));
        assertThat(cached(first)).containsExactly(false, false, false, false);
        BuildResult again = f.build(r -> r.tag("app:1"));
        assertThat(cached(again)).containsExactly(false, true, true, false);
        assertThat(again.digest()).isEqualTo(first.digest());
        assertThat(f.events).filteredOn(e -> e instanceof BuildEvent.Note)
                .extracting(e -> ((BuildEvent.Note) e).message()).contains("naming to app:1");
    }

    @Test
    void aLayerRebuiltAfterAChangeIsTheLayerAFreshBuildMakes() throws Exception {
        BuildFixture f = new BuildFixture(tmp.resolve("a"));
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 300; i++) {
            StringBuilder s = new StringBuilder();
            for (int l = 0; l < 300; l++) {
                s.append(i).append(' ').append(Long.toHexString(r.nextLong())).append('\n');
            }
            f.file("tree/d" + (i / 30) + "/f" + i, s.toString());
        }
        f.dockerfile("FROM scratch", "COPY tree /src");
        BuildResult first = f.build(x -> x);
        Path blocks = f.home.cache().resolve("build").resolve("blocks");
        Digest firstLayer = f.image(first).layers().getFirst().digest();
        assertThat(blocks.resolve("sha256-" + firstLayer.hex())).isRegularFile();
        Files.writeString(f.context.resolve("tree/d5/f150"), "changed\n", java.nio.file.StandardOpenOption.APPEND);
        BuildResult changed = f.build(x -> x);
        assertThat(cached(changed)).containsExactly(false, false);
        BuildFixture fresh = new BuildFixture(tmp.resolve("b"), f.context, new BerthHome(tmp.resolve("b").resolve("home")));
        BuildResult anew = fresh.build(x -> x);
        assertThat(changed.digest()).isEqualTo(anew.digest()).isNotEqualTo(first.digest());
        assertThat(blocks.resolve("sha256-" + f.image(changed).layers().getFirst().digest().hex())).isRegularFile();
    }

    @Test
    void aContentChangeMissesAndLaterStepsFollow() throws Exception {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r);
        f.file("app/main.bin", "9876543210"); // same size
        BuildResult changed = f.build(r -> r);
        assertThat(cached(changed)).containsExactly(false, false, false, false);
        assertThat(changed.digest()).isNotEqualTo(first.digest());
        // Back to the old content: that layer is known by its content and reused.
        f.file("app/main.bin", "0123456789");
        BuildResult back = f.build(r -> r);
        assertThat(cached(back)).containsExactly(false, true, true, false);
        assertThat(back.digest()).isEqualTo(first.digest());
    }

    @Test
    void aModeChangeMisses() throws Exception {
        BuildFixture f = fixture();
        f.build(r -> r);
        Files.setAttribute(f.context.resolve("app/main.bin"), "unix:mode", 0755);
        assertThat(cached(f.build(r -> r))).containsExactly(false, false, false, false);
    }

    @Test
    void anMtimeOnlyChangeHitsAfterTheContentIsCompared() throws Exception {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r);
        try (Stream<Path> all = Files.walk(f.context)) {
            for (Path p : all.toList()) {
                Files.setLastModifiedTime(p, FileTime.from(Instant.parse("2030-01-01T00:00:00Z")));
            }
        }
        BuildResult touched = f.build(r -> r);
        assertThat(cached(touched)).containsExactly(false, true, true, false);
        assertThat(touched.digest()).isEqualTo(first.digest());
    }

    @Test
    void aFreshCopyOfTheContextElsewhereHits() throws Exception {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r);
        Path clone = tmp.resolve("clone");
        copyTree(f.context, clone);
        BuildFixture g = new BuildFixture(tmp, clone, f.home);
        BuildResult r = g.build(o -> o);
        assertThat(cached(r)).containsExactly(false, true, true, false);
        assertThat(r.digest()).isEqualTo(first.digest());
    }

    @Test
    void unchangedStatsMeanTheSourcesAreNotReadAgain() throws Exception {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r);
        // Same size, same inode, mtime put back: the fast path trusts the stat and does not read the file.
        Path main = f.context.resolve("app/main.bin");
        FileTime mtime = Files.getLastModifiedTime(main);
        try (var ch = java.nio.channels.FileChannel.open(main, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("ABCDEFGHIJ".getBytes()));
        }
        Files.setLastModifiedTime(main, mtime);
        BuildResult r = f.build(o -> o);
        assertThat(cached(r)).containsExactly(false, true, true, false);
        assertThat(r.digest()).isEqualTo(first.digest());
    }

    @Test
    void noCacheBuildsEveryStepAndAnEarlierStepThatChangesNothingKeepsTheCache() {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r);
        BuildResult fresh = f.build(r -> r.noCache(true));
        assertThat(cached(fresh)).containsExactly(false, false, false, false);
        assertThat(f.config(fresh).rootfs().diffIds()).isEqualTo(f.config(first).rootfs().diffIds());
        BuildResult labelled = f.build("FROM scratch", "LABEL new=1", "COPY app /app", "COPY other.txt /");
        assertThat(cached(labelled)).containsExactly(false, false, true, true);
    }

    @Test
    void aPrunedBlobIsAMissNotAnError() throws Exception {
        BuildFixture f = fixture();
        BuildResult first = f.build(r -> r);
        Digest layer = f.image(first).layers().getFirst().digest();
        Files.delete(f.home.store().resolve("blobs/sha256").resolve(layer.hex()));
        BuildResult again = f.build(r -> r);
        assertThat(cached(again)).containsExactly(false, false, true, false);
        assertThat(again.digest()).isEqualTo(first.digest());
        assertThat(Files.exists(f.home.store().resolve("blobs/sha256").resolve(layer.hex()))).isTrue();
    }

    @Test
    void theCacheLivesInBerthHome() {
        BuildFixture f = fixture();
        f.build(r -> r);
        assertThat(f.home.cache().resolve("build/steps")).isDirectoryContaining(p -> true);
        BuildFixture other = new BuildFixture(tmp, f.context, new BerthHome(tmp.resolve("other-home")));
        assertThat(cached(other.build(r -> r))).containsExactly(false, false, false, false);
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                }
            }
        }
    }

    @Test
    void recordedStatsAreComparedNameByNameWhateverTheirCharacters() {
        BuildCache cache = new BuildCache(tmp.resolve("cache"));
        BuildCache.Result result = new BuildCache.Result(java.util.Optional.empty(), java.util.Optional.empty(), List.of());
        ContextDir.Stat stat = new ContextDir.Stat(0100644, 5, 1_000_000_007L, 42);
        List<String> names = List.of("a", "dir/Főtanúsítvány.crt", "emoji-\uD83D\uDE00", "z".repeat(300));
        List<ContextDir.Item> items = names.stream().map(n -> new ContextDir.Item(n, stat)).toList();
        cache.store("k", result, items);
        assertThat(cache.lookup("k", items)).contains(result);
        for (int i = 0; i < names.size(); i++) {
            List<ContextDir.Item> renamed = new java.util.ArrayList<>(items);
            String other = names.get(i).substring(0, names.get(i).length() - 1) + "x";
            renamed.set(i, new ContextDir.Item(other, stat));
            assertThat(cache.lookup("k", renamed)).as("%s renamed", names.get(i)).isEmpty();
        }
        List<ContextDir.Item> touched = new java.util.ArrayList<>(items);
        touched.set(3, new ContextDir.Item(names.get(3), new ContextDir.Stat(0100644, 5, 1_000_000_008L, 42)));
        assertThat(cache.lookup("k", touched)).isEmpty();
        assertThat(cache.lookup("k", items.subList(0, 3))).isEmpty();
    }
}
