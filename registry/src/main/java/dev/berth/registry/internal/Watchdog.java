package dev.berth.registry.internal;

import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches one exchange and gives it up when it does not move. Java's HTTP client only times out the wait
 * for a connection; without this a stalled body, or one that trickles a byte now and then, would hang a
 * pull forever. Two rules, both ending in {@link Stalled}, which callers retry (or resume) like a timeout:
 * <ul>
 *   <li>idle: nothing moved (request body sent, response headers or bytes received) for {@code idle};
 *   <li>slow: while a request or response body is being transferred, fewer than {@code minSpeed} bytes a
 *       second arrived over a window of {@code idle} (a real link, however slow, does better than this;
 *       a server that sends a byte every few seconds, which no idle timeout catches, does not). The wait
 *       between a request's body and its answer is not a transfer: there only the idle rule applies.
 * </ul>
 * One instance per exchange; the publisher and subscriber it wraps report to it from the client's threads,
 * and {@link #await} checks it from the caller's.
 */
final class Watchdog {
    /** The exchange was given up: nothing moved, or too little. */
    static final class Stalled extends HttpTimeoutException {
        private final boolean slow;

        Stalled(String message, boolean slow) {
            super(message);
            this.slow = slow;
        }

        /** Whether bytes moved, but too few (rather than none). */
        boolean slow() {
            return slow;
        }
    }

    private final Duration idle;
    private final long minSpeed;
    private final long minBytesPerWindow;
    private final AtomicLong last = new AtomicLong(System.nanoTime());
    private final AtomicLong moved = new AtomicLong();
    private volatile boolean answered;
    private volatile boolean sending;

    /** @param minSpeed bytes a second a transfer must reach over each window of {@code idle}; 0: no rule */
    Watchdog(Duration idle, long minSpeed) {
        this.idle = idle;
        this.minSpeed = minSpeed;
        this.minBytesPerWindow = Math.max(0, minSpeed) * Math.max(1, idle.toMillis()) / 1000;
    }

    private void touch(long bytes) {
        last.set(System.nanoTime());
        moved.addAndGet(bytes);
    }

    /** Waits for {@code f}, cancelling it (which closes its connection) when a rule says the exchange stalled. */
    <X> X await(CompletableFuture<X> f) throws ExecutionException, InterruptedException, Stalled {
        long idleNanos = idle.toNanos();
        long tick = Math.max(10, Math.min(1000, idle.toMillis() / 4));
        long windowStart = -1;
        long windowBytes = 0;
        while (true) {
            try {
                return f.get(tick, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                long now = System.nanoTime();
                if (now - last.get() > idleNanos) {
                    f.cancel(true);
                    throw new Stalled((answered ? "no data for " : "no response for ") + seconds(idle), false);
                }
                if (!(sending || answered) || minBytesPerWindow == 0) {
                    windowStart = -1;
                } else if (windowStart < 0) {
                    windowStart = now;
                    windowBytes = moved.get();
                } else if (now - windowStart >= idleNanos) {
                    long got = moved.get() - windowBytes;
                    if (got < minBytesPerWindow) {
                        f.cancel(true);
                        throw new Stalled("slower than " + Sizes.human(minSpeed)
                                + "/s (" + got + (got == 1 ? " byte" : " bytes") + " in " + seconds(idle) + ")", true);
                    }
                    windowStart = now;
                    windowBytes = moved.get();
                }
            }
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format(java.util.Locale.ROOT, "%.1f s",
                d.toMillis() / 1000.0);
    }

    /** The request body, reporting what it hands to the connection. */
    BodyPublisher watch(BodyPublisher delegate) {
        return new BodyPublisher() {
            @Override
            public long contentLength() {
                return delegate.contentLength();
            }

            @Override
            public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
                delegate.subscribe(new Flow.Subscriber<ByteBuffer>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        sending = true;
                        subscriber.onSubscribe(s);
                    }

                    @Override
                    public void onNext(ByteBuffer item) {
                        touch(item.remaining());
                        subscriber.onNext(item);
                    }

                    @Override
                    public void onError(Throwable t) {
                        sending = false;
                        subscriber.onError(t);
                    }

                    @Override
                    public void onComplete() {
                        sending = false;
                        touch(0);
                        subscriber.onComplete();
                    }
                });
            }
        };
    }

    /** The response handler, reporting the headers' arrival and every body byte. */
    <X> BodyHandler<X> watch(BodyHandler<X> handler) {
        return info -> {
            answered = true;
            touch(0);
            return new Watched<>(handler.apply(info));
        };
    }

    private final class Watched<X> implements BodySubscriber<X> {
        private final BodySubscriber<X> delegate;

        Watched(BodySubscriber<X> delegate) {
            this.delegate = delegate;
        }

        @Override
        public CompletionStage<X> getBody() {
            return delegate.getBody();
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            delegate.onSubscribe(subscription);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            long n = 0;
            for (ByteBuffer b : items) {
                n += b.remaining();
            }
            touch(n);
            delegate.onNext(items);
        }

        @Override
        public void onError(Throwable throwable) {
            delegate.onError(throwable);
        }

        @Override
        public void onComplete() {
            delegate.onComplete();
        }
    }
}
