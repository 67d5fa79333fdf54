package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.builder.BuildOutput;
import dev.berth.builder.BuildRequest;
import dev.berth.layers.Image;
import dev.berth.layers.Json;
import dev.berth.layers.Manifest;
import dev.berth.layers.testing.Tools;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.LocalRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build cache shared through a registry ({@code --cache-to/--cache-from}), end to end: a real
 * {@code docker-registry} behind a {@link FaultProxy} that counts (and, for the faults, breaks) requests;
 * two berth homes ("runners") and two copies of the context at different paths with different mtimes.
 */
class RegistryCacheTest {
    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static FaultProxy proxy;

    @TempDir
    Path tmp;

    static final Instant EPOCH = Instant.ofEpochSecond(1_700_000_000L);

    static final String[] DOCKERFILE = {
        "FROM busybox:test AS tools",
        "RUN echo tool > /tool",
        "FROM busybox:test",
        "RUN echo before > /before",
        "COPY src /src",
        "WORKDIR /app",
        "RUN cat /src/f /src/g > /app/out",
        "COPY --from=tools /tool /tool",
    };

    @BeforeAll
    static void start() {
        registry = LocalRegistry.open(shared.resolve("registry"));
        proxy = FaultProxy.reverse(registry.uri());
    }

    @AfterAll
    static void stop() {
        proxy.close();
        registry.close();
    }

    @BeforeEach
    void reset() {
        proxy.clearRules();
        proxy.clearRequests();
    }

    /** The context, written at {@code dir} with every file's mtime {@code mtime}. */
    private static Path context(Path dir, String f, Instant mtime) throws IOException {
        Builds.dockerfile(dir, DOCKERFILE);
        Builds.write(dir, "src/f", f);
        Builds.write(dir, "src/g", "g\n");
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Files.setLastModifiedTime(p, FileTime.from(mtime));
            }
        }
        return dir;
    }

    private String ref(String tag) {
        return proxy.host() + "/cache/app:" + tag;
    }

    private Builds.Outcome build(Path home, Path ctx, UnaryOperator<BuildRequest.Builder> options) {
        try (BuildRegistry r = new BuildRegistry()) {
            return Builds.build(home, ctx, o -> options.apply(o.sourceDateEpoch(EPOCH)),
                    b -> b.withCacheRegistry(r).withPusher(r));
        }
    }

    private List<FaultProxy.Seen> blobGets() {
        return proxy.requests("GET", "/v2/cache/app/blobs/.*");
    }

    @Test
    void aSecondRunnerAtAnotherPathWithOtherTimesHitsEveryStepAndDownloadsOnlyWhatTheImageNeeds() throws Exception {
        Path ctx1 = context(tmp.resolve("one"), "f1\n", Instant.parse("2020-01-01T00:00:00Z"));
        Path ctx2 = context(tmp.resolve("elsewhere/two"), "f1\n", Instant.parse("2024-06-06T06:06:06Z"));
        Builds.Outcome first = build(TestBases.busybox("cache-a1"), ctx1,
                r -> r.cacheTo("type=registry,ref=" + ref("max") + ",mode=max"));
        assertThat(first.runs()).isEqualTo(3);
        assertThat(Builds.warnings(first)).isEmpty();

        proxy.clearRequests();
        Path home = TestBases.busybox("cache-a2");
        Builds.Outcome second = build(home, ctx2, r -> r.cacheFrom("type=registry,ref=" + ref("max")));
        assertThat(Builds.warnings(second)).isEmpty();
        assertThat(second.runs()).as("RUN processes").isZero();
        assertThat(second.result().steps().stream().filter(s -> !s.step().text().startsWith("FROM"))
                .allMatch(s -> s.cached())).as("every step a hit: %s", second.result().steps()).isTrue();
        assertThat(second.result().digest()).isEqualTo(first.result().digest());
        Image image = Builds.image(home, second.result());
        // the image's layers but the base's (which the runner has), and the keys document: nothing more
        // (not the tools stage's RUN layer, which COPY --from takes by its key alone)
        assertThat(blobGets()).hasSize(image.layers().size() - 1 + 1);
        assertThat(Builds.sh(home, second.result(), "cat /app/out /tool")).isEqualTo("f1\ng\ntool\n");

        // readable by other tools: a valid OCI manifest with berth's artifact type
        Tools.Result raw = Tools.run(List.of("skopeo", "inspect", "--raw", "--tls-verify=false",
                "docker://" + registry.host() + "/cache/app:max"), java.util.Map.of(), null).ok();
        Manifest m = Json.read(raw.stdout().getBytes(), Manifest.class, "skopeo's answer");
        assertThat(m.artifactType().map(Object::toString)).hasValue("application/vnd.berth.build-cache.v1");
        String keys = Files.readString(blob(m.config().digest().hex()));
        assertThat(keys).startsWith("{\"version\":1,").doesNotContain(tmp.toString(), "/one", "elsewhere",
                System.getProperty("user.name"), "src/f"); // hex keys and digests only
        // every layer of the image but the base's, each once; the tools stage's RUN layer (mode=max) holds
        // just /tool, the same bytes as the COPY --from layer, so it is the same blob
        List<String> layers = m.layers().stream().map(d -> d.digest().toString()).toList();
        assertThat(layers).containsExactlyInAnyOrderElementsOf(image.layers().subList(1, image.layers().size()).stream()
                .map(d -> d.digest().toString()).toList());

        // a push of the fully cached build downloads nothing: the layers are mounted from the cache
        proxy.clearRequests();
        Builds.Outcome pushed = build(TestBases.busybox("cache-a3"), ctx2, r -> r.cacheFrom(ref("max"))
                .tag(proxy.host() + "/team/app:1").output(new BuildOutput.Registry()));
        assertThat(pushed.runs()).isZero();
        assertThat(blobGets()).as("only the keys document").hasSize(1);
        assertThat(proxy.requests("POST", "/v2/team/app/blobs/uploads/")).isNotEmpty();
        assertThat(pushed.result().digest()).isEqualTo(first.result().digest());
    }

    @Test
    void minKeepsTheImagesStepsMaxEveryStageAndAChangedFileMissesFromItsStepOn() throws Exception {
        Path ctx1 = context(tmp.resolve("one"), "f1\n", Instant.parse("2020-01-01T00:00:00Z"));
        build(TestBases.busybox("cache-b1"), ctx1, r -> r.cacheTo("type=registry,ref=" + ref("min"))
                .cacheTo("type=registry,ref=" + ref("max2") + ",mode=max"));
        Path ctx2 = context(tmp.resolve("two"), "f1\n", Instant.parse("2021-01-01T00:00:00Z"));
        assertThat(build(TestBases.busybox("cache-b2"), ctx2, r -> r.cacheFrom(ref("min"))).runs())
                .as("mode=min: the tools stage's RUN is not in the cache").isEqualTo(1);
        assertThat(build(TestBases.busybox("cache-b3"), ctx2, r -> r.cacheFrom(ref("max2"))).runs())
                .as("mode=max").isZero();

        Path changed = context(tmp.resolve("three"), "f2\n", Instant.parse("2021-01-01T00:00:00Z"));
        Path home = TestBases.busybox("cache-b4");
        Builds.Outcome o = build(home, changed, r -> r.cacheFrom(ref("max2")));
        assertThat(o.runs()).as("the RUN after the COPY runs, the ones before it do not").isEqualTo(1);
        List<Boolean> cached = o.result().steps().stream().map(s -> s.cached()).toList();
        // FROM, RUN, FROM, RUN, COPY, WORKDIR, RUN, COPY --from (whose layers below changed)
        assertThat(cached).containsExactly(false, true, false, true, false, false, false, false);
        assertThat(Builds.sh(home, o.result(), "cat /app/out")).isEqualTo("f2\ng\n");
    }

    @Test
    void aRegistryThatRefusesTheArtifactGetsAPlainImageManifest() throws Exception {
        proxy.on("PUT", "/v2/cache/app/manifests/plain").respond(400, java.util.Map.of("Content-Type", "application/json"),
                "{\"errors\":[{\"code\":\"MANIFEST_INVALID\",\"message\":\"unknown artifact type\"}]}");
        Path ctx = context(tmp.resolve("one"), "f1\n", Instant.parse("2020-01-01T00:00:00Z"));
        Builds.Outcome first = build(TestBases.busybox("cache-c1"), ctx,
                r -> r.cacheTo("type=registry,ref=" + ref("plain") + ",mode=max"));
        assertThat(Builds.warnings(first)).isEmpty();
        assertThat(proxy.requests("PUT", "/v2/cache/app/manifests/plain")).hasSize(2);
        Tools.Result raw = Tools.run(List.of("skopeo", "inspect", "--raw", "--tls-verify=false",
                "docker://" + registry.host() + "/cache/app:plain"), java.util.Map.of(), null).ok();
        Manifest m = Json.read(raw.stdout().getBytes(), Manifest.class, "skopeo's answer");
        assertThat(m.artifactType()).isEmpty();
        assertThat(m.config().mediaType().value()).isEqualTo("application/vnd.oci.image.config.v1+json");
        Builds.Outcome second = build(TestBases.busybox("cache-c2"), context(tmp.resolve("two"), "f1\n", Instant.now()),
                r -> r.cacheFrom(ref("plain")));
        assertThat(second.runs()).isZero();
        assertThat(second.result().digest()).isEqualTo(first.result().digest());
    }

    @Test
    void faultsAreWarningsAndMissesNeverFailedBuildsOrWrongLayers() throws Exception {
        Path ctx = context(tmp.resolve("one"), "f1\n", Instant.parse("2020-01-01T00:00:00Z"));
        // nothing there yet: a warning, and a build
        Builds.Outcome none = build(TestBases.busybox("cache-d0"), ctx, r -> r.cacheFrom(ref("nothing")));
        assertThat(Builds.warnings(none)).singleElement().asString().contains("--cache-from", "app:nothing",
                "building without it");

        // the registry dies during the export: the build succeeds and says the export failed
        proxy.on("*", "/v2/cache/app/blobs/uploads/.*").times(Integer.MAX_VALUE).dropResponse();
        Builds.Outcome died = build(TestBases.busybox("cache-d1"), ctx, r -> r.cacheTo("type=registry,ref=" + ref("dies")));
        assertThat(Builds.warnings(died)).singleElement().asString().contains("--cache-to", "exporting the cache failed",
                "the image is built");
        proxy.clearRules();

        // a corrupt cached layer (of content no other test has: the registry's blobs are shared): verified
        // when it is downloaded, a miss, and the step is built instead
        Path goodHome = TestBases.busybox("cache-d2");
        Path own = context(tmp.resolve("own"), "only the fault test has this\n", Instant.parse("2020-01-01T00:00:00Z"));
        Builds.Outcome good = build(goodHome, own, r -> r.cacheTo("type=registry,ref=" + ref("bad")));
        Image image = Builds.image(goodHome, good.result());
        String copied = image.layers().get(2).digest().hex(); // FROM's, RUN before, COPY src, ...
        corrupt(copied);
        Path home = TestBases.busybox("cache-d3");
        Builds.Outcome o = build(home, context(tmp.resolve("two"), "only the fault test has this\n", Instant.now()),
                r -> r.cacheFrom(ref("bad")));
        assertThat(Builds.warnings(o)).anySatisfy(w -> assertThat(w).contains(copied.substring(0, 12), "corrupt",
                "building without it"));
        assertThat(o.result().digest()).isEqualTo(good.result().digest());
        assertThat(Builds.sh(home, o.result(), "cat /src/f")).isEqualTo("only the fault test has this\n");
    }

    /** A blob's file in the registry's storage. */
    private static Path blob(String hex) {
        return registry.directory().resolve("data/docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex
                + "/data");
    }

    /** Flips bytes of a blob in the registry's storage (its digest no longer matches). */
    private static void corrupt(String hex) throws IOException {
        Path data = blob(hex);
        byte[] b = Files.readAllBytes(data);
        b[b.length / 2] ^= 0x55;
        b[b.length - 1] ^= 0x55;
        Files.write(data, b);
    }

    @Test
    void aLayoutDirectoryAndAnImagesInlineKeysAreCachesToo() throws Exception {
        Path ctx1 = context(tmp.resolve("one"), "f1\n", Instant.parse("2020-01-01T00:00:00Z"));
        Path dir = tmp.resolve("ci-cache");
        Builds.Outcome first = build(TestBases.busybox("cache-e1"), ctx1, r -> r.cacheTo("type=local,dest=" + dir + ",mode=max"));
        Path ctx2 = context(tmp.resolve("two"), "f1\n", Instant.now());
        Builds.Outcome local = build(TestBases.busybox("cache-e2"), ctx2, r -> r.cacheFrom("type=local,src=" + dir));
        assertThat(local.runs()).isZero();
        assertThat(local.result().digest()).isEqualTo(first.result().digest());

        String image = proxy.host() + "/team/inline:1";
        Builds.Outcome inline = build(TestBases.busybox("cache-e3"), ctx1, r -> r.cacheTo("type=inline").tag(image)
                .output(new BuildOutput.Push()));
        assertThat(inline.result().digest()).isNotEqualTo(first.result().digest()); // the keys are in its config
        Builds.Outcome fromImage = build(TestBases.busybox("cache-e4"), ctx2, r -> r.cacheFrom(image));
        assertThat(fromImage.runs()).as("inline keys are min mode: the tools stage runs").isEqualTo(1);
        assertThat(fromImage.result().steps().stream().filter(s -> s.step().text().startsWith("COPY"))
                .allMatch(s -> s.cached())).isTrue();
        assertThat(fromImage.result().digest()).isEqualTo(first.result().digest());
    }
}
