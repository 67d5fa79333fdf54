package dev.berth.registry.testing;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The CNCF distribution registry ({@code /usr/bin/docker-registry serve CONFIG}, Debian package
 * {@code docker-registry}) on a free loopback port, in one of the set-ups berth must handle: open,
 * htpasswd Basic auth, bearer tokens from a {@link TokenIssuer}, TLS with a test CA. Stopped by
 * {@link #close()}.
 */
public final class LocalRegistry implements AutoCloseable {
    /** How the registry authenticates. */
    public sealed interface Auth {
        record None() implements Auth {}

        /** htpasswd Basic auth with the given users and passwords (bcrypt entries made with {@code htpasswd -B}). */
        record Htpasswd(java.util.Map<String, String> users) implements Auth {}

        /** Bearer tokens: the registry trusts tokens the issuer signs. */
        record Token(TokenIssuer issuer) implements Auth {}
    }

    private final Process process;
    private final Path dir;
    private final int port;
    private final boolean tls;
    private final Path log;

    private LocalRegistry(Process process, Path dir, int port, boolean tls, Path log) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.tls = tls;
        this.log = log;
    }

    public static LocalRegistry open(Path dir) {
        return start(dir, new Auth.None(), Optional.empty());
    }

    /**
     * Starts a registry storing under {@code dir}; with {@code tls}, it serves HTTPS with that key pair
     * (its certificate must name 127.0.0.1 and localhost).
     */
    public static LocalRegistry start(Path dir, Auth auth, Optional<TestCerts.KeyPair> tls) {
        return start(dir, auth, tls, false);
    }

    /**
     * An open registry that accepts manifests whose layers have {@code urls} (non-distributable, "foreign"
     * layers): the CNCF registry refuses every such URL unless its configuration allows it.
     */
    public static LocalRegistry openAllowingLayerUrls(Path dir) {
        return start(dir, new Auth.None(), Optional.empty(), true);
    }

    private static LocalRegistry start(Path dir, Auth auth, Optional<TestCerts.KeyPair> tls, boolean layerUrls) {
        Path exe = Tools.require("docker-registry", "docker-registry");
        try {
            Files.createDirectories(dir);
            for (int attempt = 0; attempt < 5; attempt++) {
                int port = freePort();
                Path config = dir.resolve("config.yml");
                Files.writeString(config, config(dir, port, auth, tls) + (layerUrls
                        ? "validation:\n  manifests:\n    urls:\n      allow: ['^https?://']\n" : ""));
                Path log = dir.resolve("registry.log");
                Process p = new ProcessBuilder(exe.toString(), "serve", config.toString())
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                LocalRegistry r = new LocalRegistry(p, dir, port, tls.isPresent(), log);
                if (r.awaitReady()) {
                    return r;
                }
                r.close();
            }
            throw new IllegalStateException("docker-registry did not start; see " + dir.resolve("registry.log"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start docker-registry: " + e.getMessage(), e);
        }
    }

    private static String config(Path dir, int port, Auth auth, Optional<TestCerts.KeyPair> tls) throws IOException {
        StringBuilder y = new StringBuilder();
        y.append("version: 0.1\n");
        y.append("log: {level: error, accesslog: {disabled: true}}\n");
        y.append("storage:\n  filesystem: {rootdirectory: ").append(dir.resolve("data")).append("}\n");
        y.append("  delete: {enabled: true}\n");
        y.append("  maintenance: {uploadpurging: {enabled: false}}\n");
        y.append("http:\n  addr: 127.0.0.1:").append(port).append("\n  secret: berth-test-secret\n");
        if (tls.isPresent()) {
            y.append("  tls: {certificate: ").append(tls.get().certificate()).append(", key: ")
                    .append(tls.get().key()).append("}\n");
        }
        switch (auth) {
            case Auth.None none -> { }
            case Auth.Htpasswd h -> {
                Path file = dir.resolve("htpasswd");
                Path htpasswd = Tools.require("htpasswd", "apache2-utils");
                Files.deleteIfExists(file);
                for (var u : new java.util.TreeMap<>(h.users()).entrySet()) {
                    List<String> cmd = new ArrayList<>(List.of(htpasswd.toString(), "-Bb"));
                    if (!Files.exists(file)) {
                        cmd.add("-c");
                    }
                    cmd.addAll(List.of(file.toString(), u.getKey(), u.getValue()));
                    Tools.run(cmd, dir, 60).orThrow("htpasswd");
                }
                y.append("auth:\n  htpasswd: {realm: berth-test, path: ").append(file).append("}\n");
            }
            case Auth.Token t -> y.append("auth:\n  token: {realm: \"").append(t.issuer().realm())
                    .append("\", service: \"").append(t.issuer().service()).append("\", issuer: \"")
                    .append(t.issuer().issuerName()).append("\", rootcertbundle: ")
                    .append(t.issuer().certificate()).append("}\n");
        }
        return y.toString();
    }

    /** A port the kernel just gave out and took back (the registry binds it right after). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private boolean awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                if (!tls) {
                    HttpURLConnection c = (HttpURLConnection) URI.create(uri() + "/v2/").toURL().openConnection();
                    c.setConnectTimeout(1000);
                    c.setReadTimeout(2000);
                    c.getResponseCode();
                    c.disconnect();
                }
                return true;
            } catch (IOException e) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:PORT}: the registry part of references to this registry. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public URI uri() {
        return URI.create((tls ? "https" : "http") + "://" + host());
    }

    public Path directory() {
        return dir;
    }

    /** The registry's own log (errors only), for failure messages. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
