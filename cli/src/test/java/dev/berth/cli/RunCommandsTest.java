package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.TestImages;
import dev.berth.layers.testing.Tools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code berth run}, {@code ps}, {@code rm} and {@code bundle} as a user runs them: a separate JVM per
 * command, with BERTH_HOME pointing at a store holding a busybox image; exit codes, messages on stderr,
 * signals sent to berth itself.
 */
class RunCommandsTest {
    static Path home;

    @BeforeAll
    static void setUp() throws IOException {
        home = busyboxHome("cli-test-berth");
    }

    /** A fresh home under target/ whose store has {@code bb:cli}: busybox, /etc/passwd, PATH=/bin, CMD sh. */
    static Path busyboxHome(String name) throws IOException {
        Tools.requireRoot();
        Path busybox = Tools.require("busybox");
        Path base = Path.of(System.getProperty("user.dir"), "target", name);
        if (Files.exists(base)) {
            // containers an earlier run left running (detached ones outlive their test) go first
            var rt = dev.berth.runtime.ContainerRuntime.open(new BerthHome(base.resolve("home")));
            rt.remove(rt.list(true).stream().map(dev.berth.runtime.ContainerInfo::name).toList(), true);
            LayerExtractor.deleteTree(base);
        }
        Path home = base.resolve("home");
        LayerWriter w = LayerWriter.create();
        w.addFromDisk(busybox, LayerPath.of("bin/busybox"), Attributes.DEFAULT.withMode(0755));
        for (String applet : Tools.run(busybox.toString(), "--list").ok().stdout().split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                w.add(new LayerEntry.Symlink(LayerPath.of("bin/" + applet.trim()), "busybox", Attributes.DEFAULT));
            }
        }
        w.add(new LayerEntry.Content(LayerPath.of("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                .getBytes(StandardCharsets.UTF_8), Attributes.of(0644, 0, 0)));
        ContainerConfig.Builder c = ContainerConfig.EMPTY.toBuilder();
        c.env = List.of("PATH=/bin");
        c.cmd = Optional.of(List.of("sh"));
        try (ImageStore store = new BerthHome(home).openStore()) {
            TestImages.store(store, "bb:cli", List.of(w), c.build());
        }
        return home;
    }

    static Tools.Result berth(String... args) {
        return Tools.run(Jvm.command(Berth.class, args), Map.of("BERTH_HOME", home.toString()), null);
    }

    @Test
    void runPrintsAndExitsWithTheContainersCode() {
        Tools.Result r = berth("run", "--rm", "bb:cli", "sh", "-c", "echo out; echo err >&2; exit 7");
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void helpIsLongOnlyBecauseHIsTheHostNameAsInDocker() {
        Tools.Result help = berth("run", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stdout()).startsWith("Usage: berth run").contains("-h, --hostname=NAME");
        assertThat(help.stdout().replaceAll("\\s+", " ")).as("however the synopsis wraps").contains("IMAGE [COMMAND...]");
        assertThat(berth("run", "--rm", "-h", "named", "bb:cli", "hostname").stdout()).isEqualTo("named\n");
    }

    @Test
    void optionsAfterTheImageBelongToTheCommand() {
        Tools.Result r = berth("run", "--rm", "-e", "A=1", "bb:cli", "ls", "-d", "-1", "/bin", "/etc");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).isEqualTo("/bin\n/etc\n");
    }

    @Test
    void failuresAreOneLineWithDockersExitCodes() {
        Tools.Result notFound = berth("run", "--rm", "bb:cli", "nosuch");
        assertThat(notFound.exitCode()).isEqualTo(127);
        assertThat(notFound.stderr()).isEqualTo("berth: run bb:cli: exec: \"nosuch\": executable file not found "
                + "in $PATH (/bin)\n");
        Tools.Result notExecutable = berth("run", "--rm", "bb:cli", "/etc/passwd");
        assertThat(notExecutable.exitCode()).isEqualTo(126);
        Tools.Result badMemory = berth("run", "--rm", "--memory", "12q", "bb:cli", "true");
        assertThat(badMemory.exitCode()).isEqualTo(125);
        assertThat(badMemory.stderr()).startsWith("berth: invalid --memory \"12q\"");
        Tools.Result badVolume = berth("run", "--rm", "-v", "/no/such:/x", "bb:cli", "true");
        assertThat(badVolume.exitCode()).isEqualTo(125);
        assertThat(badVolume.stderr()).isEqualTo("berth: invalid volume \"/no/such:/x\": host path /no/such does "
                + "not exist\n");
        Tools.Result missing = berth("run", "--rm", "absent:1");
        assertThat(missing.exitCode()).isEqualTo(125);
        assertThat(missing.stderr()).contains("image absent:1 is not in the local store");
        Tools.Result keepId = berth("run", "--rm", "--userns=keep-id", "bb:cli", "true");
        assertThat(keepId.exitCode()).isEqualTo(125);
        assertThat(keepId.stderr()).isEqualTo("berth: run bb:cli: --userns=keep-id is for a berth that is not root "
                + "(as root, the container's ids are the host's already)\n");
    }

    @Test
    void securityOptChoosesTheSeccompProfile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Tools.Result confined = berth("run", "--rm", "bb:cli", "unshare", "-U", "-r", "id", "-u");
        assertThat(confined.exitCode()).isNotZero();
        assertThat(confined.stderr()).contains("Operation not permitted");
        Tools.Result unconfined = berth("run", "--rm", "--security-opt", "seccomp=unconfined", "bb:cli",
                "unshare", "-U", "-r", "id", "-u");
        assertThat(unconfined.stdout()).as(unconfined.stderr()).isEqualTo("0\n");
        Path profile = dir.resolve("no-mkdir.json");
        java.nio.file.Files.writeString(profile, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                + "[\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}");
        Tools.Result custom = berth("run", "--rm", "--security-opt", "seccomp=" + profile, "bb:cli", "mkdir", "/x");
        assertThat(custom.exitCode()).isEqualTo(1);
        assertThat(custom.stderr()).contains("Permission denied");
        assertThat(berth("run", "--rm", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined",
                "bb:cli", "true").exitCode()).isZero();
        Tools.Result unknown = berth("run", "--rm", "--security-opt", "seccomp=" + dir.resolve("none.json"), "bb:cli", "true");
        assertThat(unknown.exitCode()).isEqualTo(125);
        assertThat(unknown.stderr()).isEqualTo("berth: seccomp profile " + dir.resolve("none.json")
                + ": cannot read it: no such file\n");
        Tools.Result bad = berth("run", "--rm", "--security-opt", "selinux=on", "bb:cli", "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.stderr()).isEqualTo("berth: --security-opt: unknown option \"selinux=on\" "
                + "(berth has seccomp=unconfined|builtin|FILE)\n");
    }

    @Test
    void anOomKillIsReported() {
        Tools.Result r = berth("run", "--rm", "-m", "16m", "bb:cli", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M",
                "count=1");
        assertThat(r.exitCode()).isEqualTo(137);
        assertThat(r.stderr()).contains("ran out of memory");
    }

    @Test
    void psListsAndRmRemoves() {
        assertThat(berth("run", "--name", "cli-kept", "bb:cli", "sh", "-c", "exit 3").exitCode()).isEqualTo(3);
        Tools.Result ps = berth("ps", "-a");
        assertThat(ps.exitCode()).isZero();
        assertThat(ps.stdout().lines().findFirst()).hasValueSatisfying(h -> assertThat(h)
                .startsWith("CONTAINER ID").contains("IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"));
        assertThat(ps.stdout()).containsPattern("bb:cli +\"sh -c 'exit 3'\" .*Exited \\(3\\).*cli-kept");
        assertThat(berth("ps").stdout()).doesNotContain("cli-kept");
        Tools.Result rm = berth("rm", "cli-kept", "not-a-container");
        assertThat(rm.exitCode()).isEqualTo(1);
        assertThat(rm.stdout()).isEqualTo("cli-kept\n");
        assertThat(rm.stderr()).isEqualTo("berth: rm not-a-container: no such container: not-a-container\n");
        assertThat(berth("ps", "-a").stdout()).doesNotContain("cli-kept");
    }

    @Test
    void bundleWritesWhatRuncRuns() throws IOException {
        Path runc = Tools.require("runc");
        Path dir = home.getParent().resolve("bundle");
        Tools.Result b = berth("bundle", "-h", "bundled", "bb:cli", dir.toString(), "sh", "-c", "hostname; id -u");
        assertThat(b.exitCode()).as(b.stderr()).isZero();
        assertThat(b.stdout()).isEqualTo(dir + "\n");
        Tools.Result r = Tools.run(runc.toString(), "run", "--bundle", dir.toString(), "berth-cli-bundle");
        Tools.run(runc.toString(), "delete", "-f", "berth-cli-bundle");
        assertThat(r.stdout()).isEqualTo("bundled\n0\n");
    }

    @Test
    @Timeout(300) // a guard against a hang, not a speed check
    void signalsSentToBerthReachTheContainer() throws Exception {
        for (String signal : List.of("TERM", "INT", "HUP")) {
            List<String> cmd = new ArrayList<>(Jvm.command(Berth.class, "run", "--rm", "bb:cli", "sh", "-c",
                    "trap 'echo got " + signal + "; exit 4' " + signal + "; echo ready; while true; do sleep 0.05; done"));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("BERTH_HOME", home.toString());
            Process berth = pb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(berth.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("ready");
            Tools.run("kill", "-" + signal, Long.toString(berth.pid())).ok();
            CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    return e.toString();
                }
            });
            assertThat(berth.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(rest.get(10, TimeUnit.SECONDS)).isEqualTo("got " + signal);
            assertThat(berth.exitValue()).as(signal).isEqualTo(4);
        }
    }

    @Test
    @Timeout(300) // a guard against a hang, not a speed check
    void anInteractiveTerminalIsRelayedThroughARealPty() throws Exception {
        // util-linux script gives berth a real terminal, as a user's shell would.
        Path script = Tools.require("script");
        String berth = String.join(" ", Jvm.command(Berth.class, "run", "--rm", "-it", "bb:cli", "sh").stream()
                .map(a -> "'" + a + "'").toList());
        ProcessBuilder pb = new ProcessBuilder(script.toString(), "-qec", berth, "/dev/null");
        pb.environment().put("BERTH_HOME", home.toString());
        Process p = pb.redirectErrorStream(true).start();
        StringBuilder seen = new StringBuilder();
        var out = p.getInputStream();
        var in = p.getOutputStream();
        readUntil(out, seen, "/ # ");
        in.write("echo typed-$((6*7)); tty\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        readUntil(out, seen, "/dev/pts/0");
        in.write("exit 5\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(seen.toString()).contains("typed-42\r\n");
        assertThat(p.exitValue()).isEqualTo(5);
    }

    private static void readUntil(java.io.InputStream in, StringBuilder seen, String text) throws IOException {
        byte[] buf = new byte[4096];
        while (!seen.toString().contains(text)) {
            int n = in.read(buf);
            if (n < 0) {
                throw new AssertionError("ended before \"" + text + "\": " + seen);
            }
            seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
    }

    @Test
    void anImageThatIsNotInTheStoreIsPulledFirst() throws IOException {
        Path skopeo = Tools.require("skopeo");
        try (dev.berth.registry.testing.LocalRegistry registry = dev.berth.registry.testing.LocalRegistry.open(
                home.getParent().resolve("registry"))) {
            String remote = registry.host() + "/bb:pulled";
            Tools.run(skopeo.toString(), "copy", "-q", "--dest-tls-verify=false",
                    "oci:" + home.resolve("store") + ":docker.io/library/bb:cli", "docker://" + remote).ok();
            Tools.Result r = berth("run", "--rm", remote, "echo", "pulled and ran");
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stdout()).isEqualTo("pulled and ran\n");
            assertThat(r.stderr()).startsWith("Unable to find image '" + remote + "' locally\n");
            assertThat(berth("run", "--rm", remote, "true").stderr()).as("in the store now").isEmpty();

            Tools.Result missing = berth("run", "--rm", registry.host() + "/nothing:here");
            assertThat(missing.exitCode()).isEqualTo(125);
            assertThat(missing.stderr()).contains("berth: run " + registry.host() + "/nothing:here: image "
                    + registry.host() + "/nothing:here is not in the local store and cannot be pulled: ");
        }
    }
}
