package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code berth run -d}, {@code logs}, {@code stop}, {@code kill}, {@code wait} as a user runs them, one JVM
 * per command: the container outlives the berth that started it, and the monitor's exit command (a berth of
 * this class path) records its end.
 */
class DetachedCommandsTest {
    static Path home;

    @BeforeAll
    static void setUp() throws IOException {
        home = RunCommandsTest.busyboxHome("cli-detached-berth");
    }

    static Tools.Result berth(String... args) {
        return Tools.run(Jvm.command(Berth.class, args), Map.of("BERTH_HOME", home.toString()), null);
    }

    static Tools.Result ok(Tools.Result r) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.stderr()).isZero();
        return r;
    }

    @Test
    void runDetachedPrintsTheIdAndTheExitCommandRecordsTheEnd() throws Exception {
        Tools.Result run = ok(berth("run", "-d", "--name", "bg", "bb:cli", "sh", "-c",
                "echo started; echo warning >&2; sleep 0.3; exit 4"));
        assertThat(run.stdout()).matches("[0-9a-f]{64}\n");
        assertThat(run.stderr()).isEmpty();
        Path dir = home.resolve("containers").resolve(run.stdout().trim());
        assertThat(ok(berth("wait", "bg")).stdout()).isEqualTo("4\n");
        Tools.Result logs = ok(berth("logs", "bg"));
        assertThat(logs.stdout()).isEqualTo("started\n");
        assertThat(logs.stderr()).isEqualTo("warning\n");
        assertThat(ok(berth("ps", "-a")).stdout()).contains("Exited (4)").contains("bg");
        // the monitor's exit command recorded it too: no berth needs to look for that
        for (int i = 0; i < 1000 && Files.exists(dir.resolve("running")); i++) {
            Thread.sleep(10);
        }
        assertThat(dir.resolve("running")).doesNotExist();
        ok(berth("rm", "bg"));
        assertThat(dir).doesNotExist();
    }

    @Test
    void withRmTheExitCommandRemovesItWithoutAnotherBerth() throws Exception {
        Tools.Result run = ok(berth("run", "-d", "--rm", "bb:cli", "true"));
        Path dir = home.resolve("containers").resolve(run.stdout().trim());
        for (int i = 0; i < 3000 && Files.exists(dir); i++) { // a JVM starts for it: give it a busy machine's time
            Thread.sleep(10);
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void stopKillAndFollowingLogs() throws Exception {
        ok(berth("run", "-d", "--name", "ticker", "bb:cli", "sh", "-c",
                "trap 'echo bye; exit 0' TERM; echo one; while true; do sleep 0.05; done"));
        ProcessBuilder pb = new ProcessBuilder(Jvm.command(Berth.class, "logs", "-f", "ticker")).redirectErrorStream(true);
        pb.environment().put("BERTH_HOME", home.toString());
        Process follow = pb.start();
        follow.getOutputStream().close();
        var lines = new java.io.BufferedReader(new java.io.InputStreamReader(follow.getInputStream()));
        assertThat(lines.readLine()).isEqualTo("one");
        assertThat(ok(berth("stop", "ticker")).stdout()).isEqualTo("ticker\n");
        assertThat(lines.readLine()).isEqualTo("bye");
        assertThat(follow.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("-f ends with the container").isTrue();
        assertThat(ok(berth("wait", "ticker")).stdout()).isEqualTo("0\n");

        ok(berth("run", "-d", "--name", "victim", "bb:cli", "sh", "-c", "while true; do sleep 1; done"));
        assertThat(ok(berth("kill", "-s", "KILL", "victim")).stdout()).isEqualTo("victim\n");
        assertThat(ok(berth("wait", "victim")).stdout()).isEqualTo("137\n");
        Tools.Result notRunning = berth("kill", "victim");
        assertThat(notRunning.exitCode()).isEqualTo(1);
        assertThat(notRunning.stderr()).isEqualTo("berth: kill victim: container victim is not running\n");
        Tools.Result badSignal = berth("kill", "-s", "NOPE", "victim");
        assertThat(badSignal.exitCode()).isEqualTo(1);
        assertThat(badSignal.stderr()).isEqualTo("berth: invalid signal \"NOPE\"\nSee 'berth kill --help'.\n");
        ok(berth("rm", "ticker", "victim"));
    }

    @Test
    void execRunsInTheContainerWithItsOptionsAndExitCodes() {
        ok(berth("run", "-d", "--name", "ex", "-e", "WHO=run", "bb:cli", "sh", "-c",
                "mkdir -p /work/sub; while true; do sleep 1; done"));
        Tools.Result ps = ok(berth("exec", "ex", "ps", "-o", "pid,args"));
        assertThat(ps.stdout()).containsPattern("(?m)^ *1 sh -c mkdir").doesNotContain("java");
        assertThat(ok(berth("exec", "-e", "NEW=x", "-w", "/work", "-u", "1000:1000", "ex", "sh", "-c",
                "echo $WHO $NEW; pwd; id -u; cd sub && pwd")).stdout()).isEqualTo("run x\n/work\n1000\n/work/sub\n");
        Tools.Result in = Tools.run(Jvm.command(Berth.class, "exec", "-i", "ex", "sh", "-c", "tr a-z A-Z; exit 3"),
                Map.of("BERTH_HOME", home.toString()), "piped in\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(in.exitCode()).isEqualTo(3);
        assertThat(in.stdout()).isEqualTo("PIPED IN\n");
        Tools.Result missing = berth("exec", "ex", "no-such-command");
        assertThat(missing.exitCode()).isEqualTo(127);
        assertThat(missing.stderr().lines().toList()).hasSize(1).first().asString().startsWith("berth: exec ex: ")
                .contains("no-such-command");
        ok(berth("stop", "-t", "0", "ex"));
        Tools.Result stopped = berth("exec", "ex", "true");
        assertThat(stopped.exitCode()).isEqualTo(1);
        assertThat(stopped.stderr()).isEqualTo("berth: container ex is not running\n");
        ok(berth("rm", "ex"));
    }

    @Test
    void publishedPortsAnswerOnTheHostAndPortListsThem() throws Exception {
        ok(berth("run", "-d", "--name", "web", "-p", "127.0.0.1::80", "bb:cli", "sh", "-c",
                "mkdir /www && echo hello > /www/index.html && httpd -f -p 80 -h /www"));
        String port = ok(berth("port", "web")).stdout();
        assertThat(port).matches("80/tcp -> 127\\.0\\.0\\.1:\\d+\n");
        String host = ok(berth("port", "web", "80")).stdout().trim();
        assertThat(port).endsWith(host + "\n");
        assertThat(ok(berth("ps")).stdout()).contains(host + "->80/tcp");
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String body = "";
        for (int i = 0; i < 100 && !body.equals("hello\n"); i++) { // until httpd listens
            try {
                body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + host + "/")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        assertThat(body).isEqualTo("hello\n");
        Tools.Result none = berth("port", "web", "81/udp");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.stderr()).isEqualTo("berth: no public port '81/udp' published for web\n");
        ok(berth("rm", "-f", "web"));
        Tools.Result hostNet = ok(berth("run", "--rm", "--network", "host", "-p", "80", "bb:cli", "true"));
        assertThat(hostNet.stderr()).isEqualTo("WARNING: Published ports are discarded when using host network mode\n");
        Tools.Result bad = berth("run", "--rm", "-p", "80/sctp", "bb:cli", "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.stderr()).isEqualTo("berth: invalid -p \"80/sctp\": berth publishes tcp and udp, not sctp\n");
    }

    @Test
    void startAndRestartRunAStoppedContainerAgainWithItsFiles() {
        ok(berth("run", "-d", "--name", "again", "bb:cli", "sh", "-c",
                "mkdir -p /data; echo x >> /data/n; echo runs $(wc -l < /data/n); sleep 100"));
        ok(berth("stop", "-t", "0", "again"));
        assertThat(ok(berth("start", "again")).stdout()).isEqualTo("again\n");
        assertThat(ok(berth("ps")).stdout()).contains("again");
        assertThat(ok(berth("start", "again")).stdout()).as("running already: left as it is").isEqualTo("again\n");
        assertThat(ok(berth("restart", "-t", "0", "again")).stdout()).isEqualTo("again\n");
        ok(berth("stop", "-t", "0", "again"));
        assertThat(ok(berth("logs", "again")).stdout()).isEqualTo("runs 1\nruns 2\nruns 3\n");
        assertThat(ok(berth("run", "--rm", "--add-host", "db:10.1.2.3", "--dns", "192.0.2.53", "bb:cli", "sh", "-c",
                "tail -1 /etc/hosts; grep nameserver /etc/resolv.conf")).stdout())
                .isEqualTo("10.1.2.3\tdb\nnameserver 192.0.2.53\n");
        ok(berth("rm", "again"));

        assertThat(berth("run", "--name", "fg2", "bb:cli", "sh", "-c", "echo hi; exit 3").exitCode()).isEqualTo(3);
        Tools.Result attached = berth("start", "-a", "fg2");
        assertThat(attached.exitCode()).isEqualTo(3);
        assertThat(attached.stdout()).isEqualTo("hi\n");
        String unit = ok(berth("generate", "systemd", "--restart-policy", "always", "fg2")).stdout();
        assertThat(unit).contains("[Service]", "Restart=always", "[Install]").containsPattern(
                "(?m)^ExecStart=\\S*java\\S* .*dev\\.berth\\.cli\\.Berth start -a fg2$")
                .containsPattern("(?m)^ExecStop=.* stop -t 10 fg2$");
        ok(berth("rm", "fg2"));
        Tools.Result restart = berth("run", "--restart", "always", "bb:cli", "true");
        assertThat(restart.exitCode()).isEqualTo(125);
        assertThat(restart.stderr()).startsWith("berth: --restart always: berth has no daemon to restart containers;")
                .contains("Restart=always").hasLineCount(1);
        ok(berth("run", "--rm", "--restart", "no", "bb:cli", "true"));
    }

    @Test
    void inspectShowsAContainerAsDockerDoesAndAnImageWithTypeImage() throws Exception {
        ok(berth("run", "-d", "--name", "insp", "-e", "A=1", "-p", "127.0.0.1::80", "--pids-limit", "50", "bb:cli",
                "sleep", "100"));
        com.fasterxml.jackson.databind.JsonNode c = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(ok(berth("inspect", "insp")).stdout()).get(0);
        assertThat(c.get("Name").asText()).isEqualTo("/insp");
        assertThat(c.get("State").get("Status").asText()).isEqualTo("running");
        assertThat(c.get("State").get("Pid").asLong()).isPositive();
        assertThat(c.get("Path").asText()).isEqualTo("sleep");
        assertThat(c.get("Config").get("Env").toString()).contains("\"A=1\"");
        assertThat(c.get("HostConfig").get("PidsLimit").asLong()).isEqualTo(50);
        String port = c.get("NetworkSettings").get("Ports").get("80/tcp").get(0).get("HostPort").asText();
        assertThat(ok(berth("port", "insp", "80")).stdout()).isEqualTo("127.0.0.1:" + port + "\n");
        assertThat(ok(berth("inspect", "-f", "{{.State.Status}} {{json .Config.Cmd}}", "insp")).stdout())
                .isEqualTo("running [\"sleep\",\"100\"]\n");
        assertThat(ok(berth("ps", "--format", "{{.Names}} {{.State}}")).stdout()).contains("insp running\n");
        assertThat(ok(berth("ps", "--format", "table {{.Names}}\\t{{.Ports}}")).stdout().lines().toList())
                .first().asString().matches("NAMES +PORTS");
        assertThat(ok(berth("images", "--format", "{{.Repository}}:{{.Tag}}")).stdout()).contains("bb:cli\n");
        Tools.Result badTemplate = berth("ps", "--format", "{{upper .Names}}");
        assertThat(badTemplate.exitCode()).isEqualTo(1);
        assertThat(badTemplate.stderr()).contains("not {{upper .Names}}").hasLineCount(1);
        Tools.Result top = ok(berth("top", "insp"));
        assertThat(top.stdout().lines().toList()).hasSize(2).first().asString().contains("PID", "CMD");
        assertThat(top.stdout()).contains("sleep 100");
        assertThat(ok(berth("top", "insp", "-o", "pid,comm")).stdout()).contains("sleep").doesNotContain("java");
        Tools.Result stats = ok(berth("stats", "--no-stream", "insp"));
        assertThat(stats.stdout()).startsWith("CONTAINER ID").containsPattern("insp +\\d+\\.\\d\\d% +[0-9.]+\\w?i?B / ");
        ok(berth("pause", "insp"));
        assertThat(ok(berth("inspect", "insp")).stdout()).contains("\"Status\" : \"paused\"");
        ok(berth("stop", "-t", "0", "insp"));
        com.fasterxml.jackson.databind.JsonNode ended = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(ok(berth("inspect", "insp")).stdout()).get(0);
        assertThat(ended.get("State").get("Status").asText()).isEqualTo("exited");
        assertThat(ended.get("State").get("ExitCode").asInt()).isEqualTo(137);
        assertThat(ok(berth("inspect", "--type", "image", "bb:cli")).stdout()).startsWith("Name:");
        Tools.Result none = berth("inspect", "--type", "container", "bb:cli");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.stderr()).isEqualTo("berth: no such container: bb:cli\n");
        ok(berth("rm", "insp"));
    }

    @Test
    void logsOfAForegroundContainerAndBadOptionsAreOneLine() {
        ok(berth("run", "--name", "fg", "bb:cli", "true"));
        Tools.Result r = berth("logs", "fg");
        assertThat(r.exitCode()).isEqualTo(125);
        assertThat(r.stderr()).isEqualTo("berth: logs fg: container fg has no log: its output went to the berth "
                + "that ran it (only a container run with -d has one)\n");
        Tools.Result opt = berth("run", "--log-opt", "max-size=1m", "bb:cli", "true");
        assertThat(opt.stderr()).isEqualTo("berth: --log-opt needs -d (only a detached container has a log)\n");
        Tools.Result unknown = berth("run", "-d", "--log-opt", "compress=true", "bb:cli", "true");
        assertThat(unknown.stderr()).isEqualTo("berth: unknown --log-opt \"compress\" (the json-file log takes "
                + "max-size and max-file)\n");
        ok(berth("rm", "fg"));
    }

    @Test
    void fiftyDetachedContainersStartedAndStoppedLeaveNothingBehind() throws Exception {
        for (int i = 0; i < 50; i++) { // in this JVM; each container's exit command is a JVM of its own
            String id = CliRun.berth(home, "run", "-d", "--rm", "--name", "loop" + i, "bb:cli", "sh", "-c",
                    "trap 'exit 0' TERM; echo ready; while true; do sleep 0.05; done").ok().out().trim();
            Path log = home.resolve("containers").resolve(id).resolve("container.log");
            for (int w = 0; w < 3000 && !(Files.exists(log) && Files.readString(log).contains("ready")); w++) {
                Thread.sleep(10); // its trap is set: SIGTERM is not lost on a PID 1 without a handler
            }
            assertThat(CliRun.berth(home, "stop", "loop" + i).ok().out()).isEqualTo("loop" + i + "\n");
        }
        String helpers = home.resolve("lib") + "/berth-helper";
        for (int i = 0; i < 6000 && (!Tools.run("pgrep", "-f", helpers).stdout().isEmpty()
                || !Tools.run("pgrep", "-f", "berth.home=" + home + " ").stdout().isEmpty()); i++) {
            Thread.sleep(10); // the last exit commands may still run
        }
        assertThat(Tools.run("pgrep", "-f", helpers).stdout()).as("no monitor left").isEmpty();
        try (var left = Files.list(home.resolve("containers"))) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".names")).toList())
                    .as("no container directory, so no log").isEmpty();
        }
        try (var names = Files.list(home.resolve("containers/.names"))) {
            assertThat(names.toList()).isEmpty();
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(home.toString());
        var cgroups = dev.berth.runtime.Cgroups.forThisProcess(dev.berth.runtime.Cgroups.group(home));
        for (Path parent : cgroups.parents()) {
            if (Files.isDirectory(parent)) {
                try (var children = Files.list(parent)) {
                    assertThat(children.filter(Files::isDirectory).toList()).as("cgroups in " + parent).isEmpty();
                }
            }
        }
    }
}
