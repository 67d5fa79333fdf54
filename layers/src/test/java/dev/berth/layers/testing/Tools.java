package dev.berth.layers.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The peer tools the tests run (skopeo, umoci, runc, ...). In CI ({@code CI=true}) a missing tool or
 * missing root is a test failure; elsewhere the test is skipped with a message saying what to install.
 */
public final class Tools {
    private Tools() {}

    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The tool's path on PATH (or /usr/sbin, /usr/bin); fails in CI, skips elsewhere, when missing. */
    public static Path require(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String message = tool + " is not installed (scripts/test installs it)";
        if (inCi()) {
            fail(message);
        }
        Assumptions.abort(message);
        return null;
    }

    /** Requires uid 0; fails in CI, skips elsewhere. */
    public static void requireRoot() {
        if (!dev.berth.layers.BerthHome.isRoot()) {
            String message = "needs root";
            if (inCi()) {
                fail(message);
            }
            Assumptions.abort(message);
        }
    }

    /** The result of a finished command. */
    public record Result(int exitCode, String stdout, String stderr) {
        /** Asserts exit code 0 (showing stderr otherwise) and returns this. */
        public Result ok() {
            assertThat(exitCode).as("exit code; stderr: %s; stdout: %s", stderr, stdout).isZero();
            return this;
        }
    }

    /** Runs a command to completion (5 minutes at most), capturing its output. */
    public static Result run(List<String> command) {
        return run(command, Map.of(), null);
    }

    public static Result run(String... command) {
        return run(List.of(command));
    }

    /** Runs a command with extra environment variables and optional stdin bytes. */
    public static Result run(List<String> command, Map<String, String> env, byte[] stdin) {
        try {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command));
            pb.environment().putAll(env);
            Process p = pb.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            }
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("timed out: " + command);
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
