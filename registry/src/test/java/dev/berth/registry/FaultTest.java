package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.LocalRegistry;
import dev.berth.registry.testing.TestImages;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls and pushes through a proxy that fails on purpose: 5xx, 429 with Retry-After, connections cut in
 * the middle of a blob, stalls and slow bodies. They still finish, and what they store is verified.
 */
class FaultTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    private static final String BLOB = ".*/blobs/sha256:.*";

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static Descriptor image;
    /** The image's layers (not its config) by digest, with their sizes. */
    static Map<String, Long> layers;
    /** A regex for GETs of the layers only. */
    static String layerGets;
    FaultProxy proxy;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        registry = LocalRegistry.open(shared.resolve("registry"));
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient client = Fixtures.anonymous(Fixtures.config(shared).build())) {
            Reference local = Reference.parse("faulty:1");
            image = TestImages.create(source, local, AMD64, 1, 2_000_000, 1_500_000);
            client.push(source, local, Reference.parse(registry.host() + "/faulty:1"), PushOptions.defaults());
            layers = new java.util.LinkedHashMap<>();
            for (Descriptor l : source.image(local, AMD64).layers()) {
                layers.put(l.digest().toString(), l.size());
            }
            layerGets = ".*/blobs/(" + String.join("|", layers.keySet()) + ")";
        }
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

    private Reference faulty() {
        return Reference.parse(proxy.host() + "/faulty:1");
    }

    private RegistryClient client() {
        return Fixtures.anonymous(Fixtures.config(tmp).build());
    }

    /** Pulls {@code faulty:1} through the proxy and checks every blob against its digest. */
    private Fixtures.Events pullAndVerify(RegistryClient client) throws Exception {
        Fixtures.Events events = new Fixtures.Events();
        try (ImageStore target = Fixtures.store(tmp.resolve("target"))) {
            PullResult r = client.pull(target, faulty(), PullOptions.defaults().withProgress(events));
            assertThat(r.digest()).isEqualTo(image.digest());
            Image pulled = target.image(faulty(), AMD64);
            for (Descriptor l : pulled.layers()) {
                try (InputStream in = target.open(l, "test")) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }
        }
        return events;
    }

    @Test
    void serverErrorsAreRetried() throws Exception {
        proxy.on("HEAD", ".*/manifests/1").times(2).respond(503);
        proxy.on("GET", ".*/manifests/sha256:.*").times(1).respond(500);
        proxy.on("GET", BLOB).times(2).respond(502);
        proxy.on("GET", BLOB).times(1).respond(504);
        try (RegistryClient client = client()) {
            Fixtures.Events events = pullAndVerify(client);
            assertThat(events.of(ProgressEvent.Retrying.class)).extracting(ProgressEvent.Retrying::reason)
                    .contains("HTTP 503 Service Unavailable", "HTTP 500 Internal Server Error", "HTTP 502 Bad Gateway",
                            "HTTP 504 Gateway Timeout");
        }
    }

    @Test
    void tooManyRequestsWaitsAsRetryAfterSays() throws Exception {
        proxy.on("GET", BLOB).times(1).respond(429, Map.of("Retry-After", "1"),
                "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
        try (RegistryClient client = client()) {
            Fixtures.Events events = pullAndVerify(client);
            assertThat(events.of(ProgressEvent.Retrying.class)).singleElement()
                    .satisfies(r -> assertThat(r.delay()).isEqualTo(Duration.ofSeconds(1)));
        }
    }

    @Test
    void aRetryAfterBeyondTheLimitIsNotWaitedForAndSaysWhen() {
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).respond(429, Map.of("Retry-After", "3600"),
                "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
        try (RegistryClient client = client(); ImageStore target = Fixtures.store(tmp)) {
            assertThatThrownBy(() -> client.pull(target, faulty(), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("the registry's rate limit is reached; it resets in 60 min: slow down (TOOMANYREQUESTS)")
                    .satisfies(e -> assertThat(((RegistryException) e).retryable()).isTrue());
            assertThat(target.resolve(faulty())).isEmpty();
        }
    }

    @Test
    void persistentFailureEndsWithTheRegistrysError() {
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).respond(503, Map.of(),
                "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"storage is down\"}]}");
        try (RegistryClient client = client(); ImageStore target = Fixtures.store(tmp)) {
            assertThatThrownBy(() -> client.pull(target, faulty(), PullOptions.defaults()))
                    .hasMessage("pull " + proxy.host() + "/faulty:1: storage is down (UNAVAILABLE)");
            // six attempts for each of the blobs in flight, then the first failure stops the pull
            assertThat(proxy.requests("GET", BLOB).size()).isBetween(6, 18);
        }
    }

    @Test
    void aBrokenDownloadResumesWithARangeRequest() throws Exception {
        proxy.on("GET", layerGets).times(4).cutAfter(300_000);
        try (RegistryClient client = client()) {
            Fixtures.Events events = pullAndVerify(client);
            assertThat(proxy.requests("GET", BLOB)).filteredOn(r -> r.header("range").isPresent())
                    .hasSizeGreaterThanOrEqualTo(2)
                    .allSatisfy(r -> assertThat(r.header("range").orElseThrow()).matches("bytes=[1-9][0-9]*-"));
            assertThat(events.of(ProgressEvent.BlobResumed.class)).hasSizeGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void aStalledDownloadIsAbandonedAndResumed() throws Exception {
        proxy.on("GET", layerGets).times(1).stall(200_000, Duration.ofSeconds(5));
        try (RegistryClient client = Fixtures.anonymous(Fixtures.config(tmp).idleTimeout(Duration.ofMillis(700)).build())) {
            Fixtures.Events events = pullAndVerify(client);
            assertThat(events.of(ProgressEvent.Retrying.class)).extracting(ProgressEvent.Retrying::reason)
                    .anySatisfy(r -> assertThat(r).startsWith("no data for"));
            assertThat(proxy.requests("GET", BLOB)).anySatisfy(r -> assertThat(r.header("range")).isPresent());
        }
    }

    @Test
    void aShortBlobIsReportedAsTruncated() {
        proxy.on("GET", layerGets).times(Integer.MAX_VALUE).respond(200, Map.of(), "short");
        try (RegistryClient client = client(); ImageStore target = Fixtures.store(tmp)) {
            assertThatThrownBy(() -> client.pull(target, faulty(), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageMatching(".*blob sha256:[0-9a-f]{64} from 127.0.0.1:\\d+ is truncated: the registry sent 5 of \\d+ bytes");
        }
    }

    @Test
    void slowResponsesAreWaitedFor() throws Exception {
        proxy.on("*", ".*").times(Integer.MAX_VALUE).delay(Duration.ofMillis(150));
        proxy.on("GET", BLOB).times(Integer.MAX_VALUE).throttle(3_000_000);
        try (RegistryClient client = client()) {
            pullAndVerify(client);
        }
    }

    @Test
    void corruptContentIsRejectedAndNotStored() throws Exception {
        // the right number of bytes, the wrong ones
        proxy.on("GET", layerGets).times(Integer.MAX_VALUE).then(new FaultProxy.Action.Answer(req ->
                new FaultProxy.Action.Respond(200, Map.of("Content-Type", "application/octet-stream"),
                        "x".repeat(layers.get(req.path().substring(req.path().lastIndexOf('/') + 1)).intValue()))));
        try (RegistryClient client = client(); ImageStore target = Fixtures.store(tmp)) {
            assertThatThrownBy(() -> client.pull(target, faulty(), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("is corrupt")
                    .satisfies(e -> assertThat(((RegistryException) e).code()).contains("DIGEST_INVALID"));
            assertThat(target.resolve(faulty())).isEmpty();
            try (Stream<Path> blobs = Files.list(target.root().resolve("blobs/sha256"))) {
                assertThat(blobs.map(p -> "sha256:" + p.getFileName())).doesNotContainAnyElementsOf(layers.keySet());
            }
        }
    }

    @Test
    void pushesSurviveFaultsToo() throws Exception {
        RegistryConfig config = Fixtures.config(tmp).chunkSize(512 * 1024).monolithicLimit(512 * 1024).build();
        proxy.on("HEAD", ".*/blobs/.*").times(1).respond(503);
        proxy.on("POST", ".*/blobs/uploads/.*").times(1).respond(500);
        proxy.on("PATCH", ".*").times(1).cutAfter(0);
        proxy.on("PATCH", ".*").times(1).respond(502);
        proxy.on("PUT", ".*/blobs/uploads/.*").times(1).respond(503);
        proxy.on("PUT", ".*/manifests/.*").times(1).respond(500);
        try (ImageStore source = Fixtures.store(tmp.resolve("source")); RegistryClient client = Fixtures.anonymous(config)) {
            Reference local = Reference.parse("pushed:1");
            Descriptor made = TestImages.create(source, local, AMD64, 2, 1_800_000, 700_000);
            Fixtures.Events events = new Fixtures.Events();
            PushResult r = client.push(source, local, Reference.parse(proxy.host() + "/pushed:1"),
                    PushOptions.defaults().withProgress(events));
            assertThat(r.digest()).isEqualTo(made.digest());
            assertThat(events.of(ProgressEvent.Retrying.class)).hasSizeGreaterThanOrEqualTo(5);
            proxy.clearRules();
            try (ImageStore target = Fixtures.store(tmp.resolve("target"))) {
                PullResult back = client.pull(target, Reference.parse(proxy.host() + "/pushed:1"), PullOptions.defaults());
                assertThat(back.digest()).isEqualTo(made.digest());
                for (Descriptor l : target.image(Reference.parse(proxy.host() + "/pushed:1"), AMD64).layers()) {
                    try (InputStream in = target.open(l, "test")) {
                        in.transferTo(OutputStream.nullOutputStream());
                    }
                }
            }
        }
    }

    @Test
    void aRefusedConnectionIsReportedPlainly() throws Exception {
        int port = LocalRegistry.freePort();
        try (RegistryClient client = client(); ImageStore target = Fixtures.store(tmp)) {
            assertThatThrownBy(() -> client.pull(target, Reference.parse("127.0.0.1:" + port + "/x:1"), PullOptions.defaults()))
                    .hasMessage("pull 127.0.0.1:" + port + "/x:1: cannot connect to 127.0.0.1:" + port + ": connection refused");
        }
    }
}
