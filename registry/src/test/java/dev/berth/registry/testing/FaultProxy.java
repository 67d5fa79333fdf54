package dev.berth.registry.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * An HTTP/1.1 proxy on a loopback port that misbehaves on purpose. As a reverse proxy it sits in front of a
 * registry; as a forward proxy ({@code HTTPS_PROXY}) it tunnels {@code CONNECT} and forwards absolute-form
 * requests to hosts it maps to local addresses. Rules, each for a number of matching requests, answer with
 * a status (500, 503, 429 with {@code Retry-After}, ...), cut a response body after some bytes, drop the
 * response after forwarding, slow a body down, stall it, redirect, forward twice, or add headers. Every
 * request is recorded.
 */
public final class FaultProxy implements AutoCloseable {

    /** A request as the proxy saw it: header names in lowercase. */
    public record Seen(String method, String target, Map<String, String> headers, int bodyLength) {
        public String path() {
            int q = target.indexOf('?');
            return q < 0 ? target : target.substring(0, q);
        }

        public Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
        }
    }

    /** What a rule does to a request it matches. */
    public sealed interface Action {
        /** Answers itself; the registry never sees the request. */
        record Respond(int status, Map<String, String> headers, String body) implements Action {}

        /** Forwards, then relays only the first {@code afterBytes} of the body and closes the connection. */
        record CutBody(long afterBytes) implements Action {}

        /** Forwards (the registry acts on it), then closes the connection without answering. */
        record DropResponse() implements Action {}

        /** Waits before forwarding. */
        record Delay(Duration delay) implements Action {}

        /** Relays the response body at {@code bytesPerSecond}. */
        record Throttle(long bytesPerSecond) implements Action {}

        /** Relays {@code afterBytes} of the body, then pauses for {@code pause}, then closes. */
        record Stall(long afterBytes, Duration pause) implements Action {}

        /** Answers with a redirect to the location the function gives for the request. */
        record Redirect(int status, Function<Seen, String> location) implements Action {}

        /** Forwards the request twice and relays the second answer (the registry then sees a repeat). */
        record Twice() implements Action {}

        /** Answers itself with what the function makes of the request (an imitation of some registry feature). */
        record Answer(Function<Seen, Respond> answer) implements Action {}

        /**
         * Answers itself by writing whatever it likes on the connection, then closes it: a body that never
         * ends, headers a byte at a time (see {@link Hostile}). The bytes written are counted.
         */
        record Raw(RawAnswer answer) implements Action {}
    }

    /** Writes a whole answer, status line and headers included, on the client's connection. */
    @FunctionalInterface
    public interface RawAnswer {
        void write(Seen request, OutputStream out) throws IOException, InterruptedException;
    }

    private record Rule(String method, Pattern path, AtomicInteger remaining, Action action) {
        boolean matches(Seen s) {
            return (method.equals("*") || method.equalsIgnoreCase(s.method())) && path.matcher(s.target()).matches();
        }
    }

    private record Decoration(String method, Pattern path, Map<String, String> headers) {}

    private final ServerSocket server;
    private final Optional<InetSocketAddress> backend;
    private final Map<String, InetSocketAddress> routes;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<Decoration> decorations = new CopyOnWriteArrayList<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final List<String> tunnels = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final List<long[]> blobGets = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicLong rawBytes = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    private volatile Optional<String> proxyAuthorization = Optional.empty();

    private FaultProxy(ServerSocket server, Optional<InetSocketAddress> backend, Map<String, InetSocketAddress> routes) {
        this.server = server;
        this.backend = backend;
        this.routes = Map.copyOf(routes);
        threads.submit(this::accept);
    }

    /** A reverse proxy in front of {@code backend} ({@code http://127.0.0.1:PORT}). */
    public static FaultProxy reverse(URI backend) {
        return start(Optional.of(new InetSocketAddress(backend.getHost(), backend.getPort())), Map.of());
    }

    /**
     * A forward proxy: {@code CONNECT host:port} and {@code GET http://host:port/...} go to the address
     * {@code routes} maps {@code host:port} to; other hosts are refused.
     */
    public static FaultProxy forward(Map<String, InetSocketAddress> routes) {
        return start(Optional.empty(), routes);
    }

    private static FaultProxy start(Optional<InetSocketAddress> backend, Map<String, InetSocketAddress> routes) {
        try {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            return new FaultProxy(s, backend, routes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public URI uri() {
        return URI.create("http://" + host());
    }

    /** {@code 127.0.0.1:PORT}. */
    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /**
     * Starts a rule for requests with this method ({@code *} for any) whose target (path and query) matches
     * the regex.
     */
    public RuleBuilder on(String method, String pathRegex) {
        return new RuleBuilder(method, Pattern.compile(pathRegex));
    }

    /** Adds headers to every response to matching requests (while forwarding normally). */
    public FaultProxy addHeaders(String method, String pathRegex, Map<String, String> headers) {
        decorations.add(new Decoration(method, Pattern.compile(pathRegex), Map.copyOf(headers)));
        return this;
    }

    /**
     * As a forward proxy, demands {@code Proxy-Authorization: Basic} with these credentials (407 otherwise),
     * as corporate proxies do.
     */
    public FaultProxy requireProxyAuth(String user, String password) {
        proxyAuthorization = Optional.of("Basic " + java.util.Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        return this;
    }

    /** Removes every rule and decoration. */
    public void clearRules() {
        rules.clear();
        decorations.clear();
    }

    public List<Seen> requests() {
        return List.copyOf(seen);
    }

    public void clearRequests() {
        seen.clear();
        tunnels.clear();
        blobGets.clear();
    }

    /** Requests with this method and a path matching the regex. */
    public List<Seen> requests(String method, String pathRegex) {
        Pattern p = Pattern.compile(pathRegex);
        return seen.stream().filter(s -> s.method().equalsIgnoreCase(method) && p.matcher(s.path()).matches()).toList();
    }

    /** The most blob downloads ({@code GET .../blobs/...}) that were in flight at the same time. */
    public int maxConcurrentBlobGets() {
        List<long[]> spans = List.copyOf(blobGets);
        int max = 0;
        for (long[] a : spans) {
            int n = 0;
            for (long[] b : spans) {
                if (b[0] <= a[0] && a[0] < b[1]) {
                    n++;
                }
            }
            max = Math.max(max, n);
        }
        return max;
    }

    /** The bytes {@link Action.Raw} answers managed to write (the client stopped reading the rest). */
    public long rawBytesSent() {
        return rawBytes.get();
    }

    /** {@code host:port} of every CONNECT tunnel opened. */
    public List<String> tunnels() {
        return List.copyOf(tunnels);
    }

    /** Builds a rule. */
    public final class RuleBuilder {
        private final String method;
        private final Pattern path;
        private int times = 1;

        private RuleBuilder(String method, Pattern path) {
            this.method = method;
            this.path = path;
        }

        /** How many matching requests the rule applies to (default 1; {@link Integer#MAX_VALUE} for all). */
        public RuleBuilder times(int n) {
            times = n;
            return this;
        }

        public FaultProxy then(Action action) {
            rules.add(new Rule(method, path, new AtomicInteger(times), action));
            return FaultProxy.this;
        }

        public FaultProxy respond(int status) {
            return then(new Action.Respond(status, Map.of(), ""));
        }

        public FaultProxy respond(int status, Map<String, String> headers, String body) {
            return then(new Action.Respond(status, headers, body));
        }

        public FaultProxy cutAfter(long bytes) {
            return then(new Action.CutBody(bytes));
        }

        public FaultProxy dropResponse() {
            return then(new Action.DropResponse());
        }

        public FaultProxy delay(Duration d) {
            return then(new Action.Delay(d));
        }

        public FaultProxy throttle(long bytesPerSecond) {
            return then(new Action.Throttle(bytesPerSecond));
        }

        public FaultProxy stall(long afterBytes, Duration pause) {
            return then(new Action.Stall(afterBytes, pause));
        }

        public FaultProxy redirect(int status, Function<Seen, String> location) {
            return then(new Action.Redirect(status, location));
        }

        public FaultProxy twice() {
            return then(new Action.Twice());
        }

        public FaultProxy raw(RawAnswer answer) {
            return then(new Action.Raw(answer));
        }
    }

    // ------------------------------------------------------------------ serving

    private void accept() {
        while (!closed) {
            try {
                Socket s = server.accept();
                open.add(s);
                threads.submit(() -> serve(s));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private record Head(String line, List<String[]> headers) {
        Optional<String> get(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return Optional.of(h[1]);
                }
            }
            return Optional.empty();
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = new BufferedInputStream(client.getInputStream(), 1 << 16);
            OutputStream out = client.getOutputStream();
            while (!closed) {
                Head req = readHead(in);
                if (req == null) {
                    return;
                }
                String[] parts = req.line().split(" ", 3);
                if (parts.length < 3) {
                    return;
                }
                String method = parts[0];
                String target = parts[1];
                boolean proxied = method.equals("CONNECT") || target.startsWith("http://");
                if (proxied && proxyAuthorization.isPresent()
                        && !req.get("Proxy-Authorization").equals(proxyAuthorization)) {
                    readBody(in, req);
                    seen.add(new Seen(method, target, Map.of("proxy-authorization",
                            req.get("Proxy-Authorization").orElse("(none)")), 0));
                    out.write(("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n"
                            + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    continue;
                }
                if (method.equals("CONNECT")) {
                    tunnel(client, in, out, target);
                    return;
                }
                byte[] body = readBody(in, req);
                InetSocketAddress to;
                String originTarget = target;
                if (target.startsWith("http://")) {
                    URI u = URI.create(target);
                    String hp = u.getHost() + ":" + (u.getPort() < 0 ? 80 : u.getPort());
                    to = routes.get(hp);
                    if (to == null) {
                        writeSimple(out, 502, "no route to " + hp);
                        return;
                    }
                    originTarget = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
                } else if (backend.isPresent()) {
                    to = backend.get();
                } else {
                    writeSimple(out, 400, "not a proxy request");
                    return;
                }
                Map<String, String> hs = new LinkedHashMap<>();
                for (String[] h : req.headers()) {
                    hs.putIfAbsent(h[0].toLowerCase(Locale.ROOT), h[1]);
                }
                Seen s = new Seen(method, originTarget, hs, body.length);
                seen.add(s);
                Optional<Action> action = take(s);
                Map<String, String> extra = new LinkedHashMap<>();
                for (Decoration d : decorations) {
                    if ((d.method().equals("*") || d.method().equalsIgnoreCase(method)) && d.path().matcher(s.path()).matches()) {
                        extra.putAll(d.headers());
                    }
                }
                if (action.isPresent() && action.get() instanceof Action.Respond r) {
                    respond(out, r, extra, method);
                    continue;
                }
                if (action.isPresent() && action.get() instanceof Action.Answer a) {
                    respond(out, a.answer().apply(s), extra, method);
                    continue;
                }
                if (action.isPresent() && action.get() instanceof Action.Raw r) {
                    OutputStream counted = new java.io.FilterOutputStream(out) {
                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            out.write(b, off, len);
                            rawBytes.addAndGet(len);
                        }
                    };
                    r.answer().write(s, counted);
                    counted.flush();
                    return;
                }
                if (action.isPresent() && action.get() instanceof Action.Redirect r) {
                    Map<String, String> h = new LinkedHashMap<>(extra);
                    h.put("Location", r.location().apply(s));
                    respond(out, new Action.Respond(r.status(), h, ""), Map.of(), method);
                    continue;
                }
                if (action.isPresent() && action.get() instanceof Action.Delay d) {
                    Thread.sleep(d.delay());
                }
                if (action.isPresent() && action.get() instanceof Action.Twice) {
                    try (Socket first = new Socket()) {
                        first.connect(to, 5000);
                        sendRequest(first.getOutputStream(), method, originTarget, req, body);
                        Head h = readHead(new BufferedInputStream(first.getInputStream()));
                        if (h == null) {
                            return;
                        }
                    }
                }
                long started = System.nanoTime();
                boolean keep;
                try {
                    keep = forward(to, method, originTarget, req, body, out, action, extra);
                } finally {
                    if (method.equals("GET") && s.path().contains("/blobs/sha")) {
                        blobGets.add(new long[] {started, System.nanoTime()});
                    }
                }
                if (!keep) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client or the backend went away: nothing to do
        } finally {
            open.remove(client);
        }
    }

    private Optional<Action> take(Seen s) {
        for (Rule r : rules) {
            if (r.matches(s)) {
                int left = r.remaining().getAndDecrement();
                if (left > 0) {
                    return Optional.of(r.action());
                }
            }
        }
        return Optional.empty();
    }

    private static void sendRequest(OutputStream out, String method, String target, Head req, byte[] body)
            throws IOException {
        StringBuilder b = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
        for (String[] h : req.headers()) {
            String n = h[0].toLowerCase(Locale.ROOT);
            if (n.equals("connection") || n.equals("keep-alive") || n.startsWith("proxy-") || n.equals("content-length")
                    || n.equals("transfer-encoding") || n.equals("upgrade") || n.equals("http2-settings")) {
                continue;
            }
            b.append(h[0]).append(": ").append(h[1]).append("\r\n");
        }
        if (body.length > 0 || method.equals("PUT") || method.equals("POST") || method.equals("PATCH")) {
            b.append("Content-Length: ").append(body.length).append("\r\n");
        }
        b.append("Connection: close\r\n\r\n");
        out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    /** Forwards one request and relays the answer; returns whether the client connection stays usable. */
    private boolean forward(InetSocketAddress to, String method, String target, Head req, byte[] body,
                            OutputStream out, Optional<Action> action, Map<String, String> extra)
            throws IOException, InterruptedException {
        try (Socket up = new Socket()) {
            up.connect(to, 5000);
            sendRequest(up.getOutputStream(), method, target, req, body);
            InputStream upIn = new BufferedInputStream(up.getInputStream(), 1 << 16);
            Head resp = readHead(upIn);
            if (resp == null) {
                writeSimple(out, 502, "backend closed");
                return false;
            }
            if (action.isPresent() && action.get() instanceof Action.DropResponse) {
                drainBody(upIn, resp, method);
                return false;
            }
            int status = Integer.parseInt(resp.line().split(" ")[1]);
            boolean noBody = method.equals("HEAD") || status == 204 || status == 304 || status / 100 == 1;
            boolean chunked = resp.get("Transfer-Encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false);
            Optional<Long> length = resp.get("Content-Length").map(v -> Long.parseLong(v.trim()));
            boolean untilClose = !noBody && !chunked && length.isEmpty();
            StringBuilder b = new StringBuilder(resp.line()).append("\r\n");
            for (String[] h : resp.headers()) {
                String n = h[0].toLowerCase(Locale.ROOT);
                if (n.equals("connection") || n.equals("keep-alive") || extra.keySet().stream().anyMatch(k -> k.equalsIgnoreCase(n))) {
                    continue;
                }
                b.append(h[0]).append(": ").append(h[1]).append("\r\n");
            }
            extra.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
            b.append(untilClose ? "Connection: close\r\n" : "Connection: keep-alive\r\n").append("\r\n");
            out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (noBody) {
                out.flush();
                return true;
            }
            long limit = Long.MAX_VALUE;
            long rate = 0;
            Duration pause = Duration.ZERO;
            if (action.isPresent()) {
                switch (action.get()) {
                    case Action.CutBody c -> limit = c.afterBytes();
                    case Action.Throttle t -> rate = t.bytesPerSecond();
                    case Action.Stall st -> {
                        limit = st.afterBytes();
                        pause = st.pause();
                    }
                    default -> { }
                }
            }
            boolean complete = relay(upIn, out, chunked ? -2 : length.orElse(-1L), limit, rate);
            if (!complete) {
                out.flush();
                if (!pause.isZero()) {
                    Thread.sleep(pause);
                }
                return false;
            }
            out.flush();
            return !untilClose;
        }
    }

    /**
     * Copies a body: {@code length} bytes, or chunked framing as is ({@code -2}), or to the end ({@code -1});
     * stops after {@code limit} bytes; paces at {@code rate} bytes a second when positive. Returns whether
     * the whole body went through.
     */
    private static boolean relay(InputStream in, OutputStream out, long length, long limit, long rate)
            throws IOException, InterruptedException {
        long sent = 0;
        long start = System.nanoTime();
        byte[] buf = new byte[rate > 0 ? (int) Math.max(1024, Math.min(64 * 1024, rate / 20)) : 64 * 1024];
        long remaining = length >= 0 ? length : Long.MAX_VALUE;
        while (remaining > 0) {
            int want = (int) Math.min(buf.length, Math.min(remaining, limit - sent));
            if (want <= 0) {
                return false;
            }
            int n = in.read(buf, 0, want);
            if (n < 0) {
                return length < 0;
            }
            out.write(buf, 0, n);
            sent += n;
            if (length >= 0) {
                remaining -= n;
            }
            if (rate > 0) {
                out.flush();
                long due = start + sent * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            if (sent >= limit) {
                return remaining == 0 && length >= 0;
            }
        }
        return true;
    }

    private static void drainBody(InputStream in, Head resp, String method) throws IOException {
        if (method.equals("HEAD")) {
            return;
        }
        Optional<String> length = resp.get("Content-Length");
        if (length.isPresent()) {
            in.readNBytes((int) Long.parseLong(length.get().trim()));
        } else {
            in.readAllBytes();
        }
    }

    private void tunnel(Socket client, InputStream in, OutputStream out, String target) throws IOException {
        InetSocketAddress to = routes.get(target);
        if (to == null) {
            writeSimple(out, 502, "no route to " + target);
            return;
        }
        tunnels.add(target);
        try (Socket up = new Socket()) {
            up.connect(to, 5000);
            out.write("HTTP/1.1 200 Connection Established\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            var pump = threads.submit(() -> {
                try {
                    in.transferTo(up.getOutputStream());
                } catch (IOException ignored) {
                    // one side closed
                } finally {
                    try {
                        up.shutdownOutput();
                    } catch (IOException ignored) {
                        // already closed
                    }
                }
            });
            try {
                up.getInputStream().transferTo(out);
            } catch (SocketException ignored) {
                // one side closed
            }
            pump.cancel(true);
        }
    }

    private void respond(OutputStream out, Action.Respond r, Map<String, String> extra, String method) throws IOException {
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder("HTTP/1.1 " + r.status() + " " + reason(r.status()) + "\r\n");
        Map<String, String> h = new LinkedHashMap<>(extra);
        h.putAll(r.headers());
        h.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
        if (body.length > 0 && !h.containsKey("Content-Type")) {
            b.append("Content-Type: application/json\r\n");
        }
        b.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!method.equals("HEAD")) {
            out.write(body);
        }
        out.flush();
    }

    private static void writeSimple(OutputStream out, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " " + reason(status) + "\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 202 -> "Accepted";
            case 307 -> "Temporary Redirect";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 416 -> "Range Not Satisfiable";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    private static Head readHead(InputStream in) throws IOException {
        String line = readLine(in);
        while (line != null && line.isEmpty()) {
            line = readLine(in);
        }
        if (line == null) {
            return null;
        }
        List<String[]> headers = new ArrayList<>();
        for (String h = readLine(in); h != null && !h.isEmpty(); h = readLine(in)) {
            int colon = h.indexOf(':');
            if (colon > 0) {
                headers.add(new String[] {h.substring(0, colon).trim(), h.substring(colon + 1).trim()});
            }
        }
        return new Head(line, headers);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readBody(InputStream in, Head req) throws IOException {
        Optional<String> te = req.get("Transfer-Encoding");
        if (te.isPresent() && te.get().toLowerCase(Locale.ROOT).contains("chunked")) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                String size = readLine(in);
                if (size == null) {
                    throw new IOException("truncated chunked body");
                }
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    for (String t = readLine(in); t != null && !t.isEmpty(); t = readLine(in)) {
                        // trailers
                    }
                    return b.toByteArray();
                }
                b.write(in.readNBytes(n));
                readLine(in);
            }
        }
        Optional<String> cl = req.get("Content-Length");
        if (cl.isEmpty()) {
            return new byte[0];
        }
        int n = Integer.parseInt(cl.get().trim());
        byte[] body = in.readNBytes(n);
        if (body.length < n) {
            throw new IOException("truncated body");
        }
        return body;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        threads.shutdownNow();
    }
}
