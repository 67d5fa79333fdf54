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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker.io pulls try the mirrors first, then Docker Hub (here a local stand-in); pushes go to the Hub only. */
class MirrorTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    @TempDir
    static Path shared;
    static LocalRegistry hubRegistry;
    static LocalRegistry mirrorRegistry;
    static Descriptor one;
    static Descriptor two;
    FaultProxy hub;
    FaultProxy mirror;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        hubRegistry = LocalRegistry.open(shared.resolve("hub"));
        mirrorRegistry = LocalRegistry.open(shared.resolve("mirror"));
        try (ImageStore source = Fixtures.store(shared.resolve("source"));
             RegistryClient toHub = Fixtures.anonymous(Fixtures.config(shared)
                     .endpoint("docker.io", hubRegistry.uri().toString()).build())) {
            one = TestImages.create(source, Reference.parse("alpine:1"), AMD64, 1, 20_000);
            two = TestImages.create(source, Reference.parse("alpine:2"), AMD64, 2, 20_000);
            toHub.push(source, Reference.parse("alpine:1"), Reference.parse("alpine:1"), PushOptions.defaults());
            toHub.push(source, Reference.parse("alpine:2"), Reference.parse("alpine:2"), PushOptions.defaults());
            // the mirror has only alpine:1, under the same repository name as on the Hub
            toHub.push(source, Reference.parse("alpine:1"), Reference.parse(mirrorRegistry.host() + "/library/alpine:1"),
                    PushOptions.defaults());
        }
    }

    @AfterAll
    static void stop() {
        hubRegistry.close();
        mirrorRegistry.close();
    }

    @BeforeEach
    void proxies() {
        hub = FaultProxy.reverse(hubRegistry.uri());
        mirror = FaultProxy.reverse(mirrorRegistry.uri());
    }

    @AfterEach
    void closeProxies() {
        hub.close();
        mirror.close();
    }

    private RegistryConfig.Builder config(List<String> mirrors) {
        return Fixtures.config(tmp).endpoint("docker.io", hub.uri().toString()).mirrors(mirrors);
    }

    @Test
    void aMirrorThatHasTheImageServesIt() {
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config(List.of(mirror.uri().toString())).build())) {
            PullResult r = client.pull(target, Reference.parse("alpine:1"), PullOptions.defaults());
            assertThat(r.digest()).isEqualTo(one.digest());
            assertThat(r.source()).isEqualTo(mirror.host());
            assertThat(hub.requests()).isEmpty();
        }
    }

    @Test
    void whatTheMirrorLacksComesFromTheHubWithAWarning() {
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config(List.of(mirror.host())).build())) {
            Fixtures.Events events = new Fixtures.Events();
            PullResult r = client.pull(target, Reference.parse("alpine:2"), PullOptions.defaults().withProgress(events));
            assertThat(r.digest()).isEqualTo(two.digest());
            assertThat(r.source()).isEqualTo(hub.host());
            assertThat(events.of(ProgressEvent.Warning.class)).singleElement().satisfies(w -> assertThat(w.message())
                    .isEqualTo("mirror " + mirror.host() + ": manifest unknown (MANIFEST_UNKNOWN); trying " + hub.host()));
        }
    }

    @Test
    void aMirrorThatIsDownIsSkipped() throws Exception {
        String down = "127.0.0.1:" + LocalRegistry.freePort();
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config(List.of(down, mirror.uri().toString())).build())) {
            Fixtures.Events events = new Fixtures.Events();
            PullResult r = client.pull(target, Reference.parse("alpine:1"), PullOptions.defaults().withProgress(events));
            assertThat(r.source()).isEqualTo(mirror.host());
            assertThat(events.of(ProgressEvent.Warning.class)).singleElement()
                    .satisfies(w -> assertThat(w.message()).startsWith("mirror " + down + ": cannot connect"));
        }
    }

    @Test
    void mirrorsComeFromTheEnvironmentToo() {
        RegistryConfig config = RegistryConfig.load(Map.of("BERTH_CONFIG_DIR", tmp.toString(),
                "BERTH_REGISTRY_MIRRORS", mirror.uri().toString()), Optional.empty()).toBuilder()
                .endpoint("docker.io", hub.uri().toString()).retry(Fixtures.FAST_RETRY).build();
        try (ImageStore target = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config)) {
            assertThat(client.pull(target, Reference.parse("alpine:1"), PullOptions.defaults()).source()).isEqualTo(mirror.host());
        }
    }

    @Test
    void pushesAndOtherRegistriesIgnoreMirrors() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = Fixtures.anonymous(config(List.of(mirror.host())).build())) {
            TestImages.create(source, Reference.parse("mine:1"), AMD64, 3, 1000);
            client.push(source, Reference.parse("mine:1"), Reference.parse("someone/mine:1"), PushOptions.defaults());
            client.pull(source, Reference.parse(hub.host() + "/someone/mine:1"), PullOptions.defaults());
            assertThat(mirror.requests()).isEmpty();
            assertThat(hub.requests("PUT", "/v2/someone/mine/manifests/1")).hasSize(1);
        }
    }
}
