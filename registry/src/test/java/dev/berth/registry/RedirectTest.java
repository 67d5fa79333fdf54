package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import dev.berth.registry.testing.TokenIssuer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blob downloads redirected to "blob storage" on another origin, as Docker Hub redirects to its CDN: the
 * storage never sees the registry's Authorization header, its signed URLs work once only, and the first
 * transfer of each blob breaks half way. The pull must resume by asking the registry again (for a fresh
 * signed URL) with a Range, and end verified.
 */
class RedirectTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static TokenIssuer issuer;
    static LocalRegistry registry;
    static Cdn cdn;
    static Descriptor image;
    static List<String> layerDigests;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        issuer = TokenIssuer.start(shared, "berth-test-registry").user("alice", "wonderland");
        registry = LocalRegistry.start(shared.resolve("registry"), new LocalRegistry.Auth.Token(issuer), Optional.empty());
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient alice = RegistryClient.create(Fixtures.config(shared).build(),
                     (r, repo) -> Optional.of(new Credentials.Basic("alice", "wonderland")))) {
            Reference local = Reference.parse("cdn:1");
            image = TestImages.create(source, local, AMD64, 1, 1_000_000, 600_000);
            alice.push(source, local, Reference.parse(registry.host() + "/team/cdn:1"), PushOptions.defaults());
            layerDigests = source.image(local, AMD64).layers().stream().map(d -> d.digest().toString()).toList();
        }
        cdn = new Cdn(registry.uri(), issuer.mint("cdn", "team/cdn", Set.of("pull")));
    }

    @AfterAll
    static void stop() {
        cdn.close();
        registry.close();
        issuer.close();
    }

    @Test
    void redirectsAreFollowedWithoutCredentialsAndResumedThroughTheRegistry() throws Exception {
        AtomicInteger signature = new AtomicInteger();
        try (FaultProxy proxy = FaultProxy.reverse(registry.uri())) {
            proxy.on("GET", ".*/blobs/(" + String.join("|", layerDigests) + ")").times(Integer.MAX_VALUE)
                    .redirect(307, req -> "http://localhost:" + cdn.port() + "/storage/"
                            + req.path().substring(req.path().lastIndexOf('/') + 1) + "?sig=" + signature.incrementAndGet());
            // a short idle timeout only guards the test's run time: the cuts are real closes, not stalls
            try (ImageStore target = Fixtures.store(tmp);
                 RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).idleTimeout(Duration.ofSeconds(10)).build())) {
                Reference ref = Reference.parse(proxy.host() + "/team/cdn:1");
                assertThat(client.pull(target, ref, PullOptions.defaults()).digest()).isEqualTo(image.digest());
                for (Descriptor l : target.image(ref, AMD64).layers()) {
                    try (InputStream in = target.open(l, "test")) {
                        in.transferTo(OutputStream.nullOutputStream());
                    }
                }
            }
            // each layer: a transfer cut half way, then a resumed one
            assertThat(cdn.requests).hasSize(2 * layerDigests.size());
            assertThat(cdn.requests).allSatisfy(r -> assertThat(r.authorization()).isEmpty());
            assertThat(cdn.refusedSignatures.get()).isZero();
            assertThat(cdn.requests).filteredOn(r -> r.range().isPresent()).hasSize(layerDigests.size());
            // the resumes went to the registry again (which redirected with a new signature), with the Range
            assertThat(proxy.requests("GET", ".*/blobs/.*")).filteredOn(r -> r.header("range").isPresent())
                    .hasSize(layerDigests.size())
                    .allSatisfy(r -> assertThat(r.header("authorization")).hasValueSatisfying(a -> assertThat(a).startsWith("Bearer ")));
        }
    }

    /**
     * Blob storage: single-use signed URLs, serves from the registry with its own token, cuts the first
     * transfer of each blob by closing the socket half way (a raw socket server, so the cut is a real one).
     */
    static final class Cdn implements AutoCloseable {
        record Seen(String path, Optional<String> authorization, Optional<String> range) {}

        final List<Seen> requests = new CopyOnWriteArrayList<>();
        final AtomicInteger refusedSignatures = new AtomicInteger();
        private final Set<String> usedSignatures = ConcurrentHashMap.newKeySet();
        private final Set<String> cut = ConcurrentHashMap.newKeySet();
        private final ServerSocket server;
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        private final URI registry;
        private final String token;

        Cdn(URI registry, String token) throws IOException {
            this.registry = registry;
            this.token = token;
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        Thread.ofVirtual().start(() -> serve(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve(Socket socket) {
            try (socket) {
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
                OutputStream out = socket.getOutputStream();
                String line;
                while ((line = in.readLine()) != null && !line.isEmpty()) {
                    URI target = URI.create(line.split(" ")[1]);
                    Map<String, String> headers = new HashMap<>();
                    for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                        int colon = h.indexOf(':');
                        headers.put(h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), h.substring(colon + 1).trim());
                    }
                    String digest = target.getPath().substring("/storage/".length());
                    Optional<String> range = Optional.ofNullable(headers.get("range"));
                    requests.add(new Seen(target.getPath(), Optional.ofNullable(headers.get("authorization")), range));
                    if (!usedSignatures.add(target.getQuery())) {
                        refusedSignatures.incrementAndGet();
                        out.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                        continue;
                    }
                    HttpRequest.Builder b = HttpRequest.newBuilder(registry.resolve("/v2/team/cdn/blobs/" + digest))
                            .header("Authorization", "Bearer " + token);
                    range.ifPresent(r -> b.header("Range", r));
                    HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                    byte[] body = r.body();
                    StringBuilder head = new StringBuilder("HTTP/1.1 " + r.statusCode() + " OK\r\n");
                    r.headers().firstValue("Content-Range").ifPresent(v -> head.append("Content-Range: ").append(v).append("\r\n"));
                    head.append("Content-Type: application/octet-stream\r\nContent-Length: ").append(body.length).append("\r\n\r\n");
                    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                    if (cut.add(digest)) {
                        out.write(body, 0, body.length / 2);
                        out.flush();
                        return; // closes the socket half way through the body
                    }
                    out.write(body);
                    out.flush();
                }
            } catch (IOException e) {
                // the client went away
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            client.close();
        }
    }
}
