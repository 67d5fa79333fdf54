package dev.berth.registry.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The external programs tests use as peers (docker-registry, skopeo, openssl, htpasswd). A missing one
 * skips the test with the reason, or fails it when {@code CI=true}: in CI nothing is skipped silently.
 */
public final class Tools {
    private Tools() {}

    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The path of a program on PATH (or in /usr/sbin, /sbin), or empty. */
    public static Optional<Path> find(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin"));
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The program's path; skips the test (fails it in CI) when it is missing, naming the Debian package. */
    public static Path require(String name, String debianPackage) {
        Optional<Path> p = find(name);
        if (p.isEmpty()) {
            String why = name + " is not installed (Debian package " + debianPackage + "; scripts/test installs it)";
            if (ci()) {
                fail(why);
            }
            Assumptions.abort(why);
        }
        return p.get();
    }

    /** What a finished program did. */
    public record Result(int exit, String stdout, String stderr) {
        public Result orThrow(String what) {
            if (exit != 0) {
                throw new IllegalStateException(what + " failed (exit " + exit + "): " + stderr + stdout);
            }
            return this;
        }
    }

    /** Runs a program to its end (at most {@code timeoutSeconds}), collecting its output. */
    public static Result run(List<String> command, Path dir, long timeoutSeconds) {
        try {
            Path out = Files.createTempFile("berth-tool-", ".out");
            Path err = Files.createTempFile("berth-tool-", ".err");
            try {
                Process p = new ProcessBuilder(command).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", command) + " did not finish in "
                            + timeoutSeconds + " s");
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    public static Result run(Path dir, String... command) {
        return run(List.of(command), dir, 300);
    }
}
