package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.berth.layers.Digest;
import dev.berth.layers.testing.Tars;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ADD: local archives unpacked by content, URLs downloaded and checked. */
class AddTest {
    @TempDir
    Path tmp;

    private static byte[] archive() {
        return new Tars().dir("pkg").file("pkg/readme", "hello", 0640).symlink("pkg/link", "readme")
                .hardlink("pkg/again", "pkg/readme").bytes();
    }

    private static byte[] compress(byte[] data, Function<OutputStream, OutputStream> codec) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream c = codec.apply(out)) {
            c.write(data);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static OutputStream unchecked(IOCodec c, OutputStream out) {
        try {
            return c.wrap(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private interface IOCodec {
        OutputStream wrap(OutputStream out) throws IOException;
    }

    @Test
    void localArchivesAreUnpackedWhateverTheirCompressionAndName() throws IOException {
        BuildFixture f = new BuildFixture(tmp);
        byte[] tar = archive();
        Files.write(f.context.resolve("plain.bin"), tar);
        Files.write(f.context.resolve("a.tgz"), compress(tar, o -> unchecked(java.util.zip.GZIPOutputStream::new, o)));
        Files.write(f.context.resolve("a.bz2"), compress(tar, o -> unchecked(BZip2CompressorOutputStream::new, o)));
        Files.write(f.context.resolve("a.xz"), compress(tar, o -> unchecked(XZCompressorOutputStream::new, o)));
        Files.write(f.context.resolve("a.zst"), compress(tar, o -> unchecked(com.github.luben.zstd.ZstdOutputStream::new, o)));
        f.file("notatar.gz", "just text");
        BuildResult r = f.build("FROM scratch", "ADD plain.bin /plain", "ADD a.tgz /gz/", "ADD a.bz2 /bz2",
                "ADD a.xz /xz", "ADD a.zst /zst", "ADD notatar.gz /files/", "ADD --chown=5:6 a.tgz /owned");
        for (int layer = 0; layer < 5; layer++) {
            String dir = new String[] {"plain", "gz", "bz2", "xz", "zst"}[layer];
            var entries = f.layer(r, layer);
            assertThat(entries).containsKeys(dir + "/pkg/readme", dir + "/pkg/link", dir + "/pkg/again");
            assertThat(entries.get(dir + "/pkg/readme").getMode() & 07777).isEqualTo(0640);
            assertThat(entries.get(dir + "/pkg/link").getLinkName()).isEqualTo("readme");
            assertThat(entries.get(dir + "/pkg/readme").isLink()).isTrue();
            assertThat(f.content(r, layer, dir + "/pkg/again")).isEqualTo("hello");
        }
        assertThat(f.content(r, 5, "files/notatar.gz")).isEqualTo("just text");
        // The link sorts before its target: the content goes to the first name, the link follows it.
        assertThat(f.layer(r, 0).get("plain/pkg/again").isLink()).isFalse();
        assertThat(f.layer(r, 0).get("plain/pkg/readme").getLinkName()).isEqualTo("plain/pkg/again");
        java.nio.file.Path unpacked = tmp.resolve("unpacked");
        dev.berth.layers.LayerExtractor.unpack(f.image(r), unpacked);
        assertThat(Files.readString(unpacked.resolve("gz/pkg/again"))).isEqualTo("hello");
        assertThat(Files.readString(unpacked.resolve("gz/pkg/readme"))).isEqualTo("hello");
        assertThat(f.layer(r, 6).get("owned/pkg/readme").getLongUserId()).isEqualTo(5);
        // COPY never unpacks.
        BuildResult copy = f.build("FROM scratch", "COPY a.tgz /");
        assertThat(f.layer(copy, 0)).containsOnlyKeys("a.tgz");
    }

    @Test
    void anArchiveEntryThatLeavesTheDestinationIsAnError() throws IOException {
        BuildFixture f = new BuildFixture(tmp);
        Files.write(f.context.resolve("evil.tar"), new Tars().file("../../etc/evil", "x").bytes());
        assertThatThrownBy(() -> f.build("FROM scratch", "ADD evil.tar /opt/"))
                .hasMessage("Dockerfile:2: archive evil.tar: entry \"../../etc/evil\" leaves the destination directory");
    }

    @Test
    void urlsAreDownloadedAndVerified() throws IOException {
        byte[] body = "downloaded".getBytes(StandardCharsets.UTF_8);
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/files/tool.txt", x -> {
            requests.incrementAndGet();
            x.sendResponseHeaders(200, body.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(body);
            }
        });
        server.createContext("/missing", x -> {
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/tool.txt";
            String good = Digest.sha256(body).toString();
            BuildFixture f = new BuildFixture(tmp);
            BuildResult r = f.build("FROM scratch", "ADD " + url + " /opt/", "ADD --checksum=" + good + " " + url + " /checked");
            assertThat(f.content(r, 0, "opt/tool.txt")).isEqualTo("downloaded");
            assertThat(f.layer(r, 0).get("opt/tool.txt").getMode() & 07777).isEqualTo(0600);
            assertThat(f.content(r, 1, "checked")).isEqualTo("downloaded");
            // Without a checksum a rebuild downloads again to compare contents; with one the cache needs no download.
            int before = requests.get();
            BuildResult again = f.build("FROM scratch", "ADD " + url + " /opt/", "ADD --checksum=" + good + " " + url + " /checked");
            assertThat(requests.get()).isEqualTo(before + 1);
            assertThat(again.cachedSteps()).isEqualTo(2);
            assertThat(again.digest()).isEqualTo(r.digest());
            String bad = "sha256:" + "0".repeat(64);
            assertThatThrownBy(() -> f.build("FROM scratch", "ADD --checksum=" + bad + " " + url + " /x"))
                    .hasMessageStartingWith("Dockerfile:2: ADD " + url + ": checksum mismatch: expected " + bad);
            assertThatThrownBy(() -> f.build("FROM scratch", "ADD http://127.0.0.1:" + server.getAddress().getPort()
                    + "/missing /x")).hasMessageEndingWith("/missing: HTTP 404");
            assertThatThrownBy(() -> f.build("FROM scratch", "COPY " + url + " /x"))
                    .hasMessage("Dockerfile:2: source can't be a URL for COPY: " + url);
            assertThat(AddUrls.urlName("https://example.com/")).isEqualTo("__unnamed__");
            assertThat(AddUrls.urlName("https://example.com/a/b.tar.gz?x=1")).isEqualTo("b.tar.gz");
        } finally {
            server.stop(0);
        }
    }
}
