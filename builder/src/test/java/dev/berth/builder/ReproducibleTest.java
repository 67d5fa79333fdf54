package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Same sources and the same SOURCE_DATE_EPOCH give the same image, wherever and whenever it is built. */
class ReproducibleTest {
    @TempDir
    Path tmp;

    @Test
    void theSameContextInTwoDirectoriesWithDifferentMtimesGivesTheSameDigest() throws Exception {
        BuildFixture a = new BuildFixture(tmp.resolve("a"));
        a.file("bin/app", "binary", 0755);
        a.file("etc/conf", "conf");
        a.file("docs/readme", "readme");
        a.dockerfile("FROM scratch", "COPY bin /bin", "COPY etc docs /etc/", "WORKDIR /srv", "ENTRYPOINT [\"/bin/app\"]");
        Path other = tmp.resolve("b").resolve("context");
        CacheTest.copyTree(a.context, other);
        try (Stream<Path> all = Files.walk(other)) {
            for (Path p : all.toList()) {
                Files.setLastModifiedTime(p, FileTime.from(Instant.parse("2031-05-05T05:05:05Z")));
            }
        }
        BuildFixture b = new BuildFixture(tmp.resolve("b"), other, new BerthHome(tmp.resolve("b").resolve("home")));
        Instant epoch = Instant.ofEpochSecond(1234567890);
        BuildResult ra = a.build(r -> r.sourceDateEpoch(epoch));
        BuildResult rb = b.build(r -> r.sourceDateEpoch(epoch));
        assertThat(rb.digest()).isEqualTo(ra.digest());
        assertThat(a.config(ra).created()).contains("2009-02-13T23:31:30Z");
        assertThat(a.layer(ra, 0).get("bin/app").getModTime().toInstant()).isEqualTo(epoch);
        // Without an epoch the layers are still the same; only the times differ.
        BuildResult na = a.build(r -> r.noCache(true).sourceDateEpoch(epoch));
        BuildFixture c = new BuildFixture(tmp.resolve("c"), other, new BerthHome(tmp.resolve("c").resolve("home")));
        BuildResult nc = Builder.create(c.home).build(BuildRequest.builder(other)
                .compression(new dev.berth.layers.Compression.Gzip(1, 2)).build(), e -> { });
        BuildResult na2 = Builder.create(a.home).build(BuildRequest.builder(a.context)
                .compression(new dev.berth.layers.Compression.Gzip(1, 2)).build(), e -> { });
        assertThat(c.config(nc).rootfs().diffIds()).isEqualTo(a.config(na2).rootfs().diffIds());
        assertThat(c.image(nc).layers()).isEqualTo(a.image(na2).layers());
        assertThat(na.digest()).isEqualTo(ra.digest());
    }
}
