package dev.berth.registry.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Flow;

/**
 * A request body that can be sent again (after a 401, a retry, a redirect): bytes in memory or a region of
 * a file, read from disk each time so that memory does not grow with the blob.
 */
public sealed interface Body permits Body.Bytes, Body.FileRegion, Body.Counted {

    long length();

    String contentType();

    BodyPublisher publisher();

    static Body bytes(byte[] bytes, String contentType) {
        return new Bytes(bytes, contentType);
    }

    static Body file(Path file, long offset, long length) {
        return new FileRegion(file, offset, length);
    }

    /** The same body, telling {@code onSent} the bytes handed to the connection so far (for progress). */
    static Body counted(Body body, java.util.function.LongConsumer onSent) {
        return new Counted(body, onSent);
    }

    record Counted(Body inner, java.util.function.LongConsumer onSent) implements Body {
        @Override
        public long length() {
            return inner.length();
        }

        @Override
        public String contentType() {
            return inner.contentType();
        }

        @Override
        public BodyPublisher publisher() {
            BodyPublisher p = inner.publisher();
            return new BodyPublisher() {
                @Override
                public long contentLength() {
                    return p.contentLength();
                }

                @Override
                public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
                    long[] sent = {0};
                    p.subscribe(new Flow.Subscriber<ByteBuffer>() {
                        @Override
                        public void onSubscribe(Flow.Subscription s) {
                            subscriber.onSubscribe(s);
                        }

                        @Override
                        public void onNext(ByteBuffer item) {
                            sent[0] += item.remaining();
                            subscriber.onNext(item);
                            onSent.accept(sent[0]);
                        }

                        @Override
                        public void onError(Throwable t) {
                            subscriber.onError(t);
                        }

                        @Override
                        public void onComplete() {
                            subscriber.onComplete();
                        }
                    });
                }
            };
        }
    }

    record Bytes(byte[] bytes, String contentType) implements Body {
        @Override
        public long length() {
            return bytes.length;
        }

        @Override
        public BodyPublisher publisher() {
            return HttpRequest.BodyPublishers.ofByteArray(bytes);
        }
    }

    /** {@code length} bytes of {@code file} from {@code offset}, as {@code application/octet-stream}. */
    record FileRegion(Path file, long offset, long length) implements Body {
        @Override
        public String contentType() {
            return "application/octet-stream";
        }

        @Override
        public BodyPublisher publisher() {
            BodyPublisher stream = HttpRequest.BodyPublishers.ofInputStream(this::open);
            // ofInputStream does not know the length; a known length gives Content-Length, not chunked encoding
            return new BodyPublisher() {
                @Override
                public long contentLength() {
                    return length;
                }

                @Override
                public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
                    stream.subscribe(subscriber);
                }
            };
        }

        private InputStream open() {
            try {
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                ch.position(offset);
                return new Limited(Channels.newInputStream(ch), length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** At most {@code remaining} bytes of a stream. */
    final class Limited extends InputStream {
        private final InputStream in;
        private long remaining;

        Limited(InputStream in, long remaining) {
            this.in = in;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
