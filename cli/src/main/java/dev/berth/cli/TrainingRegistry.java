package dev.berth.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A registry in memory on a loopback port, for the ahead-of-time cache's training run only: enough of the
 * distribution API (manifests and blobs by GET and HEAD, monolithic and chunked uploads, manifest PUT,
 * tag listing) that a {@code berth pull} and a {@code berth push} go through every step they take against a
 * real registry, so the classes and code those steps use are in the cache. It checks digests but nothing
 * else: it is not a registry to test against (the tests use the CNCF distribution registry).
 */
final class TrainingRegistry implements AutoCloseable {
    private static final Pattern PATH = Pattern.compile(
            "/v2/(?<name>[a-z0-9._/-]+?)/(?:(?<kind>manifests|blobs)/(?<ref>[^/]+)|blobs/uploads/(?<upload>[^/]*)|tags/list)");

    private final HttpServer server;
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    private final Map<String, Manifest> manifests = new ConcurrentHashMap<>();
    private final Map<String, ByteArrayOutputStream> uploads = new ConcurrentHashMap<>();

    private record Manifest(byte[] bytes, String type, String digest) {}

    private TrainingRegistry(HttpServer server) {
        this.server = server;
    }

    /** Starts the registry on a free loopback port. */
    static TrainingRegistry start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        TrainingRegistry registry = new TrainingRegistry(server);
        server.createContext("/v2/", registry::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        return registry;
    }

    /** host:port, as a reference's registry part. */
    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String method = x.getRequestMethod();
            URI uri = x.getRequestURI();
            byte[] body = x.getRequestBody().readAllBytes();
            if (uri.getPath().equals("/v2/")) {
                reply(x, 200, "application/json", "{}".getBytes(), Map.of());
                return;
            }
            Matcher m = PATH.matcher(uri.getPath());
            if (!m.matches()) {
                error(x, 404, "NAME_UNKNOWN");
                return;
            }
            String name = m.group("name");
            if (m.group("upload") != null) {
                upload(x, method, name, m.group("upload"), query(uri, "digest"), body);
            } else if ("manifests".equals(m.group("kind"))) {
                manifest(x, method, name, m.group("ref"), body);
            } else if ("blobs".equals(m.group("kind"))) {
                byte[] blob = blobs.get(m.group("ref"));
                if (blob == null) {
                    error(x, 404, "BLOB_UNKNOWN");
                } else {
                    reply(x, 200, "application/octet-stream", blob, Map.of("Docker-Content-Digest", m.group("ref")));
                }
            } else {
                String tags = manifests.keySet().stream().filter(k -> k.startsWith(name + ":"))
                        .map(k -> "\"" + k.substring(name.length() + 1) + "\"").sorted()
                        .reduce((a, b) -> a + "," + b).orElse("");
                reply(x, 200, "application/json", ("{\"name\":\"" + name + "\",\"tags\":[" + tags + "]}").getBytes(),
                        Map.of());
            }
        }
    }

    private void manifest(HttpExchange x, String method, String name, String ref, byte[] body) throws IOException {
        if (method.equals("PUT")) {
            String digest = digest(body);
            Manifest m = new Manifest(body, x.getRequestHeaders().getFirst("Content-Type"), digest);
            manifests.put(name + ":" + ref, m);
            manifests.put(name + ":" + digest, m);
            reply(x, 201, null, new byte[0], Map.of("Docker-Content-Digest", digest,
                    "Location", "/v2/" + name + "/manifests/" + digest));
            return;
        }
        Manifest m = manifests.get(name + ":" + ref);
        if (m == null) {
            error(x, 404, "MANIFEST_UNKNOWN");
        } else {
            reply(x, 200, m.type(), m.bytes(), Map.of("Docker-Content-Digest", m.digest()));
        }
    }

    private void upload(HttpExchange x, String method, String name, String id, Optional<String> digest, byte[] body)
            throws IOException {
        if (method.equals("POST")) {
            String session = UUID.randomUUID().toString();
            uploads.put(session, new ByteArrayOutputStream());
            // a mount (?mount=&from=) is answered as registries that cannot mount do: with an upload
            reply(x, 202, null, new byte[0], Map.of("Location", "/v2/" + name + "/blobs/uploads/" + session,
                    "Range", "0-0", "Docker-Upload-UUID", session));
            return;
        }
        ByteArrayOutputStream data = uploads.get(id);
        if (data == null) {
            error(x, 404, "BLOB_UPLOAD_UNKNOWN");
            return;
        }
        data.write(body);
        if (method.equals("PATCH")) {
            reply(x, 202, null, new byte[0], Map.of("Location", "/v2/" + name + "/blobs/uploads/" + id,
                    "Range", "0-" + (data.size() - 1)));
            return;
        }
        uploads.remove(id);
        byte[] blob = data.toByteArray();
        if (digest.isEmpty() || !digest.get().equals(digest(blob))) {
            error(x, 400, "DIGEST_INVALID");
            return;
        }
        blobs.put(digest.get(), blob);
        reply(x, 201, null, new byte[0], Map.of("Docker-Content-Digest", digest.get(),
                "Location", "/v2/" + name + "/blobs/" + digest.get()));
    }

    private static Optional<String> query(URI uri, String key) {
        String q = uri.getRawQuery();
        if (q != null) {
            for (String pair : q.split("&")) {
                if (pair.startsWith(key + "=")) {
                    return Optional.of(java.net.URLDecoder.decode(pair.substring(key.length() + 1),
                            java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        return Optional.empty();
    }

    private static void error(HttpExchange x, int status, String code) throws IOException {
        reply(x, status, "application/json",
                ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + code.toLowerCase() + "\"}]}").getBytes(),
                Map.of());
    }

    private static void reply(HttpExchange x, int status, String type, byte[] body, Map<String, String> headers)
            throws IOException {
        headers.forEach(x.getResponseHeaders()::set);
        if (type != null) {
            x.getResponseHeaders().set("Content-Type", type);
        }
        x.getResponseHeaders().set("Docker-Distribution-API-Version", "registry/2.0");
        if (x.getRequestMethod().equals("HEAD")) {
            x.getResponseHeaders().set("Content-Length", Long.toString(body.length));
            x.sendResponseHeaders(status, -1);
            return;
        }
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    private static String digest(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
