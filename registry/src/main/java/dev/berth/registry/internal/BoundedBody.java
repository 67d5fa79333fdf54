package dev.berth.registry.internal;

import dev.berth.registry.RegistryException;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.ResponseInfo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a body of at most {@code limit} bytes in memory. Without a name it keeps the first {@code limit}
 * bytes and drops the rest (an error body shown to the user); with one, more is an error naming it
 * (manifests, token responses, tag lists), raised as soon as the limit is passed, so that a body that never
 * ends costs no more than the limit.
 */
final class BoundedBody implements BodySubscriber<byte[]> {
    private final int limit;
    private final Optional<String> what;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    private BoundedBody(int limit, Optional<String> what) {
        this.limit = limit;
        this.what = what;
    }

    /** The first {@code limit} bytes of a body; the rest is read and dropped (so the connection can be reused). */
    static BodySubscriber<byte[]> truncating(int limit) {
        return new BoundedBody(limit, Optional.empty());
    }

    /**
     * A body of at most {@code limit} bytes; {@code what} names it in the error ({@code the manifest HOST served
     * for TAG}). A {@code Content-Length} above the limit is refused before any byte of the body is read.
     */
    static BodySubscriber<byte[]> upTo(ResponseInfo info, int limit, String what) {
        long announced = Headers.contentLength(info.headers()).orElse(-1);
        if (announced > limit) {
            throw tooLarge(what, limit, " (it announced " + announced + " bytes)", info.statusCode());
        }
        return new BoundedBody(limit, Optional.of(what));
    }

    private static RegistryException tooLarge(String what, int limit, String detail, int status) {
        return new RegistryException(what + " is larger than berth's limit of " + Sizes.human(limit) + detail,
                Optional.of("SIZE_INVALID"), OptionalInt.of(status), false, null);
    }

    @Override
    public CompletionStage<byte[]> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        if (result.isDone()) {
            return;
        }
        for (ByteBuffer b : items) {
            if (what.isPresent() && out.size() + b.remaining() > limit) {
                subscription.cancel();
                result.completeExceptionally(tooLarge(what.get(), limit, "", 200));
                return;
            }
            byte[] chunk = new byte[Math.min(limit - out.size(), b.remaining())];
            b.get(chunk);
            out.writeBytes(chunk);
        }
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        result.complete(out.toByteArray());
    }
}
