package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.registry.Credentials;
import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * docker's credential helper protocol: {@code docker-credential-NAME get|store|erase}, the server URL or a
 * JSON object on stdin, JSON on stdout. The helper is looked up on the {@code PATH} of berth's environment;
 * a missing helper is an error, never a silent fall back to anonymous access.
 */
public final class CredentialHelper {
    private static final long TIMEOUT_SECONDS = 60;

    private final String name;
    private final String configuredIn;
    private final Map<String, String> env;

    /** @param configuredIn where the helper was named, for errors ({@code credsStore in ~/.docker/config.json}) */
    public CredentialHelper(String name, String configuredIn, Map<String, String> env) {
        this.name = name;
        this.configuredIn = configuredIn;
        this.env = env;
    }

    public String program() {
        return "docker-credential-" + name;
    }

    /** The credentials the helper holds for {@code serverUrl}, or empty when it has none. */
    public Optional<Credentials> get(String serverUrl) {
        Result r = run("get", serverUrl);
        if (r.exit != 0) {
            if (r.stdout.toLowerCase(java.util.Locale.ROOT).contains("credentials not found")) {
                return Optional.empty();
            }
            throw failure("get", r);
        }
        try {
            JsonNode n = dev.berth.layers.Json.mapper().readTree(r.stdout);
            String user = n.path("Username").asText("");
            String secret = n.path("Secret").asText("");
            if (secret.isEmpty()) {
                return Optional.empty();
            }
            if (user.equals("<token>")) {
                return Optional.of(new Credentials.IdentityToken(user, secret));
            }
            if (user.isEmpty()) {
                return Optional.of(new Credentials.RegistryToken(secret));
            }
            return Optional.of(new Credentials.Basic(user, secret));
        } catch (IOException e) {
            throw new RegistryException(program() + " get: invalid answer: " + e.getMessage(), e);
        }
    }

    public void store(String serverUrl, String username, String secret) {
        ObjectNode o = dev.berth.layers.Json.mapper().createObjectNode();
        o.put("ServerURL", serverUrl);
        o.put("Username", username);
        o.put("Secret", secret);
        Result r = run("store", o.toString());
        if (r.exit != 0) {
            throw failure("store", r);
        }
    }

    /** Removes the credentials; returns false when the helper had none. */
    public boolean erase(String serverUrl) {
        Result r = run("erase", serverUrl);
        if (r.exit != 0) {
            if (r.stdout.toLowerCase(java.util.Locale.ROOT).contains("not found")
                    || r.stderr.toLowerCase(java.util.Locale.ROOT).contains("not found")) {
                return false;
            }
            throw failure("erase", r);
        }
        return true;
    }

    private RegistryException failure(String verb, Result r) {
        String out = (r.stdout.isBlank() ? r.stderr : r.stdout).strip();
        return new RegistryException(program() + " " + verb + " failed (exit " + r.exit + ")"
                + (out.isEmpty() ? "" : ": " + out.lines().findFirst().orElse("")));
    }

    private record Result(int exit, String stdout, String stderr) {}

    private Result run(String verb, String input) {
        Path exe = locate().orElseThrow(() -> new RegistryException("credential helper " + program()
                + " (" + configuredIn + ") is not on PATH; install it or remove it from the configuration"));
        ProcessBuilder pb = new ProcessBuilder(exe.toString(), verb);
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            CompletableFuture<String> out = readAsync(p.getInputStream());
            CompletableFuture<String> err = readAsync(p.getErrorStream());
            try (OutputStream in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // a helper that exits without reading stdin: its exit code tells
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new RegistryException(program() + " " + verb + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new RegistryException("cannot run " + exe + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(program() + " " + verb + " interrupted", e);
        }
    }

    private static CompletableFuture<String> readAsync(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual().name("berth-credential-helper-output").start(() -> {
            try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.complete("");
            }
        });
        return f;
    }

    private Optional<Path> locate() {
        String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, program());
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
