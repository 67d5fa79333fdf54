package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Manifest;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.Hostile;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A registry (and token service) that is out to hurt: bodies that never end, a {@code Content-Length} of
 * 10 GB, wrong bytes, a manifest of 100 MB, garbage and redirect loops from the token service, redirect loops
 * on blobs and uploads, answers that trickle a byte at a time. Each ends in one line naming what and where,
 * in bounded time (the {@link Timeout}s only guard the run; they are not measurements), having let the server
 * send a bounded number of bytes, with nothing of the image in the store: no name, no blob, no temp file.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HostileRegistryTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    private static final String BLOB = ".*/blobs/sha256:.*";
    private static final String MANIFEST_BY_DIGEST = ".*/manifests/sha256:.*";
    private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    private static final long TEN_GB = 10L << 30;
    private static final long MIB = 1 << 20;
    /**
     * What may sit in loopback socket buffers (both ends) when a client stops reading and closes: the bytes a
     * server got to send beyond what the client read. Linux grows them to a few MiB.
     */
    private static final long BUFFERS = 32 * MIB;

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static Descriptor image;
    static Manifest manifest;
    static byte[] manifestBytes;
    /** Every blob of the image: manifest, config, layer. */
    static List<String> digests;
    /** The blobs' sizes by digest. */
    static Map<String, Long> sizes;

    FaultProxy proxy;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws IOException {
        registry = LocalRegistry.open(shared.resolve("registry"));
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(shared).build())) {
            Reference local = Reference.parse("hostile:1");
            image = TestImages.create(source, local, AMD64, 7, 3_000_000);
            client.push(source, local, Reference.parse(registry.host() + "/hostile:1"), PushOptions.defaults());
            manifest = source.image(local, AMD64).manifest().value();
            manifestBytes = Files.readAllBytes(source.blobPath(image.digest()));
        }
        digests = new ArrayList<>(List.of(image.digest().toString(), manifest.config().digest().toString()));
        manifest.layers().forEach(l -> digests.add(l.digest().toString()));
        sizes = new java.util.HashMap<>(Map.of(manifest.config().digest().toString(), manifest.config().size()));
        manifest.layers().forEach(l -> sizes.put(l.digest().toString(), l.size()));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @BeforeEach
    void proxy() {
        proxy = FaultProxy.reverse(registry.uri());
    }

    @AfterEach
    void closeProxy() {
        proxy.close();
    }

    private Reference hostile() {
        return Reference.parse(proxy.host() + "/hostile:1");
    }

    private String pull() {
        return "pull " + proxy.host() + "/hostile:1: ";
    }

    /** Pulls through the proxy with an idle timeout of {@code idle}; returns the error, having checked the store. */
    private RegistryException pullFails(Duration idle) {
        try (RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).idleTimeout(idle).build());
             ImageStore target = Fixtures.store(tmp.resolve("target"))) {
            RegistryException e = catchThrowableOfType(RegistryException.class,
                    () -> client.pull(target, hostile(), PullOptions.defaults()));
            assertThat(e).as("the pull fails").isNotNull();
            assertThat(e.getMessage()).doesNotContain("\n");
            assertNothingStored(target);
            return e;
        }
    }

    private RegistryException pullFails() {
        return pullFails(Duration.ofSeconds(10));
    }

    /** No name, no blob of the image, no temp file. */
    private void assertNothingStored(ImageStore target) {
        assertThat(target.resolve(hostile())).isEmpty();
        Path blobs = target.root().resolve("blobs/sha256");
        if (Files.isDirectory(blobs)) {
            try (Stream<Path> s = Files.list(blobs)) {
                assertThat(s.map(p -> "sha256:" + p.getFileName())).doesNotContainAnyElementsOf(digests);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
        Path temp = target.tempDirectory();
        try (Stream<Path> s = Files.list(temp)) {
            assertThat(s).as("temp files left in " + temp).isEmpty();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ blobs

    @ParameterizedTest(name = "chunked={0}")
    @ValueSource(booleans = {true, false})
    void aBlobBodyThatNeverEndsIsCutAtTheBlobsSize(boolean chunked) {
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).raw(Hostile.endless("application/octet-stream",
                OptionalLong.empty(), chunked));
        RegistryException e = pullFails();
        assertThat(e.getMessage()).matches(quote(pull()) + "blob sha256:[0-9a-f]{64} from " + quote(proxy.host())
                + " is larger than the \\d+ bytes its descriptor says: the registry sent more");
        assertThat(e.code()).contains("SIZE_INVALID");
        // not retried: a registry that sends too much sends too much again
        assertThat(proxy.requests("GET", BLOB)).hasSizeLessThanOrEqualTo(2);
        assertThat(proxy.rawBytesSent()).isLessThan(3_000_000 + 2 * BUFFERS);
    }

    @Test
    void aContentLengthOf10GbOnABlobIsRefusedBeforeReading() {
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).raw(Hostile.endless("application/octet-stream",
                OptionalLong.of(TEN_GB), false));
        RegistryException e = pullFails();
        assertThat(e.getMessage()).matches(quote(pull()) + "blob sha256:[0-9a-f]{64} from " + quote(proxy.host())
                + " is larger than the \\d+ bytes its descriptor says: the registry announced 10737418240 \\(Content-Length\\)");
        assertThat(proxy.requests("GET", BLOB)).hasSizeLessThanOrEqualTo(2);
        assertThat(proxy.rawBytesSent()).isLessThan(2 * BUFFERS);
    }

    @Test
    void aBlobRedirectingInALoopEndsAfterTheRedirectLimit() {
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).redirect(307, req -> req.target());
        RegistryException e = pullFails();
        assertThat(e.getMessage()).matches(quote(pull()) + "download [0-9a-f]{12}: " + quote(proxy.host())
                + " redirected GET /v2/hostile/blobs/sha256:[0-9a-f]{64} more than 10 times \\(the last time to "
                + quote(proxy.host()) + "/v2/hostile/blobs/sha256:[0-9a-f]{64}\\)");
        assertThat(e.code()).contains("TOO_MANY_REDIRECTS");
        // 11 requests for a blob, not retried; config and layer run at once
        assertThat(proxy.requests("GET", BLOB)).hasSizeLessThanOrEqualTo(2 * 11);
    }

    // ------------------------------------------------------------------ manifests

    @Test
    void aManifestThatDoesNotMatchTheDigestAskedForIsRefused() {
        String other = new String(manifestBytes, StandardCharsets.UTF_8) + " ";
        proxy.on("GET", MANIFEST_BY_DIGEST).times(Integer.MAX_VALUE)
                .respond(200, Map.of("Content-Type", MANIFEST_TYPE), other);
        RegistryException e = pullFails();
        assertThat(e.getMessage()).isEqualTo(pull() + "the manifest " + proxy.host() + " served for " + image.digest()
                + " does not match that digest");
        assertThat(e.code()).contains("DIGEST_INVALID");
        assertThat(proxy.requests("GET", BLOB)).isEmpty();
    }

    @Test
    void aContentLengthOf10GbOnAManifestIsRefusedBeforeReading() {
        proxy.on("GET", MANIFEST_BY_DIGEST).times(Integer.MAX_VALUE).raw(Hostile.endless(
                MANIFEST_TYPE, OptionalLong.of(TEN_GB), false));
        RegistryException e = pullFails();
        assertThat(e.getMessage()).isEqualTo(pull() + "the manifest " + proxy.host() + " served for " + image.digest()
                + " is larger than berth's limit of 8 MiB (it announced 10737418240 bytes)");
        assertThat(proxy.requests("GET", MANIFEST_BY_DIGEST)).hasSize(1);
        assertThat(proxy.rawBytesSent()).isLessThan(BUFFERS);
    }

    @ParameterizedTest(name = "chunked={0}")
    @ValueSource(booleans = {true, false})
    void aManifestThatNeverEndsIsRefusedAtTheManifestLimit(boolean chunked) {
        byte[] head = ("{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST_TYPE + "\",\"layers\":[")
                .getBytes(StandardCharsets.UTF_8);
        byte[] layer = ("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":1,\"digest\":\""
                + image.digest() + "\"},").getBytes(StandardCharsets.UTF_8);
        proxy.on("GET", MANIFEST_BY_DIGEST).times(Integer.MAX_VALUE).raw(Hostile.endless(
                MANIFEST_TYPE, OptionalLong.empty(), chunked, head, layer));
        RegistryException e = pullFails();
        assertThat(e.getMessage()).isEqualTo(pull() + "the manifest " + proxy.host() + " served for " + image.digest()
                + " is larger than berth's limit of 8 MiB");
        assertThat(e.code()).contains("SIZE_INVALID");
        assertThat(proxy.requests("GET", MANIFEST_BY_DIGEST)).hasSize(1);
        // read up to the limit, then the connection is dropped: memory holds at most the limit
        assertThat(proxy.rawBytesSent()).isBetween(8 * MIB, 8 * MIB + BUFFERS);
    }

    // ------------------------------------------------------------------ slowloris

    @Test
    void headersTrickledAByteAtATimeAreGivenUpAfterTheRetries() {
        proxy.on("*", ".*/manifests/.*").times(Integer.MAX_VALUE).raw(Hostile.trickledHeaders(Duration.ofMillis(100)));
        RegistryException e = pullFails(Duration.ofSeconds(1));
        assertThat(e.getMessage()).isEqualTo(pull() + "connection to " + proxy.host() + " failed: no response for 1 s");
        assertThat(e.retryable()).isTrue();
        assertThat(proxy.requests().stream().filter(r -> r.path().contains("/manifests/")))
                .hasSize(Fixtures.FAST_RETRY.attempts());
    }

    @Test
    void aBodyTrickledJustFasterThanTheIdleTimeoutIsGivenUpAfterTheRetries() {
        // a byte every 0.7 s: in time for an idle timeout of 1 s, forever; the minimum speed catches it
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).raw(Hostile.trickledBody("application/octet-stream",
                req -> sizes.get(req.path().substring(req.path().lastIndexOf('/') + 1)), Duration.ofMillis(700)));
        RegistryException e = pullFails(Duration.ofSeconds(1));
        assertThat(e.getMessage()).matches(quote(pull()) + "blob sha256:[0-9a-f]{64}: connection to " + quote(proxy.host())
                + " failed: slower than 1 KiB/s \\(\\d bytes? in 1 s\\) \\(6 attempts\\)");
        assertThat(e.retryable()).isTrue();
        // the trickled bytes, a few per attempt, earn no more attempts than the retry policy's
        assertThat(proxy.requests("GET", BLOB)).hasSizeLessThanOrEqualTo(2 * Fixtures.FAST_RETRY.attempts());
    }

    // ------------------------------------------------------------------ token service

    /** A registry (the proxy) that asks for a bearer token from a token service at the proxy's {@code /token}. */
    private void challenge() {
        proxy.on("GET", "/v2/").times(Integer.MAX_VALUE).respond(401, Map.of("WWW-Authenticate",
                "Bearer realm=\"http://" + proxy.host() + "/token\",service=\"hostile\""), "");
    }

    private String realm() {
        return "the token service http://" + proxy.host() + "/token";
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"text", "html", "json", "blank", "space"})
    void aTokenServiceAnsweringGarbageIsReportedByName(String kind) {
        challenge();
        FaultProxy.Action.Respond answer = switch (kind) {
            case "text" -> Hostile.respond(200, "text/plain", "service unavailable, come back later");
            case "html" -> Hostile.respond(200, "text/html", "<html><body><h1>Sign in to the Wi-Fi</h1></body></html>");
            case "json" -> Hostile.respond(200, "application/json", "{\"status\":\"ok\",\"token\":{}}");
            case "blank" -> Hostile.respond(200, "application/json", "");
            default -> Hostile.respond(200, "application/json", "{\"token\":\"abc\\r\\nX-Injected: 1\"}");
        };
        proxy.on("GET", "/token.*").times(Integer.MAX_VALUE).then(answer);
        RegistryException e = pullFails();
        assertThat(e.getMessage()).isEqualTo(pull() + realm() + switch (kind) {
            case "text" -> " answered invalid JSON (text/plain)";
            case "html" -> " answered invalid JSON (text/html)";
            case "space" -> " answered a token with characters an HTTP header cannot carry";
            default -> " answered without a token";
        });
        assertThat(proxy.requests("GET", "/token")).hasSize(1);
        assertThat(proxy.requests("GET", BLOB)).isEmpty();
    }

    @ParameterizedTest(name = "content-length={0}")
    @ValueSource(booleans = {true, false})
    void aTokenServiceAnswering100MbIsCutAtTheTokenLimit(boolean withLength) {
        challenge();
        proxy.on("GET", "/token.*").times(Integer.MAX_VALUE).raw(Hostile.endless("application/json",
                withLength ? OptionalLong.of(100 * MIB) : OptionalLong.empty(), !withLength,
                "{\"token\":\"".getBytes(StandardCharsets.UTF_8), new byte[] {'a'}));
        RegistryException e = pullFails();
        assertThat(e.getMessage()).isEqualTo(pull() + "the answer of " + realm() + " is larger than berth's limit of 1 MiB"
                + (withLength ? " (it announced 104857600 bytes)" : ""));
        assertThat(proxy.requests("GET", "/token")).hasSize(1);
        assertThat(proxy.rawBytesSent()).isLessThan(MIB + BUFFERS);
    }

    @Test
    void aTokenServiceRedirectingInALoopEndsAfterTheRedirectLimit() {
        challenge();
        AtomicInteger n = new AtomicInteger();
        proxy.on("GET", "/token.*").times(Integer.MAX_VALUE).redirect(302, req -> "/token?loop=" + n.incrementAndGet());
        RegistryException e = pullFails();
        assertThat(e.getMessage()).isEqualTo(pull() + "get a token for " + proxy.host() + ": " + proxy.host()
                + " redirected GET /token more than 10 times (the last time to " + proxy.host() + "/token)");
        assertThat(n.get()).isEqualTo(11);
    }

    @Test
    void aTokenServiceAnsweringGarbageFailsAPushByName() {
        challenge();
        proxy.on("GET", "/token.*").times(Integer.MAX_VALUE).then(Hostile.respond(200, "text/html", "<html>busy</html>"));
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            RegistryException e = catchThrowableOfType(RegistryException.class, () -> client.push(source,
                    Reference.parse("hostile:1"), Reference.parse(proxy.host() + "/pushed:1"), PushOptions.defaults()));
            assertThat(e.getMessage()).isEqualTo("push " + proxy.host() + "/pushed:1: " + realm()
                    + " answered invalid JSON (text/html)");
        }
        assertThat(proxy.requests().stream().filter(r -> r.path().contains("/blobs/uploads"))).isEmpty();
    }

    // ------------------------------------------------------------------ uploads

    @Test
    void anUploadAnsweredWithARedirectLoopIsRefusedAtOnce() {
        proxy.on("POST", ".*/blobs/uploads/.*").times(Integer.MAX_VALUE).redirect(307, req -> req.target());
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).build())) {
            RegistryException e = catchThrowableOfType(RegistryException.class, () -> client.push(source,
                    Reference.parse("hostile:1"), Reference.parse(proxy.host() + "/pushed:2"), PushOptions.defaults()));
            assertThat(e.getMessage()).isEqualTo("push " + proxy.host() + "/pushed:2: unexpected redirect (HTTP 307 "
                    + "Temporary Redirect) from " + proxy.host() + " to " + proxy.host()
                    + "/v2/pushed/blobs/uploads/ (only downloads are redirected)");
        }
        assertThat(proxy.requests("POST", ".*/blobs/uploads/.*")).hasSizeLessThanOrEqualTo(2);
    }

    @Test
    void anUploadWhoseChunksAreAcceptedButNeverKeptEndsAfterTheRetries() {
        // every PATCH is "accepted" with the same session and a Range that never grows: round in circles
        proxy.on("PATCH", ".*").times(Integer.MAX_VALUE).then(new FaultProxy.Action.Answer(req ->
                new FaultProxy.Action.Respond(202, Map.of("Location", req.target(), "Range", "0-0"), "")));
        RegistryConfig config = Fixtures.config(tmp).chunkSize(512 * 1024).monolithicLimit(512 * 1024).build();
        try (ImageStore source = Fixtures.store(shared.resolve("source")); RegistryClient client = Fixtures.anonymous(config)) {
            RegistryException e = catchThrowableOfType(RegistryException.class, () -> client.push(source,
                    Reference.parse("hostile:1"), Reference.parse(proxy.host() + "/pushed:3"), PushOptions.defaults()));
            assertThat(e.getMessage()).matches(quote("push " + proxy.host() + "/pushed:3: " + proxy.host())
                    + " accepts the chunks of blob sha256:[0-9a-f]{64} but keeps none \\(it holds 0 bytes after 6 attempts\\)");
        }
        assertThat(proxy.requests("PATCH", ".*")).hasSize(Fixtures.FAST_RETRY.attempts());
    }

    private static String quote(String s) {
        return java.util.regex.Pattern.quote(s);
    }
}
