package dev.berth.registry.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Answers of a hostile registry, for {@link FaultProxy.RuleBuilder#raw}: bodies that never end (chunked,
 * until close, or behind a {@code Content-Length} they never reach), and answers that trickle a byte at a
 * time. Each writes until the client goes away (a write then fails) or the proxy is closed.
 */
public final class Hostile {
    private Hostile() {}

    /**
     * A 200 whose body is {@code head}, then {@code unit} over and over, forever: chunked, or with the given
     * {@code Content-Length} (which it never stops at), or, with neither, until the connection closes.
     */
    public static FaultProxy.RawAnswer endless(String contentType, OptionalLong contentLength, boolean chunked,
                                               byte[] head, byte[] unit) {
        return (req, out) -> {
            StringBuilder h = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\n");
            contentLength.ifPresent(n -> h.append("Content-Length: ").append(n).append("\r\n"));
            h.append(chunked ? "Transfer-Encoding: chunked\r\n" : "").append("Connection: close\r\n\r\n");
            out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (req.method().equals("HEAD")) {
                return;
            }
            byte[] block = repeat(unit, 64 * 1024);
            write(out, head, chunked);
            while (true) {
                write(out, block, chunked);
            }
        };
    }

    /** An endless body of a repeated byte, as {@link #endless}. */
    public static FaultProxy.RawAnswer endless(String contentType, OptionalLong contentLength, boolean chunked) {
        return endless(contentType, contentLength, chunked, new byte[0], new byte[] {'x'});
    }

    /**
     * An answer whose status line and headers come a byte every {@code interval}, and never end (a header
     * that grows forever).
     */
    public static FaultProxy.RawAnswer trickledHeaders(Duration interval) {
        return (req, out) -> {
            byte[] start = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Padding: "
                    .getBytes(StandardCharsets.ISO_8859_1);
            for (byte b : start) {
                out.write(new byte[] {b}, 0, 1);
                out.flush();
                Thread.sleep(interval);
            }
            while (true) {
                out.write(new byte[] {'a'}, 0, 1);
                out.flush();
                Thread.sleep(interval);
            }
        };
    }

    /**
     * A 200 with plausible headers ({@code Content-Length}) whose body comes a byte every {@code interval},
     * forever: each byte is in time for any idle timeout longer than the interval.
     */
    public static FaultProxy.RawAnswer trickledBody(String contentType, java.util.function.ToLongFunction<FaultProxy.Seen> length,
                                                    Duration interval) {
        return (req, out) -> {
            long contentLength = length.applyAsLong(req);
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nContent-Length: " + contentLength
                    + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            for (long i = 0; i < contentLength; i++) {
                Thread.sleep(interval);
                out.write(new byte[] {'{'}, 0, 1);
                out.flush();
            }
        };
    }

    /** A plain answer with any body and headers (garbage for a token service, say). */
    public static FaultProxy.Action.Respond respond(int status, String contentType, String body) {
        return new FaultProxy.Action.Respond(status, Map.of("Content-Type", contentType), body);
    }

    private static void write(OutputStream out, byte[] bytes, boolean chunked) throws IOException {
        if (bytes.length == 0) {
            return;
        }
        if (chunked) {
            out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }
        out.write(bytes, 0, bytes.length);
        if (chunked) {
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    private static byte[] repeat(byte[] unit, int atLeast) {
        int times = Math.max(1, atLeast / unit.length);
        byte[] out = new byte[unit.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(unit, 0, out, i * unit.length, unit.length);
        }
        return Arrays.copyOf(out, out.length);
    }
}
