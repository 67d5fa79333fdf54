package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Published ports: the monitor listens on the host and relays to the container's loopback, TCP (both
 * directions, large transfers, half-close) and UDP (replies to each client), for {@code -p} and {@code -P}.
 */
class PortsTest {
    static Fixture f;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static RunningContainer detached(String image, List<PortMapping> ports, String script) {
        return f.runtime.start(image, RunOptions.builder().detach(DetachOptions.DEFAULT).publish(ports)
                .command("sh", "-c", script).build());
    }

    private static String exec(RunningContainer c, String script) throws IOException {
        Path out = Files.createTempFile(f.scratch, "exec", ".out");
        int code = f.runtime.exec(c.name(), new ExecOptions(List.of("sh", "-c", script), Optional.empty(),
                Optional.empty(), List.of(), false, false, false, Stdio.NULL, Stdio.file(out), Stdio.INHERIT)).await();
        assertThat(code).as("exec %s", script).isZero();
        return Files.readString(out);
    }

    /** Connects, retrying while the server in the container is not listening yet (the relay then closes at once). */
    private static byte[] get(int port, String request) throws IOException, InterruptedException {
        for (int i = 0; ; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(30_000);
                s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                byte[] got = s.getInputStream().readAllBytes();
                if (got.length > 0 || i > 100) {
                    return got;
                }
            } catch (java.net.SocketException reset) { // closed with the request unread: nothing listened yet
                if (i > 100) {
                    throw reset;
                }
            }
            Thread.sleep(50);
        }
    }

    @Test
    void tcpReachesTheContainersServerBothWaysWithLargeTransfers() throws Exception {
        byte[] big = new byte[5 << 20];
        new Random(1).nextBytes(big);
        Path www = Files.createTempDirectory(f.scratch, "www");
        Files.write(www.resolve("big"), big);
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .volume(Volume.parse(www + ":/www:ro"))
                .publish(PortMapping.parse("127.0.0.1:0:80")).publish(PortMapping.parse("127.0.0.1::81"))
                .command("sh", "-c", "httpd -p 80 -h /www; nc -l -p 81 > /tmp/up; echo received; sleep 1000").build());
        List<PortMapping> ports = f.runtime.control().ports(c.name());
        assertThat(ports).hasSize(2).allSatisfy(p -> {
            assertThat(p.hostIp()).isEqualTo("127.0.0.1");
            assertThat(p.hostPort()).isPositive();
        });
        assertThat(ports).extracting(PortMapping::containerPort).containsExactly(80, 81);
        byte[] response = get(ports.get(0).hostPort(), "GET /big HTTP/1.0\r\n\r\n");
        String head = new String(response, 0, 200, StandardCharsets.ISO_8859_1);
        assertThat(head).startsWith("HTTP/1.").contains("200");
        int body = indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) + 4;
        assertThat(java.util.Arrays.copyOfRange(response, body, response.length)).isEqualTo(big);

        // upload: the client's end of input reaches nc inside as EOF (a half-close through the relay); nc's
        // own input is /dev/null, so it half-closes its side at once, and the upload must still get through
        byte[] up = new byte[3 << 20];
        new Random(2).nextBytes(up);
        exec(c, "until netstat -ltn | grep -q ':81 '; do sleep 0.05; done");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ports.get(1).hostPort())) {
            s.setSoTimeout(30_000);
            assertThat(s.getInputStream().read()).as("nc's half-close").isEqualTo(-1);
            OutputStream o = s.getOutputStream();
            o.write(up);
            s.shutdownOutput();
        }
        waitForLog(c, "received");
        assertThat(exec(c, "wc -c < /tmp/up; md5sum /tmp/up").trim())
                .isEqualTo(up.length + "\n" + md5(up) + "  /tmp/up");
        f.runtime.remove(List.of(c.name()), true);
    }

    @Test
    void udpRepliesReachEachClient() throws Exception {
        RunningContainer c = detached("ports:test", PortMapping.parse("127.0.0.1:0:53/udp"), "udp-echo 53");
        int port = f.runtime.control().ports(c.name()).getFirst().hostPort();
        try (DatagramSocket a = new DatagramSocket(); DatagramSocket b = new DatagramSocket()) {
            a.setSoTimeout(200);
            b.setSoTimeout(200);
            assertThat(exchange(a, port, "from a")).isEqualTo("echo from a");
            assertThat(exchange(b, port, "from b")).isEqualTo("echo from b");
            assertThat(exchange(a, port, "a again")).isEqualTo("echo a again");
        }
        f.runtime.remove(List.of(c.name()), true);
    }

    @Test
    void publishAllTakesTheExposedPortsAndFreesThemAtTheEnd() throws Exception {
        RunningContainer c = f.runtime.start("ports:test", RunOptions.builder().detach(DetachOptions.DEFAULT)
                .publishAll(true).publish(PortMapping.parse("127.0.0.1::80"))
                .command("sh", "-c", "echo hi > /tmp/index.html; httpd -f -p 80 -h /tmp").build());
        List<PortMapping> ports = f.runtime.control().ports(c.name());
        assertThat(ports).filteredOn(p -> p.containerPort() == 80).as("-p wins over -P for its port")
                .singleElement().extracting(PortMapping::hostIp).isEqualTo("127.0.0.1");
        assertThat(ports).filteredOn(p -> p.containerPort() == 53).isNotEmpty()
                .allSatisfy(p -> assertThat(p.protocol()).isEqualTo("udp"));
        int port = ports.getFirst().hostPort();
        assertThat(new String(get(port, "GET /index.html HTTP/1.0\r\n\r\n"), StandardCharsets.ISO_8859_1))
                .endsWith("\r\n\r\nhi\n");
        f.runtime.control().stop(c.name(), Duration.ofSeconds(5));
        assertThat(f.runtime.control().ports(c.name())).as("none once it ended").isEmpty();
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress("127.0.0.1", port)); // the monitor closed its listener
        }
        f.runtime.remove(List.of(c.name()), false);
    }

    @Test
    void aPortInUseFailsBeforeAnythingRunsAndLeavesNothing() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            RunningContainer c = detached(Fixture.BUSYBOX,
                    PortMapping.parse("127.0.0.1:" + taken.getLocalPort() + ":80"), "sleep 100");
            assertThatThrownBy(c::await).isInstanceOfSatisfying(ContainerException.class,
                    e -> assertThat(e.exitCode()).isEqualTo(125))
                    .hasMessageContaining("publish 127.0.0.1:" + taken.getLocalPort() + "/tcp: Address already in use");
            assertThat(f.runtime.list(false)).noneMatch(i -> i.id().equals(c.id()));
            f.runtime.remove(List.of(c.name()), false);
        }
        assertThatThrownBy(() -> f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().network(NetworkMode.HOST)
                .publish(PortMapping.parse("80")).command("true").build()))
                .hasMessageContaining("published ports need a network of the container's own");
    }

    @Test
    void portSpecsParseAsDockersDo() {
        assertThat(PortMapping.parse("80")).containsExactly(new PortMapping("tcp", "", 0, 80));
        assertThat(PortMapping.parse("8080:80/udp")).containsExactly(new PortMapping("udp", "", 8080, 80));
        assertThat(PortMapping.parse("127.0.0.1::80")).containsExactly(new PortMapping("tcp", "127.0.0.1", 0, 80));
        assertThat(PortMapping.parse("[::1]:8080:80")).containsExactly(new PortMapping("tcp", "::1", 8080, 80));
        assertThat(PortMapping.parse("8000-8001:80-81")).containsExactly(new PortMapping("tcp", "", 8000, 80),
                new PortMapping("tcp", "", 8001, 81));
        assertThat(new PortMapping("tcp", "::", 8080, 80).toString()).isEqualTo("[::]:8080->80/tcp");
        assertThat(PortMapping.bound("[::]:8080->80/tcp")).isEqualTo(new PortMapping("tcp", "::", 8080, 80));
        assertThatThrownBy(() -> PortMapping.parse("80/sctp")).hasMessage("invalid -p \"80/sctp\": berth publishes "
                + "tcp and udp, not sctp");
        assertThatThrownBy(() -> PortMapping.parse("8000-8002:80")).hasMessageContaining("differ in length");
        assertThatThrownBy(() -> PortMapping.parse("70000")).hasMessageContaining("port 70000 is out of range");
        assertThatThrownBy(() -> PortMapping.parse("a:b")).hasMessageContaining("expected [IP:][HOSTPORT:]");
    }

    private static String exchange(DatagramSocket s, int port, String text) throws IOException {
        byte[] out = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; ; i++) { // the first datagrams may come before udp-echo has bound its port
            s.send(new DatagramPacket(out, out.length, InetAddress.getByName("127.0.0.1"), port));
            DatagramPacket in = new DatagramPacket(new byte[100], 100);
            try {
                s.receive(in);
                return new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8);
            } catch (java.net.SocketTimeoutException e) {
                if (i > 100) {
                    throw e;
                }
            }
        }
    }

    private static void waitForLog(RunningContainer c, String text) throws InterruptedException {
        for (int i = 0; i < 3000; i++) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            f.runtime.control().logs(c.name(), new ContainerLogs.Query(false, java.util.OptionalInt.empty(), Optional.empty(),
                    false), out, new java.io.ByteArrayOutputStream());
            if (out.toString(StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(c.name() + "'s log never showed " + text);
    }

    private static String md5(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    private static int indexOf(byte[] b, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= b.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (b[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
