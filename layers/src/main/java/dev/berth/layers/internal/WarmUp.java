package dev.berth.layers.internal;

import dev.berth.layers.Digest;
import dev.berth.layers.Json;
import java.nio.charset.StandardCharsets;

/**
 * Initialises, on another core, what nearly every berth command needs soon after it starts and what a cold
 * JVM is slow to set up: the JSON parser, whose class initialisation pulls in BigDecimal's (about 20 ms in
 * JDK 25; tar headers need it too, through commons-io's FileTimes), and the security providers behind
 * SHA-256 and SecureRandom. Meant to run while the main thread does something else that takes as long
 * (picocli reading the command's annotations, walking a tree).
 */
public final class WarmUp {
    /** A small document with every kind of JSON value. */
    private static final byte[] DOCUMENT = "{\"a\":[1,2.5,\"b\",true,null]}".getBytes(StandardCharsets.US_ASCII);

    private WarmUp() {}

    /** Starts the warm-up on a daemon thread and returns at once. */
    public static void inBackground() {
        inBackground(false);
    }

    /**
     * The same, and with {@code files} also {@link dev.berth.layers.FileStats}' native calls, whose first
     * use makes their downcall stubs (tens of milliseconds): for a command that walks a tree next (build).
     */
    public static void inBackground(boolean files) {
        Thread.ofPlatform().daemon(true).name("berth-warm-up").start(() -> {
            Json.readPlain(DOCUMENT, "warm-up");
            Digest.sha256(DOCUMENT);
            if (files) {
                try {
                    dev.berth.layers.FileStats.lstat("/");
                } catch (java.io.IOException | RuntimeException | LinkageError ignored) {
                    // the command meets it again, and reports it there
                }
            }
        });
    }
}
