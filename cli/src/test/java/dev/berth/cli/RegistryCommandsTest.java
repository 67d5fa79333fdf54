package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestCerts;
import dev.berth.registry.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pull, push, login, logout and tags as a user runs them: berth in its own JVM with a real environment
 * ({@code BERTH_HOME}, {@code BERTH_CONFIG_DIR}, {@code DOCKER_CONFIG}), against the real registry.
 */
class RegistryCommandsTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static LocalRegistry open;
    static LocalRegistry locked;

    @TempDir
    Path tmp;
    Path home;

    @BeforeAll
    static void start() {
        open = LocalRegistry.open(shared.resolve("open"));
        locked = LocalRegistry.start(shared.resolve("locked"),
                new LocalRegistry.Auth.Htpasswd(Map.of("alice", "wonderland")), Optional.empty());
    }

    @AfterAll
    static void stop() {
        open.close();
        locked.close();
    }

    final Map<String, String> extraEnv = new HashMap<>();

    @BeforeEach
    void home() {
        home = tmp.resolve("home");
    }

    record Run(int exit, String out, String err) {
        Run ok() {
            assertThat(exit).as("exit code; stderr: %s; stdout: %s", err, out).isZero();
            return this;
        }
    }

    private Map<String, String> env(Path berthHome) {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("HOME", tmp.resolve("user").toString());
        env.put("BERTH_HOME", berthHome.toString());
        env.put("BERTH_CONFIG_DIR", tmp.resolve("config").toString());
        env.put("DOCKER_CONFIG", tmp.resolve("docker").toString());
        env.putAll(extraEnv);
        return env;
    }

    private Process start(Path berthHome, Optional<String> stdin, String... args) throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                Berth.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env(berthHome));
        pb.redirectOutput(tmp.resolve("out.txt").toFile()).redirectError(tmp.resolve("err.txt").toFile());
        if (stdin.isEmpty()) {
            pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        }
        Process p = pb.start();
        if (stdin.isPresent()) {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin.get().getBytes(StandardCharsets.UTF_8));
            }
        }
        return p;
    }

    private Run berth(Path berthHome, Optional<String> stdin, String... args) throws Exception {
        Process p = start(berthHome, stdin, args);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("berth %s finished", String.join(" ", args)).isTrue();
        return new Run(p.exitValue(), Files.readString(tmp.resolve("out.txt")), Files.readString(tmp.resolve("err.txt")));
    }

    private Run berth(String... args) throws Exception {
        return berth(home, Optional.empty(), args);
    }

    private Descriptor image(Path berthHome, String name, long seed, long... sizes) {
        try (ImageStore store = new BerthHome(berthHome).openStore()) {
            return TestImages.create(store, Reference.parse(name), AMD64, seed, sizes);
        }
    }

    @Test
    void pushAndPullTalkLikeDocker() throws Exception {
        Descriptor app = image(home, "app:1", 1, 100_000, 50_000);
        String dest = open.host() + "/team/app:1";
        Run push = berth("push", "app:1", dest).ok();
        assertThat(push.out().lines().toList()).first().isEqualTo("The push refers to repository [" + open.host() + "/team/app]");
        assertThat(push.out()).contains(": Preparing\n").contains(": Pushed\n")
                .endsWith("1: digest: " + app.digest() + " size: " + app.size() + "\n");
        assertThat(push.out().lines().filter(l -> l.endsWith(": Pushed"))).hasSize(2);
        assertThat(berth("push", "app:1", dest).ok().out().lines().filter(l -> l.endsWith(": Layer already exists"))).hasSize(2);
        assertThat(berth("push", "-q", "app:1", dest).ok().out()).isEqualTo(dest + "\n");

        Path other = tmp.resolve("other");
        Run pull = berth(other, Optional.empty(), "pull", dest).ok();
        assertThat(pull.out()).startsWith("1: Pulling from team/app\n")
                .contains(": Pulling fs layer\n").contains(": Download complete\n")
                .endsWith("Digest: " + app.digest() + "\nStatus: Downloaded newer image for " + dest + "\n" + dest + "\n");
        // as root the pull unpacked each layer into its snapshot in the pass that checked it, so that a run
        // extracts nothing; rootless, snapshots are made in the user's namespace by the run
        Path snapshots = new BerthHome(other).snapshots();
        List<dev.berth.layers.Digest> diffIds;
        try (ImageStore store = new BerthHome(other).openStore()) {
            diffIds = store.image(Reference.parse(dest), AMD64).diffIds();
        }
        if (BerthHome.isRoot()) {
            for (int i = 0; i < diffIds.size(); i++) {
                assertThat(snapshots.resolve(diffIds.get(i).hex()).resolve("data-" + i + ".bin")).isRegularFile();
            }
        } else {
            assertThat(snapshots).doesNotExist();
        }
        assertThat(berth(other, Optional.empty(), "pull", dest).ok().out())
                .contains(": Already exists\n").contains("Status: Image is up to date for " + dest + "\n");
        assertThat(berth(tmp.resolve("third"), Optional.empty(), "pull", "-q", "--platform", "linux/amd64", dest).ok().out())
                .isEqualTo(dest + "\n");
        assertThat(berth("tags", open.host() + "/team/app").ok().out()).isEqualTo("1\n");
    }

    @Test
    void pullDashDashOciStoresADockerImageWithOciTypesThatSkopeoReadsFromTheStore() throws Exception {
        Path skopeo = dev.berth.layers.testing.Tools.require("skopeo");
        image(home, "app:dockerish", 7, 20_000);
        String dest = open.host() + "/team/dockerish:1";
        // skopeo pushes it with Docker's schema 2 types, as most of Docker Hub is
        dev.berth.layers.testing.Tools.run(skopeo.toString(), "copy", "--format", "v2s2", "--dest-tls-verify=false",
                "oci:" + home.resolve("store") + ":docker.io/library/app:dockerish", "docker://" + dest).ok();
        Path other = tmp.resolve("other");
        berth(other, Optional.empty(), "pull", dest).ok();
        String layout = "oci:" + other.resolve("store") + ":" + dest;
        assertThat(dev.berth.layers.testing.Tools.run(skopeo.toString(), "inspect", layout).exitCode())
                .as("Docker types, as the registry has them: skopeo's oci: does not see them").isNotZero();
        Run converted = berth(other, Optional.empty(), "pull", "--oci", dest).ok();
        assertThat(converted.out()).contains("Stored with OCI media types as sha256:");
        com.fasterxml.jackson.databind.JsonNode info = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                dev.berth.layers.testing.Tools.run(skopeo.toString(), "inspect", "--raw", layout).ok().stdout());
        assertThat(info.get("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        assertThat(info.get("layers").get(0).get("mediaType").asText()).isEqualTo("application/vnd.oci.image.layer.v1.tar+gzip");
        assertThat(berth(other, Optional.empty(), "pull", "--oci", dest + "@sha256:" + "0".repeat(64)).err())
                .contains("--oci changes the manifest's digest");
    }

    @Test
    void errorsAreOneLineWithTheRegistrysCode() throws Exception {
        Run missing = berth("pull", open.host() + "/nothing:1");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("berth: pull " + open.host() + "/nothing:1: manifest unknown (MANIFEST_UNKNOWN)\n");
        assertThat(berth("push", "nothing:1").err()).isEqualTo("berth: push docker.io/library/nothing:1: image nothing:1 is not in the store\n");
        assertThat(berth("pull", "--platform", "linux//x", "alpine").err()).startsWith("berth: invalid platform \"linux//x\"");
        assertThat(berth("tags", open.host() + "/app:1").err()).isEqualTo("berth: tags " + open.host()
                + "/app:1: give a repository without a tag or digest\n");
        Run locked = berth("pull", RegistryCommandsTest.locked.host() + "/x:1");
        assertThat(locked.err()).isEqualTo("berth: pull " + RegistryCommandsTest.locked.host() + "/x:1: authentication required "
                + "(UNAUTHORIZED); not logged in to " + RegistryCommandsTest.locked.host() + " (berth login "
                + RegistryCommandsTest.locked.host() + ")\n");
    }

    @Test
    void loginStoresWhereDockerWouldAndLogoutRemoves() throws Exception {
        String host = locked.host();
        Run wrong = berth(home, Optional.of("guess\n"), "login", "-u", "alice", "--password-stdin", host);
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.err()).isEqualTo("berth: login to " + host + " failed: incorrect user name or password (UNAUTHORIZED)\n");
        assertThat(berth("login", host).err()).startsWith("berth: login to " + host + ": give a user name with -u");

        Run login = berth(home, Optional.of("wonderland\n"), "login", "-u", "alice", "--password-stdin", host).ok();
        assertThat(login.out()).isEqualTo("Login Succeeded\n");
        assertThat(login.err()).contains("stored unencoded in " + tmp.resolve("docker/config.json"));
        assertThat(Files.readString(tmp.resolve("docker/config.json"))).contains(host);

        image(home, "secret:1", 2, 1000);
        berth("push", "-q", "secret:1", host + "/secret:1").ok();
        assertThat(berth("logout", host).ok().out()).isEqualTo("Removing login credentials for " + host + "\n");
        assertThat(berth("logout", host).ok().out()).isEqualTo("Not logged in to " + host + "\n");
        assertThat(berth("pull", host + "/secret:1").err()).contains("(UNAUTHORIZED)");
        assertThat(berth("logout").ok().out()).isEqualTo("Not logged in to docker.io\n");
    }

    /**
     * Through an HTTPS proxy that wants a password (given in {@code HTTPS_PROXY}, as docker takes it) to a
     * TLS registry whose CA is in berth's config directory; {@code registry.test} resolves only at the proxy.
     */
    @Test
    void proxiesWithPasswordsAndCasInTheConfigDirectory() throws Exception {
        Path certs = tmp.resolve("certs");
        Files.createDirectories(certs);
        TestCerts.KeyPair ca = TestCerts.authority(certs, "ca");
        TestCerts.KeyPair server = TestCerts.server(certs, ca, "registry", List.of("registry.test"), List.of("127.0.0.1"));
        try (LocalRegistry tls = LocalRegistry.start(tmp.resolve("tls"), new LocalRegistry.Auth.None(), Optional.of(server));
             FaultProxy proxy = FaultProxy.forward(Map.of("registry.test:443", new InetSocketAddress("127.0.0.1", tls.port())))
                     .requireProxyAuth("me", "s3cret@x")) {
            Path caDir = tmp.resolve("config/certs.d/registry.test");
            Files.createDirectories(caDir);
            Files.copy(ca.certificate(), caDir.resolve("ca.crt"));
            extraEnv.put("HTTPS_PROXY", "http://me:s3cret%40x@" + proxy.host());
            Descriptor app = image(home, "proxied:1", 4, 10_000);
            berth("push", "-q", "proxied:1", "registry.test/proxied:1").ok();
            assertThat(berth(tmp.resolve("other"), Optional.empty(), "pull", "registry.test/proxied:1").ok().out())
                    .contains("Digest: " + app.digest());
            assertThat(proxy.tunnels()).isNotEmpty().containsOnly("registry.test:443");

            extraEnv.put("HTTPS_PROXY", "http://me:wrong@" + proxy.host());
            assertThat(berth(tmp.resolve("third"), Optional.empty(), "pull", "registry.test/proxied:1").err())
                    .startsWith("berth: pull registry.test/proxied:1: the proxy refused the connection to registry.test"
                            + " (HTTP 407 Proxy Authentication Required)");
        }
    }

    /**
     * A pull killed with SIGKILL half way leaves a store from which the next pull finishes without
     * downloading again what was finished, and continues what was half done.
     */
    @Test
    void aPullKilledHalfWayIsFinishedWithoutDownloadingAgain() throws Exception {
        Path source = tmp.resolve("source");
        image(source, "big:1", 3, 150_000, 250_000, 5_000_000, 6_000_000);
        Image img;
        try (ImageStore store = new BerthHome(source).openStore()) {
            img = store.image(Reference.parse("big:1"), AMD64);
        }
        try (FaultProxy proxy = FaultProxy.reverse(open.uri())) {
            String ref = proxy.host() + "/big:1";
            berth(source, Optional.empty(), "push", "-q", "big:1", ref).ok();
            proxy.on("GET", ".*/blobs/sha256:.*").times(Integer.MAX_VALUE).throttle(1_000_000);
            proxy.clearRequests();

            Process p = start(home, Optional.empty(), "pull", "-q", ref);
            Path blobs = home.resolve("store/blobs/sha256");
            Path tmpDir = home.resolve("tmp");
            List<Descriptor> small = img.layers().subList(0, 2);
            List<Descriptor> large = img.layers().subList(2, 4);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(small.stream().allMatch(l -> Files.exists(blobs.resolve(l.digest().hex())))
                    && large.stream().allMatch(l -> partialSize(tmpDir, l) > 500_000))) {
                assertThat(System.nanoTime()).as("the first pull got half way").isLessThan(deadline);
                assertThat(p.isAlive()).as("the first pull is still running").isTrue();
                Thread.sleep(20);
            }
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(137);
            assertThat(large).allSatisfy(l -> assertThat(Files.exists(blobs.resolve(l.digest().hex()))).isFalse());

            proxy.clearRules();
            proxy.clearRequests();
            assertThat(berth("pull", "-q", ref).ok().out()).isEqualTo(ref + "\n");
            List<FaultProxy.Seen> gets = proxy.requests("GET", ".*/blobs/sha256:.*");
            assertThat(gets).extracting(FaultProxy.Seen::path).noneMatch(path -> small.stream()
                    .anyMatch(l -> path.endsWith(l.digest().toString())));
            for (Descriptor l : large) {
                assertThat(gets).filteredOn(g -> g.path().endsWith(l.digest().toString())).singleElement()
                        .satisfies(g -> assertThat(g.header("range")).hasValueSatisfying(r -> assertThat(r).matches("bytes=[1-9][0-9]+-")));
            }
        }
        try (ImageStore store = new BerthHome(home).openStore()) {
            Image pulled = store.image(store.entries().getFirst(), AMD64, "pulled");
            assertThat(pulled.digest()).isEqualTo(img.digest());
            for (Descriptor l : pulled.layers()) {
                try (InputStream in = store.open(l, "test")) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }
        }
    }

    private static long partialSize(Path tmpDir, Descriptor blob) {
        try {
            return Files.size(tmpDir.resolve("blob-pull-sha256-" + blob.digest().hex() + ".tmp"));
        } catch (IOException e) {
            return 0;
        }
    }
}
