package dev.berth.registry.internal;

import dev.berth.layers.Descriptor;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Uploads one blob from a file. Blobs up to the monolithic limit go in one {@code PUT ?digest=}; larger
 * ones in {@code PATCH} chunks ({@code Content-Range: start-end}, of the configured size but at least the
 * registry's {@code OCI-Chunk-Min-Length}) with the last chunk in the closing {@code PUT} (an empty closing
 * PUT fails on some registries). After a broken connection, a retryable status or a 416, the upload asks
 * the session how much it holds ({@code GET} on the upload URL, {@code Range: 0-N}) and continues from
 * there; a lost session (404) starts a new one. Upload URLs are opaque: used as the registry returns them,
 * with their query, never rebuilt.
 */
public final class BlobUploader {

    /** Settings for one upload. */
    public record Limits(long chunkSize, long monolithicLimit) {}

    private BlobUploader() {}

    /**
     * Uploads {@code file} (holding exactly the blob) to {@code repository}, into {@code session} when a
     * mount attempt already opened one. Returns the bytes sent.
     */
    public static long upload(Transport transport, String repository, List<Scope> scopes, Path file, Descriptor blob,
                              Optional<URI> session, Limits limits, Progress progress) {
        String what = "upload " + blob.digest().shortHex();
        Session s = session.map(u -> new Session(u, 0)).orElseGet(() -> start(transport, repository, scopes, progress, what));
        long size = blob.size();
        boolean monolithic = size <= limits.monolithicLimit();
        long offset = 0;
        long sent = 0;
        int failures = 0;
        BlobDownloader.Reporter reporter = new BlobDownloader.Reporter(blob, progress);
        while (true) {
            long chunk = monolithic ? size - offset : Math.max(limits.chunkSize(), s.minChunk);
            long end = Math.min(size, offset + chunk);
            boolean last = end == size;
            boolean whole = offset == 0 && last;
            Call<Void> call;
            if (last) {
                call = Call.of("PUT", withDigest(s.location, blob), scopes, progress, what).noRetries()
                        .body(Body.counted(Body.file(file, offset, end - offset), sentFrom(offset, reporter)));
            } else {
                call = Call.of("PATCH", s.location, scopes, progress, what).noRetries()
                        .body(Body.counted(Body.file(file, offset, end - offset), sentFrom(offset, reporter)));
            }
            if (!whole && end > offset) {
                call = call.header("Content-Range", offset + "-" + (end - 1));
            }
            Optional<String> failure;
            try {
                Response<Void> r = transport.execute(call);
                if (last && (r.status() == 201 || r.status() == 204 || r.status() == 200)) {
                    checkDigest(r, blob, transport);
                    sent += end - offset;
                    reporter.report(size);
                    return sent;
                }
                if (!last && r.status() == 202) {
                    long reached = Headers.uploadOffset(r.headers()).orElse(end);
                    if (reached > end) {
                        cancel(transport, s.location, scopes, progress);
                        throw new RegistryException(transport.describe() + " claims " + reached + " bytes of blob "
                                + blob.digest() + " after " + end + " were sent", Optional.of("BLOB_UPLOAD_INVALID"),
                                java.util.OptionalInt.of(202), false, null);
                    }
                    s = new Session(location(r, s.location), s.minChunk);
                    if (reached > offset) {
                        sent += end - offset;
                        offset = reached;
                        reporter.report(offset);
                        continue;
                    }
                    // accepted, yet nothing taken: counted as a failure, so that a registry that answers every
                    // chunk this way (an upload that goes round in circles) ends the push after the attempts
                    failures++;
                    if (failures >= transport.retryPolicy().attempts()) {
                        cancel(transport, s.location, scopes, progress);
                        throw new RegistryException(transport.describe() + " accepts the chunks of blob "
                                + blob.digest() + " but keeps none (it holds " + reached + " bytes after " + failures
                                + " attempts)", Optional.of("BLOB_UPLOAD_INVALID"), java.util.OptionalInt.of(202), false, null);
                    }
                    backoff(transport, failures, what, "the registry kept none of the chunk", progress);
                    continue;
                }
                if (r.status() == 404) {
                    failure = Optional.of("the registry lost the upload session (" + Transport.statusText(404) + ")");
                    failures++;
                    checkFailures(transport, failures, r, scopes, what);
                    cancel(transport, s.location, scopes, progress);
                    s = start(transport, repository, scopes, progress, what);
                    offset = 0;
                    backoff(transport, failures, what, failure.get(), progress);
                    continue;
                }
                if (r.status() != 416 && !Transport.RETRY_STATUSES.contains(r.status())) {
                    cancel(transport, s.location, scopes, progress);
                    throw transport.error(r, scopes);
                }
                failure = Optional.of(Transport.statusText(r.status()));
                failures++;
                checkFailures(transport, failures, r, scopes, what);
            } catch (RegistryException e) {
                if (!(e.getCause() instanceof IOException) || !e.retryable()) {
                    throw e;
                }
                failures++;
                if (failures >= transport.retryPolicy().attempts()) {
                    cancel(transport, s.location, scopes, progress);
                    throw e;
                }
                failure = Optional.of(e.getMessage());
            }
            backoff(transport, failures, what, failure.get(), progress);
            // ask the session what it holds, and continue from there
            Status st = status(transport, s, scopes, progress, what);
            if (st.lost) {
                s = start(transport, repository, scopes, progress, what);
                offset = 0;
            } else {
                s = new Session(st.location, s.minChunk);
                offset = st.offset;
                if (offset > size) {
                    cancel(transport, s.location, scopes, progress);
                    throw new RegistryException(transport.describe() + " claims " + offset + " bytes of blob "
                            + blob.digest() + ", which has " + size, Optional.of("BLOB_UPLOAD_INVALID"),
                            java.util.OptionalInt.empty(), false, null);
                }
                if (offset > 0) {
                    progress.on(new ProgressEvent.BlobResumed(blob.digest(), offset));
                }
            }
            reporter.report(offset);
        }
    }

    private static java.util.function.LongConsumer sentFrom(long offset, BlobDownloader.Reporter reporter) {
        return n -> reporter.report(offset + n);
    }

    private record Session(URI location, long minChunk) {}

    private record Status(URI location, long offset, boolean lost) {}

    /** Opens an upload session: {@code POST /v2/<name>/blobs/uploads/}. */
    private static Session start(Transport transport, String repository, List<Scope> scopes, Progress progress,
                                String what) {
        Call<Void> call = Call.of("POST", URI.create("/v2/" + repository + "/blobs/uploads/"), scopes, progress, what)
                .body(Body.bytes(new byte[0], "application/octet-stream"));
        Response<Void> r = transport.execute(call);
        if (r.status() != 202) {
            throw transport.error(r, scopes);
        }
        return new Session(location(r, r.uri()), minChunk(r));
    }

    /** The session of a 202 answer to a mount attempt (the registry started an upload instead). */
    public static URI sessionOf(Response<?> r) {
        return location(r, r.uri());
    }

    private static long minChunk(Response<?> r) {
        return r.headers().firstValue("OCI-Chunk-Min-Length").map(v -> {
            try {
                return Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                return 0L;
            }
        }).orElse(0L);
    }

    private static URI location(Response<?> r, URI fallback) {
        Optional<String> loc = r.headers().firstValue("Location");
        if (loc.isEmpty()) {
            if (r.status() == 202) {
                throw new RegistryException("the registry answered " + Transport.statusText(r.status())
                        + " without an upload Location");
            }
            return fallback;
        }
        return r.uri().resolve(loc.get().trim());
    }

    private static URI withDigest(URI location, Descriptor blob) {
        String s = location.toString();
        String d = "digest=" + URLEncoder.encode(blob.digest().toString(), StandardCharsets.UTF_8);
        return URI.create(s + (location.getRawQuery() == null ? "?" : "&") + d);
    }

    private static Status status(Transport transport, Session s, List<Scope> scopes, Progress progress, String what) {
        Response<Void> r = transport.execute(Call.of("GET", s.location, scopes, progress, what + " status"));
        if (r.status() == 404 || r.status() == 400) {
            // Unknown, or (distribution) cancelled because the Location we hold predates what the registry
            // received: the session is gone and the upload starts over.
            return new Status(s.location, 0, true);
        }
        if (!r.ok()) {
            throw transport.error(r, scopes);
        }
        OptionalLong offset = Headers.uploadOffset(r.headers());
        return new Status(location(r, s.location), offset.orElse(0), false);
    }

    private static void checkDigest(Response<?> r, Descriptor blob, Transport transport) {
        Optional<String> got = r.headers().firstValue("Docker-Content-Digest").map(String::trim);
        if (got.isPresent() && got.get().startsWith(blob.digest().algorithm() + ":")
                && !got.get().equals(blob.digest().toString())) {
            throw new RegistryException(transport.describe() + " stored blob " + blob.digest() + " as " + got.get(),
                    Optional.of("DIGEST_INVALID"), java.util.OptionalInt.of(r.status()), false, null);
        }
    }

    private static void checkFailures(Transport transport, int failures, Response<?> r, List<Scope> scopes,
                                      String what) {
        if (failures >= transport.retryPolicy().attempts()) {
            throw transport.error(r, scopes);
        }
    }

    private static void backoff(Transport transport, int failures, String what, String reason, Progress progress) {
        Duration d = transport.retryPolicy().backoff(failures);
        progress.on(new ProgressEvent.Retrying(what, failures, d, reason));
        Transport.pause(d);
    }

    /** Abandons a session (best effort: the registry expires it anyway). */
    private static void cancel(Transport transport, URI location, List<Scope> scopes, Progress progress) {
        try {
            transport.execute(Call.of("DELETE", location, scopes, progress, "cancel upload").noRetries());
        } catch (RegistryException ignored) {
            // nothing more to do
        }
    }
}
