package dev.berth.registry;

import dev.berth.layers.Digest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.time.Duration;
import java.util.Optional;

/** What a pull or push reports, in the order it happens for each blob. */
public sealed interface ProgressEvent {

    /** Which blob of an image a blob event is about. */
    enum BlobKind { CONFIG, LAYER }

    /** A reference was resolved (by a HEAD, or from the local store) to a manifest or index digest. */
    record Resolved(Reference reference, Digest digest, MediaType mediaType) implements ProgressEvent {}

    /** An index was resolved to the manifest for a platform. */
    record PlatformSelected(Platform platform, Digest manifest) implements ProgressEvent {}

    /**
     * The registry reported its pull rate limit ({@code ratelimit-remaining}/{@code ratelimit-limit}, as
     * Docker Hub does); {@code window} is the period the limit applies to, when given.
     */
    record RateLimit(String registry, long remaining, long limit, Optional<Duration> window) implements ProgressEvent {}

    /** A blob will be transferred (a pull's "Pulling fs layer", a push's "Preparing"). */
    record BlobQueued(Digest digest, long size, BlobKind kind) implements ProgressEvent {}

    /** Bytes of a blob transferred so far, out of {@code size}. */
    record BlobProgress(Digest digest, long done, long size) implements ProgressEvent {}

    /** A broken transfer continues at {@code offset} instead of starting again. */
    record BlobResumed(Digest digest, long offset) implements ProgressEvent {}

    /** Nothing to transfer: the blob is in the local store (pull) or the registry (push) already. */
    record BlobExists(Digest digest, long size, BlobKind kind) implements ProgressEvent {}

    /** The registry linked the blob from another repository instead of receiving it (push). */
    record BlobMounted(Digest digest, String fromRepository) implements ProgressEvent {}

    /** A blob was transferred completely and verified. */
    record BlobDone(Digest digest, long size) implements ProgressEvent {}

    /** A request failed in a way that may pass, and is tried again after {@code delay}. */
    record Retrying(String what, int attempt, Duration delay, String reason) implements ProgressEvent {}

    /** Something the user should know that does not stop the work (a registry's Warning header, a mirror that failed). */
    record Warning(String message) implements ProgressEvent {}

    /** A manifest or index was stored in the registry under {@code target}. */
    record ManifestPushed(Reference target, Digest digest, long size) implements ProgressEvent {}
}
