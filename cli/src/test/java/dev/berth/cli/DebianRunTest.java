package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real distribution: a Debian root made by debootstrap, imported with {@code berth import}, a package
 * installed by {@code apt-get} in a RUN with a cache mount on {@code /var/cache/apt}, and the result run
 * by {@code berth run}. Needs the machine's Debian mirror (the one its own apt uses).
 */
class DebianRunTest {
    static Path home;

    @TempDir
    Path ctx;

    @BeforeAll
    static void setUp() {
        home = TestBases.busybox("run-debian");
        TestBases.debian(home);
    }

    @Test
    void aptGetInstallsAPackageThatTheImageThenRuns() throws Exception {
        Builds.dockerfile(ctx, "FROM debian:test",
                "RUN rm -f /etc/apt/apt.conf.d/docker-clean && echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";'"
                        + " > /etc/apt/apt.conf.d/keep-cache",
                "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\",
                "    apt-get update -q && apt-get install -y -q --no-install-recommends hello && rm -rf /var/lib/apt/lists/*",
                "CMD [\"hello\"]");
        CliRun.Result build = CliRun.berth(home, "build", "--progress", "plain", "-t", "hello:debian", ctx.toString());
        assertThat(build.exitCode()).as(build.err()).isZero();
        assertThat(build.err()).contains("Setting up hello");
        Tools.Result run = Tools.run(dev.berth.layers.testing.Jvm.command(Berth.class, "run", "--rm", "hello:debian"),
                TestBases.env(home), null);
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("Hello, world!\n");
        try (var files = Files.walk(home.resolve("cache/mounts"))) {
            assertThat(files.map(p -> p.getFileName().toString())).as("the package stayed in the cache mount")
                    .anyMatch(n -> n.startsWith("hello_") && n.endsWith(".deb"));
        }
        CliRun.Result history = CliRun.berth(home, "inspect", "hello:debian");
        assertThat(history.out()).doesNotContain("/var/cache/apt/archives/hello");
    }

    @Test
    void analyzeFindsAptsListsAndCacheLeftInAnImageAndNoneWithACacheMountAndCleanup() throws Exception {
        Builds.dockerfile(ctx, "FROM debian:test",
                "RUN apt-get update -q && apt-get install -y -q --no-install-recommends hello");
        CliRun.Result build = CliRun.berth(home, "build", "--progress", "plain", "-t", "hello:untidy", ctx.toString());
        assertThat(build.exitCode()).as(build.err()).isZero();
        assertThat(build.err()).containsPattern("image [0-9.]+[kMG]?B in 2 layers");
        // the base, as debootstrap made it, holds both already (its packages' .debs, its lists): layer 1
        assertThat(aptFindings("hello:untidy", 2)).containsExactly("/var/lib/apt/lists", "/var/cache/apt");
        com.fasterxml.jackson.databind.JsonNode hello = null;
        for (com.fasterxml.jackson.databind.JsonNode b : new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                CliRun.berth(home, "analyze", "--format", "json", "hello:untidy").out()).get("binaries")) {
            hello = b.get("path").asText().equals("/usr/bin/hello") ? b : hello;
        }
        assertThat(hello).as("the package's program").isNotNull();
        assertThat(hello.get("interpreter").asText()).isEqualTo("/lib64/ld-linux-x86-64.so.2");
        assertThat(hello.get("libraries").toString()).contains("\"libc.so.6\"");

        Builds.dockerfile(ctx, "FROM debian:test",
                "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\",
                "    apt-get update -q && apt-get install -y -q --no-install-recommends hello && rm -rf /var/lib/apt/lists/*");
        CliRun.Result tidy = CliRun.berth(home, "build", "--progress", "plain", "-t", "hello:tidy", ctx.toString());
        assertThat(tidy.exitCode()).as(tidy.err()).isZero();
        assertThat(aptFindings("hello:tidy", 2)).isEmpty();
    }

    /** The apt places berth analyze reports in an image with files of {@code layer}. */
    private static java.util.List<String> aptFindings(String image, int layer) throws Exception {
        CliRun.Result r = CliRun.berth(home, "analyze", "--format", "json", image);
        assertThat(r.exitCode()).as(r.err()).isZero();
        com.fasterxml.jackson.databind.JsonNode report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        java.util.List<String> paths = new java.util.ArrayList<>();
        report.get("findings").forEach(f -> {
            java.util.List<Integer> layers = new java.util.ArrayList<>();
            f.get("layers").forEach(l -> layers.add(l.asInt()));
            if (layers.contains(layer)) {
                paths.add(f.get("path").asText());
            }
        });
        return paths.stream().filter(p -> p.contains("apt")).toList();
    }

    @Test
    void sshAgentsAreReachedThroughTheMount() throws Exception {
        Path agent = ctx.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(agent));
            Thread echo = Thread.ofVirtual().start(() -> {
                try (SocketChannel c = server.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(64);
                    c.read(b);
                    b.flip();
                    c.write(ByteBuffer.wrap(("agent got " + new String(b.array(), 0, b.limit())).getBytes()));
                } catch (IOException e) {
                    // the test's assertion says what went wrong
                }
            });
            Builds.dockerfile(ctx, "FROM debian:test", "RUN --mount=type=ssh,required perl -MIO::Socket::UNIX -e '"
                    + "my $s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die \"connect: $!\"; "
                    + "print $s \"ping\\n\"; print scalar <$s>'");
            Builds.Outcome o = Builds.build(home, ctx, r -> r.sshAgent("default", agent));
            echo.join(5000);
            assertThat(o.output()).containsExactly("agent got ping");
        }
    }

    @Test
    void theImportedRootKeepsItsOwnersAndModes() {
        assertThat(CliRun.berth(home, "images").out()).contains("debian");
        assertThat(Builds.sh(home, Builds.build(home, ctx, "FROM debian:test", "RUN true").result(),
                "stat -c '%U:%G %a' /usr/bin/su /var/mail")).isEqualTo("root:root 4755\nroot:mail 2775\n");
    }
}
