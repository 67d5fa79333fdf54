package dev.berth.registry.internal;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.LayersException;
import dev.berth.layers.MediaType;
import dev.berth.registry.Progress;
import dev.berth.registry.RegistryException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Manifest requests: HEAD to resolve, GET verified against the digest, PUT. */
public final class Manifests {
    /** Every manifest type berth reads; registries answer with the best they have. */
    public static final String ACCEPT = String.join(", ", MediaType.OCI_INDEX.value(), MediaType.OCI_MANIFEST.value(),
            MediaType.DOCKER_MANIFEST_LIST.value(), MediaType.DOCKER_MANIFEST.value());
    /** The OCI spec asks registries to accept manifests of at least 4 MiB; twice that is plenty. */
    public static final int MAX_SIZE = 8 << 20;
    /** The one shared Jackson configuration: creating another costs a cold JVM a tenth of a second. */

    private Manifests() {}

    /** A manifest as served: its exact bytes, type and digest, and the response headers. */
    public record Fetched(byte[] bytes, MediaType mediaType, Digest digest, HttpHeaders headers) {
        public Descriptor descriptor() {
            return Descriptor.of(mediaType, digest, bytes.length);
        }
    }

    /** What a HEAD found: the descriptor (when the registry named the digest) and the headers. */
    public record Head(int status, Optional<Descriptor> descriptor, HttpHeaders headers) {}

    /** Tags and digests hold only characters that need no escaping in a path ({@code [A-Za-z0-9_.:-]}). */
    static URI uri(String repository, String reference) {
        return URI.create("/v2/" + repository + "/manifests/" + reference);
    }

    /** {@code HEAD /v2/<name>/manifests/<reference>}; does not count against Docker Hub's pull limit. */
    public static Head head(Transport t, String repository, String reference, List<Scope> scopes, Progress progress) {
        Response<Void> r = t.execute(Call.of("HEAD", uri(repository, reference), scopes, progress,
                "resolve " + reference).header("Accept", ACCEPT));
        if (!r.ok()) {
            if (r.status() == 401 || r.status() == 403) {
                throw t.error(r, scopes);
            }
            return new Head(r.status(), Optional.empty(), r.headers());
        }
        Optional<Digest> digest = r.headers().firstValue("Docker-Content-Digest").flatMap(Manifests::digest);
        Optional<MediaType> type = Headers.contentType(r.headers()).map(MediaType::of)
                .filter(m -> m.isIndex() || m.isManifest());
        java.util.OptionalLong size = r.headers().firstValueAsLong("Content-Length");
        if (digest.isEmpty() || type.isEmpty() || size.isEmpty()) {
            return new Head(r.status(), Optional.empty(), r.headers());
        }
        return new Head(r.status(), Optional.of(Descriptor.of(type.get(), digest.get(), size.getAsLong())), r.headers());
    }

    private static Optional<Digest> digest(String s) {
        try {
            return Optional.of(Digest.parse(s.trim()));
        } catch (LayersException e) {
            return Optional.empty();
        }
    }

    /**
     * {@code GET /v2/<name>/manifests/<reference>}: the bytes checked against {@code expected} (when
     * fetching by digest) or against the registry's {@code Docker-Content-Digest} (by tag).
     */
    public static Fetched get(Transport t, String repository, String reference, Optional<Digest> expected,
                              List<Scope> scopes, Progress progress, String what) {
        Response<byte[]> r = t.execute(Call.of("GET", uri(repository, reference), scopes, progress, "fetch manifest")
                .header("Accept", ACCEPT).reading(info -> Transport.bytesUpTo(info, MAX_SIZE, "the manifest " + t.describe() + " served for " + reference)));
        if (!r.ok()) {
            throw t.error(r, scopes);
        }
        byte[] bytes = r.body().orElse(new byte[0]);
        Digest actual;
        if (expected.isPresent()) {
            if (!expected.get().matches(expected.get().newHasher().digest(bytes))) {
                throw new RegistryException("the manifest " + t.describe() + " served for " + expected.get()
                        + " does not match that digest", Optional.of("DIGEST_INVALID"), java.util.OptionalInt.of(r.status()),
                        false, null);
            }
            actual = expected.get();
        } else {
            actual = Digest.sha256(bytes);
            Optional<Digest> claimed = r.headers().firstValue("Docker-Content-Digest").flatMap(Manifests::digest);
            if (claimed.isPresent() && claimed.get().algorithm().equals("sha256") && !claimed.get().equals(actual)) {
                throw new RegistryException("the manifest " + t.describe() + " served for " + reference + " has digest " + actual
                        + " but the registry says " + claimed.get(), Optional.of("DIGEST_INVALID"),
                        java.util.OptionalInt.of(r.status()), false, null);
            }
        }
        return new Fetched(bytes, mediaType(bytes, Headers.contentType(r.headers()), what), actual, r.headers());
    }

    /**
     * The type of a manifest: its {@code mediaType} field, which must agree with a known Content-Type;
     * without the field, the Content-Type, else the shape (OCI allows leaving the field out).
     */
    public static MediaType mediaType(byte[] bytes, Optional<String> contentType, String what) {
        Object parsed;
        try {
            parsed = dev.berth.layers.Json.readPlain(bytes, "manifest");
        } catch (LayersException e) {
            throw new RegistryException(what + ": the manifest is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> n)) {
            throw new RegistryException(what + ": the manifest is not a JSON object");
        }
        if (n.get("schemaVersion") instanceof Number v && v.intValue() == 1
                || contentType.map(c -> c.startsWith("application/vnd.docker.distribution.manifest.v1")).orElse(false)) {
            throw new RegistryException(what + ": the image uses Docker manifest schema 1, which berth does not "
                    + "support (it is deprecated); push it again with a current tool");
        }
        Optional<MediaType> declared = Optional.ofNullable(n.get("mediaType")).map(Object::toString)
                .filter(s -> !s.isEmpty()).map(MediaType::of);
        Optional<MediaType> served = contentType.map(MediaType::of).filter(m -> m.isIndex() || m.isManifest());
        if (declared.isPresent() && served.isPresent() && !declared.get().equals(served.get())) {
            throw new RegistryException(what + ": the registry served a " + declared.get() + " as " + served.get());
        }
        if (declared.isPresent()) {
            return declared.get();
        }
        if (served.isPresent()) {
            return served.get();
        }
        if (n.containsKey("manifests")) {
            return MediaType.OCI_INDEX;
        }
        if (n.containsKey("config") && n.containsKey("layers")) {
            return MediaType.OCI_MANIFEST;
        }
        throw new RegistryException(what + ": unknown manifest type " + contentType.orElse("(no Content-Type)"));
    }

    /** {@code PUT /v2/<name>/manifests/<reference>} with the exact bytes; checks the digest the registry reports. */
    public static void put(Transport t, String repository, String reference, byte[] bytes, MediaType type, Digest digest,
                           List<Scope> scopes, Progress progress) {
        Response<Void> r = t.execute(Call.of("PUT", uri(repository, reference), scopes, progress, "push manifest")
                .body(Body.bytes(bytes, type.value())));
        if (!r.ok()) {
            throw t.error(r, scopes);
        }
        Optional<Digest> got = r.headers().firstValue("Docker-Content-Digest").flatMap(Manifests::digest);
        if (got.isPresent() && got.get().algorithm().equals(digest.algorithm()) && !got.get().equals(digest)) {
            throw new RegistryException(t.describe() + " stored the manifest " + digest + " as " + got.get(),
                    Optional.of("DIGEST_INVALID"), java.util.OptionalInt.of(r.status()), false, null);
        }
    }
}
