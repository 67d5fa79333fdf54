package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.testing.FaultProxy;
import dev.berth.registry.testing.Fixtures;
import dev.berth.registry.testing.ProxiedRegistry;
import dev.berth.registry.testing.TestImages;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Push and pull against the real distribution registry (open, no auth), through a proxy that records what
 * berth sends, so that "nothing was uploaded" and "no manifest GET" are facts, not hopes.
 */
class PushPullTest extends ProxiedRegistry {
    private static final Platform AMD64 = Platform.parse("linux/amd64");

    private RegistryClient client() {
        return client(Fixtures.config(tmp));
    }

    private RegistryClient client(RegistryConfig.Builder config) {
        return Fixtures.anonymous(config.build());
    }

    private static void readAll(ImageStore store, Image image) throws Exception {
        for (Descriptor l : image.layers()) {
            try (InputStream in = store.open(l, "test")) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
    }

    @Test
    void pushedImagePullsBackWithTheSameDigests() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("roundtrip:1");
            Descriptor made = TestImages.create(source, local, AMD64, 1, 300_000, 2_000_000, 10);
            Fixtures.Events pushEvents = new Fixtures.Events();
            PushResult pushed = client.push(source, local, ref("roundtrip:1"), PushOptions.defaults().withProgress(pushEvents));
            assertThat(pushed.digest()).isEqualTo(made.digest());
            assertThat(pushed.uploaded()).isEqualTo(4);
            assertThat(pushed.unchanged()).isFalse();
            assertThat(pushEvents.of(ProgressEvent.ManifestPushed.class)).hasSize(1);
            assertThat(pushEvents.of(ProgressEvent.BlobDone.class)).hasSize(4);

            Fixtures.Events events = new Fixtures.Events();
            PullResult pulled = client.pull(target, ref("roundtrip:1"), PullOptions.defaults().withProgress(events));
            assertThat(pulled.digest()).isEqualTo(made.digest());
            assertThat(pulled.updated()).isTrue();
            assertThat(pulled.platform()).isEqualTo(AMD64);
            Image image = target.image(ref("roundtrip:1"), AMD64);
            Image original = source.image(local, AMD64);
            assertThat(image.digest()).isEqualTo(original.digest());
            assertThat(image.id()).isEqualTo(original.id());
            assertThat(image.layers()).isEqualTo(original.layers());
            readAll(target, image);
            assertThat(events.of(ProgressEvent.Resolved.class)).extracting(ProgressEvent.Resolved::digest)
                    .containsExactly(made.digest());
            assertThat(events.of(ProgressEvent.BlobDone.class)).hasSize(4);
            assertThat(events.of(ProgressEvent.BlobProgress.class)).isNotEmpty()
                    .allSatisfy(p -> assertThat(p.done()).isBetween(0L, p.size()));
        }
    }

    @Test
    void pushingAnUnchangedImageAgainSendsNothing() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = client()) {
            Reference local = Reference.parse("again:1");
            TestImages.create(source, local, AMD64, 2, 100_000, 200_000);
            client.push(source, local, ref("again:1"), PushOptions.defaults());
            proxy.clearRequests();

            PushResult second = client.push(source, local, ref("again:1"), PushOptions.defaults());
            assertThat(second.unchanged()).isTrue();
            assertThat(second.uploaded()).isZero();
            assertThat(proxy.requests()).extracting(FaultProxy.Seen::method).containsOnly("HEAD");

            // a new tag for the same image: every blob is there already, only the manifest goes up
            proxy.clearRequests();
            PushResult tagged = client.push(source, local, ref("again:2"), PushOptions.defaults());
            assertThat(tagged.unchanged()).isFalse();
            assertThat(tagged.existing()).isEqualTo(3);
            assertThat(tagged.uploaded()).isZero();
            assertThat(proxy.requests("POST", ".*")).isEmpty();
            assertThat(proxy.requests("PATCH", ".*")).isEmpty();
            assertThat(proxy.requests("PUT", ".*")).extracting(FaultProxy.Seen::path)
                    .containsExactly("/v2/again/manifests/2");
        }
    }

    @Test
    void aSecondPullResolvesWithOneHeadAndDownloadsNothing() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("twice:1");
            TestImages.create(source, local, AMD64, 3, 500_000);
            client.push(source, local, ref("twice:1"), PushOptions.defaults());
            client.pull(target, ref("twice:1"), PullOptions.defaults());
            proxy.clearRequests();

            PullResult again = client.pull(target, ref("twice:1"), PullOptions.defaults());
            assertThat(again.updated()).isFalse();
            assertThat(again.bytesDownloaded()).isZero();
            assertThat(proxy.requests()).extracting(r -> r.method() + " " + r.path())
                    .containsExactly("HEAD /v2/twice/manifests/1");
        }
    }

    @Test
    void pullByDigestIsVerifiedAndNamedByDigest() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("bydigest:1");
            Descriptor made = TestImages.create(source, local, AMD64, 4, 1000);
            client.push(source, local, ref("bydigest:1"), PushOptions.defaults());
            proxy.clearRequests();
            Reference byDigest = Reference.parse(proxy.host() + "/bydigest@" + made.digest());
            PullResult r = client.pull(target, byDigest, PullOptions.defaults());
            assertThat(r.digest()).isEqualTo(made.digest());
            assertThat(target.resolve(byDigest)).map(Descriptor::digest).contains(made.digest());
            assertThat(proxy.requests("HEAD", ".*/manifests/.*")).isEmpty();
        }
    }

    @Test
    void aManifestThatDoesNotMatchItsDigestIsRejected() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("tampered:1");
            Descriptor made = TestImages.create(source, local, AMD64, 5, 1000);
            client.push(source, local, ref("tampered:1"), PushOptions.defaults());
            String other = new String(source.readBytes(made, "test"), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("\"size\":", "\"size\": ");
            proxy.on("GET", "/v2/tampered/manifests/sha256:.*").respond(200,
                    Map.of("Content-Type", MediaType.OCI_MANIFEST.value()), other);
            assertThatThrownBy(() -> client.pull(target, ref("tampered:1"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("does not match that digest")
                    .satisfies(e -> assertThat(((RegistryException) e).code()).contains("DIGEST_INVALID"));
            assertThat(target.resolve(ref("tampered:1"))).isEmpty();
        }
    }

    @Test
    void errorsCarryTheRegistrysCodeAndMessage() {
        try (ImageStore store = Fixtures.store(tmp); RegistryClient client = client()) {
            assertThatThrownBy(() -> client.pull(store, ref("nothing/here:1"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessage("pull " + proxy.host() + "/nothing/here:1: manifest unknown (MANIFEST_UNKNOWN)")
                    .satisfies(e -> {
                        RegistryException r = (RegistryException) e;
                        assertThat(r.code()).contains("MANIFEST_UNKNOWN");
                        assertThat(r.status()).hasValue(404);
                        assertThat(r.retryable()).isFalse();
                    });
            assertThatThrownBy(() -> client.tags(Reference.parseRepository(proxy.host() + "/nothing/here")))
                    .hasMessage("list tags of " + proxy.host() + "/nothing/here: repository name not known to registry (NAME_UNKNOWN)");
            assertThatThrownBy(() -> client.push(store, Reference.parse("absent:1"), ref("absent:1"), PushOptions.defaults()))
                    .hasMessage("push " + proxy.host() + "/absent:1: image absent:1 is not in the store");
        }
    }

    @Test
    void tagsAreListed() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = client()) {
            Reference local = Reference.parse("listed:1");
            TestImages.create(source, local, AMD64, 6, 100);
            for (String t : List.of("v1", "v2", "v3")) {
                client.push(source, local, ref("listed:" + t), PushOptions.defaults());
            }
            assertThat(client.tags(Reference.parseRepository(proxy.host() + "/listed"))).containsExactlyInAnyOrder("v1", "v2", "v3");
        }
    }

    /**
     * The Debian registry (distribution 2.8) lists all tags at once, so the proxy plays a registry that pages
     * them as the spec describes: {@code n} per page and a {@code Link} to the next.
     */
    @Test
    void tagsFollowLinkPagination() {
        List<String> all = IntStream.rangeClosed(1, 5).mapToObj(i -> "v" + i).toList();
        proxy.on("GET", "/v2/paged/tags/list.*").times(Integer.MAX_VALUE).then(new FaultProxy.Action.Answer(req -> {
            java.util.regex.Matcher last = java.util.regex.Pattern.compile("last=([^&]+)").matcher(req.target());
            int from = last.find() ? all.indexOf(last.group(1)) + 1 : 0;
            List<String> page = all.subList(from, Math.min(all.size(), from + 2));
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            if (from + 2 < all.size()) {
                headers.put("Link", "</v2/paged/tags/list?last=" + page.getLast() + "&n=2>; rel=\"next\"");
            }
            return new FaultProxy.Action.Respond(200, headers, "{\"name\":\"paged\",\"tags\":[\""
                    + String.join("\",\"", page) + "\"]}");
        }));
        try (RegistryClient client = client(Fixtures.config(tmp).tagPageSize(2))) {
            assertThat(client.tags(Reference.parseRepository(proxy.host() + "/paged"))).containsExactlyElementsOf(all);
            assertThat(proxy.requests("GET", "/v2/paged/tags/list")).extracting(FaultProxy.Seen::target)
                    .containsExactly("/v2/paged/tags/list?n=2", "/v2/paged/tags/list?last=v2&n=2",
                            "/v2/paged/tags/list?last=v4&n=2");
        }
        proxy.clearRules();
        proxy.on("GET", "/v2/evil/tags/list.*").respond(200, Map.of("Link", "<http://elsewhere.example/v2/x/tags/list>; rel=\"next\""),
                "{\"name\":\"evil\",\"tags\":[\"a\"]}");
        try (RegistryClient client = client()) {
            assertThatThrownBy(() -> client.tags(Reference.parseRepository(proxy.host() + "/evil")))
                    .hasMessageContaining("next page is on another host (elsewhere.example)");
        }
    }

    @Test
    void largeBlobsGoUpInChunksOfTheConfiguredSizeAtLeastTheRegistrysMinimum() throws Exception {
        RegistryConfig.Builder config = Fixtures.config(tmp).chunkSize(1 << 20).monolithicLimit(1 << 20);
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client(config)) {
            Reference local = Reference.parse("chunked:1");
            Descriptor made = TestImages.create(source, local, AMD64, 7, 3_500_000);
            client.push(source, local, ref("chunked:1"), PushOptions.defaults());
            List<FaultProxy.Seen> patches = proxy.requests("PATCH", "/v2/chunked/blobs/uploads/.*");
            assertThat(patches).hasSize(3);
            assertThat(patches).extracting(p -> p.header("content-range").orElse(""))
                    .containsExactly("0-1048575", "1048576-2097151", "2097152-3145727");
            assertThat(proxy.requests("PUT", "/v2/chunked/blobs/uploads/.*"))
                    .anySatisfy(p -> assertThat(p.header("content-range")).hasValueSatisfying(r -> assertThat(r).startsWith("3145728-")));
            PullResult r = client.pull(target, ref("chunked:1"), PullOptions.defaults());
            assertThat(r.digest()).isEqualTo(made.digest());
            readAll(target, target.image(ref("chunked:1"), AMD64));

            proxy.clearRequests();
            proxy.addHeaders("POST", ".*/blobs/uploads/.*", Map.of("OCI-Chunk-Min-Length", String.valueOf(2 << 20)));
            Reference local2 = Reference.parse("chunked:2");
            TestImages.create(source, local2, AMD64, 8, 3_500_000);
            client.push(source, local2, ref("chunked:2"), PushOptions.defaults());
            assertThat(proxy.requests("PATCH", "/v2/chunked/blobs/uploads/.*"))
                    .extracting(p -> p.header("content-range").orElse("")).containsExactly("0-2097151");
        }
    }

    @Test
    void aRejectedChunkIsResumedWhereTheUploadReallyIs() throws Exception {
        RegistryConfig.Builder config = Fixtures.config(tmp).chunkSize(1 << 20).monolithicLimit(1 << 20);
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client(config)) {
            Reference local = Reference.parse("recover:1");
            Descriptor made = TestImages.create(source, local, AMD64, 9, 3_500_000);
            // the second chunk is refused with 416 (the registry never sees it): berth asks the session and goes on
            proxy.on("PATCH", "/v2/recover/blobs/uploads/.*").times(1).then(new FaultProxy.Action.Delay(java.time.Duration.ZERO));
            proxy.on("PATCH", "/v2/recover/blobs/uploads/.*").times(1).respond(416);
            // the answer to a later chunk is lost though the registry stored it: the session's state no longer
            // matches (distribution then cancels it), so the upload starts again and still ends verified
            proxy.on("PATCH", "/v2/recover/blobs/uploads/.*").times(1).then(new FaultProxy.Action.Delay(java.time.Duration.ZERO));
            proxy.on("PATCH", "/v2/recover/blobs/uploads/.*").times(1).dropResponse();
            Fixtures.Events events = new Fixtures.Events();
            client.push(source, local, ref("recover:1"), PushOptions.defaults().withProgress(events));
            assertThat(events.of(ProgressEvent.Retrying.class)).extracting(ProgressEvent.Retrying::reason)
                    .anySatisfy(r -> assertThat(r).contains("416"));
            assertThat(proxy.requests("GET", "/v2/recover/blobs/uploads/.*")).hasSizeGreaterThanOrEqualTo(2);
            assertThat(client.pull(target, ref("recover:1"), PullOptions.defaults()).digest()).isEqualTo(made.digest());
            readAll(target, target.image(ref("recover:1"), AMD64));
        }
    }

    @Test
    void blobsFromAnotherRepositoryOfTheRegistryAreMounted() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = client()) {
            Reference local = Reference.parse("mount:1");
            TestImages.create(source, local, AMD64, 10, 200_000, 300_000);
            client.push(source, local, ref("base/one:1"), PushOptions.defaults());
            proxy.clearRequests();
            Fixtures.Events events = new Fixtures.Events();
            PushResult r = client.push(source, local, ref("base/two:1"), PushOptions.defaults().withProgress(events));
            assertThat(r.mounted()).isEqualTo(3);
            assertThat(r.uploaded()).isZero();
            assertThat(events.of(ProgressEvent.BlobMounted.class)).extracting(ProgressEvent.BlobMounted::fromRepository)
                    .containsOnly("base/one");
            assertThat(proxy.requests("PATCH", ".*")).isEmpty();
            assertThat(proxy.requests("POST", ".*")).allSatisfy(p -> assertThat(p.target()).contains("mount=sha256"));
        }
    }

    @Test
    void aFailingMountFallsBackToAnUpload() {
        try (ImageStore source = Fixtures.store(tmp); RegistryClient client = client()) {
            Reference local = Reference.parse("nomount:1");
            TestImages.create(source, local, AMD64, 11, 200_000);
            client.push(source, local, ref("src/a:1"), PushOptions.defaults());
            proxy.on("POST", ".*[?&]mount=.*").times(Integer.MAX_VALUE).respond(400, Map.of(),
                    "{\"errors\":[{\"code\":\"NAME_INVALID\",\"message\":\"invalid repository name\"}]}");
            PushResult r = client.push(source, local, ref("src/b:1"), PushOptions.defaults());
            assertThat(r.mounted()).isZero();
            assertThat(r.uploaded()).isEqualTo(2);
        }
    }

    @Test
    void aPullOfAHostileLayerFailsNamingTheEntryAndNamesNothing() throws Exception {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("hostile:1");
            TestImages.createHostile(source, local, AMD64);
            client.push(source, local, ref("hostile:1"), PushOptions.defaults());
            assertThatThrownBy(() -> client.pull(target, ref("hostile:1"), PullOptions.defaults()))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("entry link/etc/shadow is written through the symlink link");
            assertThat(target.entries()).isEmpty();
        }
    }

    @Test
    void dockerSchema2ImagesRoundTrip() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("dockerish:1");
            Descriptor made = TestImages.createDocker(source, local, AMD64, 12, 10_000);
            client.push(source, local, ref("dockerish:1"), PushOptions.defaults());
            PullResult r = client.pull(target, ref("dockerish:1"), PullOptions.defaults());
            assertThat(r.image().mediaType()).isEqualTo(MediaType.DOCKER_MANIFEST);
            assertThat(r.digest()).isEqualTo(made.digest());
            assertThat(client.head(ref("dockerish:1"))).map(Descriptor::mediaType).contains(MediaType.DOCKER_MANIFEST);
            assertThat(client.head(ref("dockerish:404"))).isEmpty();
        }
    }

    @Test
    void multiPlatformIndexesGoUpWholeAndComeDownForOnePlatform() {
        List<Platform> platforms = List.of(AMD64, Platform.parse("linux/arm64"), Platform.parse("linux/arm/v7"));
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("multi:1");
            Descriptor index = TestImages.createIndex(source, local, platforms, true, 13, 50_000);
            PushResult pushed = client.push(source, local, ref("multi:1"), PushOptions.defaults());
            assertThat(pushed.digest()).isEqualTo(index.digest());
            assertThat(pushed.mediaType()).isEqualTo(MediaType.OCI_INDEX);
            ImageIndex remote = Json.read(client.manifest(ref("multi:1")).bytes(), ImageIndex.class, "index");
            assertThat(remote.manifests()).hasSize(4);

            Descriptor armEntry = remote.manifests().get(2);
            PullResult arm = client.pull(target, ref("multi:1"), PullOptions.defaults().withPlatform(Platform.parse("linux/arm/v7")));
            assertThat(arm.digest()).isEqualTo(index.digest());
            assertThat(arm.image().digest()).isEqualTo(armEntry.digest());
            assertThat(arm.platform()).isEqualTo(Platform.parse("linux/arm/v7"));
            assertThat(target.image(ref("multi:1"), AMD64).platform()).isEqualTo(Platform.parse("linux/arm/v7"));

            proxy.clearRequests();
            PullResult amd = client.pull(target, ref("multi:1"), PullOptions.defaults().withPlatform(AMD64));
            assertThat(amd.image().digest()).isEqualTo(remote.manifests().getFirst().digest());
            // the index came from the store; only the amd64 manifest was fetched
            assertThat(proxy.requests("GET", ".*/manifests/.*")).extracting(FaultProxy.Seen::path)
                    .containsExactly("/v2/multi/manifests/" + remote.manifests().getFirst().digest());

            assertThatThrownBy(() -> client.pull(target, ref("multi:1"), PullOptions.defaults().withPlatform(Platform.parse("linux/s390x"))))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageEndingWith("no image for platform linux/s390x; the index has linux/amd64, linux/arm64, linux/arm/v7");
        }
    }

    @Test
    void allPlatformsStoresTheIndexWholeWithItsAttestationAndNamesIt() {
        List<Platform> platforms = List.of(AMD64, Platform.parse("linux/arm64"));
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("whole:1");
            Descriptor index = TestImages.createIndex(source, local, platforms, true, 16, 20_000);
            client.push(source, local, ref("whole:1"), PushOptions.defaults());
            PullResult r = client.pull(target, ref("whole:1"), PullOptions.defaults().withAllPlatforms(true));
            assertThat(r.image().digest()).isEqualTo(index.digest());
            assertThat(r.image().mediaType()).isEqualTo(MediaType.OCI_INDEX);
            assertThat(r.platforms()).containsExactlyElementsOf(platforms);
            assertThat(r.platform()).isEqualTo(AMD64);
            assertThat(target.resolve(ref("whole:1"))).map(Descriptor::digest).contains(index.digest());
            // every blob the source's index reaches, attestation included, is in the target
            assertThat(source.reachable(List.of(index))).allMatch(target::has);
            assertThat(target.image(ref("whole:1"), Platform.parse("linux/arm64")).platform())
                    .isEqualTo(Platform.parse("linux/arm64"));
            PullResult again = client.pull(target, ref("whole:1"), PullOptions.defaults().withAllPlatforms(true));
            assertThat(again.updated()).isFalse();
            assertThat(again.bytesDownloaded()).isZero();
        }
    }

    @Test
    void aSinglePlatformImageMustMatchAnExplicitPlatform() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client()) {
            Reference local = Reference.parse("single:1");
            TestImages.create(source, local, AMD64, 14, 100);
            client.push(source, local, ref("single:1"), PushOptions.defaults());
            assertThatThrownBy(() -> client.pull(target, ref("single:1"), PullOptions.defaults().withPlatform(Platform.parse("linux/arm64"))))
                    .hasMessageEndingWith("is for linux/amd64, not the requested linux/arm64");
        }
    }

    @Test
    void blobTransfersStayWithinTheRegistrysCap() {
        try (ImageStore source = Fixtures.store(tmp.resolve("a")); ImageStore target = Fixtures.store(tmp.resolve("b"));
             RegistryClient client = client(Fixtures.config(tmp).concurrency(2))) {
            Reference local = Reference.parse("capped:1");
            TestImages.create(source, local, AMD64, 15, 400_000, 400_000, 400_000, 400_000, 400_000, 400_000);
            client.push(source, local, ref("capped:1"), PushOptions.defaults());
            proxy.on("GET", ".*/blobs/sha256:.*").times(Integer.MAX_VALUE).throttle(4_000_000);
            client.pull(target, ref("capped:1"), PullOptions.defaults());
            assertThat(proxy.requests("GET", ".*/blobs/sha256:.*")).hasSize(7);
            assertThat(proxy.maxConcurrentBlobGets()).isBetween(1, 2);
        }
    }
}
