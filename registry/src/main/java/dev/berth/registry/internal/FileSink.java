package dev.berth.registry.internal;

import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * Writes a response body into a file at a position while hashing it, so that a blob is verified without
 * reading it again and memory stays at the client's buffers. {@link #position()} is where the file ends,
 * also after a broken connection, so that the download can resume there.
 */
final class FileSink implements BodySubscriber<Long> {
    private final FileChannel channel;
    private final long limit;
    private final java.util.function.Supplier<RegistryException> overflow;
    private final MessageDigest hasher;
    private final LongConsumer onProgress;
    private final CompletableFuture<Long> result = new CompletableFuture<>();
    private volatile long position;
    private Flow.Subscription subscription;
    private boolean stopped;
    private final byte[] copy = new byte[64 * 1024];

    /**
     * @param limit where the file must end: a body that goes on past it is cut there and fails with
     *     {@code overflow}, so that a body that never ends costs no more than the blob
     */
    FileSink(FileChannel channel, long position, long limit, MessageDigest hasher, LongConsumer onProgress,
             java.util.function.Supplier<RegistryException> overflow) {
        this.channel = channel;
        this.limit = limit;
        this.overflow = overflow;
        this.position = position;
        this.hasher = hasher;
        this.onProgress = onProgress;
    }

    long position() {
        return position;
    }

    /**
     * Ends this attempt: bytes that arrive later (from a request given up on) are neither written nor
     * hashed, since the next attempt continues with the same hasher. Returns where the file ends.
     */
    synchronized long stop() {
        stopped = true;
        return position;
    }

    @Override
    public CompletionStage<Long> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> items) {
        if (stopped) {
            subscription.cancel();
            return;
        }
        try {
            long p = position;
            for (ByteBuffer b : items) {
                if (p + b.remaining() > limit) {
                    stopped = true;
                    subscription.cancel();
                    result.completeExceptionally(overflow.get());
                    return;
                }
                // The client's buffers are read-only, so a digest would copy them in 4 KiB pieces: copy each
                // once into an array that both the hash and the write use.
                while (b.hasRemaining()) {
                    int n = Math.min(b.remaining(), copy.length);
                    b.get(copy, 0, n);
                    hasher.update(copy, 0, n);
                    ByteBuffer w = ByteBuffer.wrap(copy, 0, n);
                    while (w.hasRemaining()) {
                        p += channel.write(w, p);
                    }
                    position = p;
                }
            }
            onProgress.accept(p);
            subscription.request(1);
        } catch (IOException e) {
            subscription.cancel();
            // a local disk error is not the network's: it must not be retried as one
            result.completeExceptionally(new RegistryException("cannot write the download to disk: " + e.getMessage(), e));
        }
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        result.complete(position);
    }
}
