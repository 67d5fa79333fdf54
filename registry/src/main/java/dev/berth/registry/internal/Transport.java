package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.Reference;
import dev.berth.registry.CredentialProvider;
import dev.berth.registry.Credentials;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RegistryException;
import dev.berth.registry.RetryPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * The HTTP side of one registry endpoint: finds whether it speaks HTTPS or plain HTTP, answers its
 * authentication challenges, retries what may pass, follows redirects, and gives up on requests that make
 * no progress. Thread-safe; one instance serves every request to its endpoint.
 *
 * <p>Security rules enforced here:
 * <ul>
 *   <li>credentials (Basic, or sent to a token service) only go over HTTPS, or plain HTTP to loopback;
 *   <li>redirects are followed here, not by the HTTP client, and {@code Authorization} is only sent to
 *       the origin it was meant for (Java's client has forwarded it across origins);
 *   <li>plain HTTP only for loopback hosts or registries configured insecure.
 * </ul>
 */
public final class Transport implements AutoCloseable {
    /** Statuses that may pass with time (distribution spec: 502-504; in practice also 408, 429, 500). */
    public static final Set<Integer> RETRY_STATUSES = Set.of(408, 429, 500, 502, 503, 504);
    private static final int ERROR_BODY_LIMIT = 64 * 1024;
    private static final int MAX_REDIRECTS = 10;
    /** Token responses are a few KiB (a JWT); a token service answering more is broken or hostile. */
    private static final int TOKEN_LIMIT = 1 << 20;
    private static final long DAY_SECONDS = 24 * 3600;
    private static final String USER_AGENT = "berth/0.1 (+https://github.com/berth)";

    private final Endpoint endpoint;
    private final RegistryConfig config;
    private final CredentialProvider credentials;
    private final Semaphore transfers;
    private final Map<String, Optional<Credentials>> credentialsByRepository = new ConcurrentHashMap<>();
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();

    private volatile URI base;
    private volatile Optional<Challenge> challenge = Optional.empty();
    private HttpClient plainClient;
    private HttpClient tlsClient;
    private final Optional<EnvProxySelector> proxies;

    static {
        // Java's HTTP client reads sockets, and request bodies from streams, in 16 KiB buffers by default;
        // blobs are large, and bigger buffers mean fewer trips through the client's (at first interpreted)
        // code: 256 KiB made a push of 90 MB a tenth less CPU than 64 KiB. Set before the client's first use.
        if (System.getProperty("jdk.httpclient.bufsize") == null) {
            System.setProperty("jdk.httpclient.bufsize", String.valueOf(256 * 1024));
        }
        // Java refuses Basic proxy authentication for HTTPS tunnels unless this property allows it, and reads it
        // once, when its HTTP client is first used: allow it now if the environment's proxy URL carries a password.
        if (System.getProperty("jdk.http.auth.tunneling.disabledSchemes") == null
                && java.util.stream.Stream.of("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
                        .map(System::getenv).anyMatch(v -> v != null && v.contains("@"))) {
            System.setProperty("jdk.http.auth.tunneling.disabledSchemes", "");
        }
    }

    public Transport(Endpoint endpoint, RegistryConfig config, CredentialProvider credentials) {
        this.endpoint = endpoint;
        this.config = config;
        this.credentials = credentials;
        this.transfers = new Semaphore(config.concurrency(endpoint.registry()), true);
        this.proxies = EnvProxySelector.fromEnvironment(config.environment());
        if (proxies.map(EnvProxySelector::hasCredentials).orElse(false)
                && System.getProperty("jdk.http.auth.tunneling.disabledSchemes") == null) {
            // too late if Java's HTTP client was used before in this JVM (see the static initializer)
            System.setProperty("jdk.http.auth.tunneling.disabledSchemes", "");
        }
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Caps the blob transfers in flight to this registry; acquire around each one. */
    public Semaphore transfers() {
        return transfers;
    }

    /** A name for messages: the registry, and the host when it differs. */
    public String describe() {
        return endpoint.mirror() || endpoint.registry().equals(endpoint.host())
                || endpoint.registry().equals(Reference.DOCKER_HUB) && endpoint.host().equals(Reference.DOCKER_HUB_HOST)
                ? endpoint.host() : endpoint.registry() + " (at " + endpoint.host() + ")";
    }

    // ------------------------------------------------------------------ requests

    /**
     * Sends a call, with authentication, retries and redirects. Returns any final response, successful or
     * not (the caller decides what a 404 means); throws {@link RegistryException} when no response came.
     */
    public <T> Response<T> execute(Call<T> call) {
        URI root = ready(call.progress());
        URI uri = call.uri().isAbsolute() ? call.uri() : root.resolve(call.uri());
        return run(call, uri);
    }

    /** The base URL once known ({@code https://host}); probes the endpoint when first asked. */
    public URI base(Progress progress) {
        return ready(progress);
    }

    private <T> Response<T> run(Call<T> call, URI uri) {
        RetryPolicy policy = config.retry();
        List<Scope> scopes = call.scopes();
        boolean authRetried = false;
        int failures = 0;
        while (true) {
            Optional<String> authorization = call.authenticate() ? authorization(scopes, call) : Optional.empty();
            Response<T> r;
            try {
                r = exchange(call, uri, authorization);
            } catch (IOException e) {
                failures++;
                if (call.retryIo() && failures < policy.attempts() && retryable(e)) {
                    Duration d = policy.backoff(failures);
                    call.progress().on(new ProgressEvent.Retrying(call.what(), failures, d, describe(e)));
                    sleep(d);
                    continue;
                }
                throw networkError(e);
            }
            if (r.status() == 401 && call.authenticate() && !authRetried) {
                authRetried = true;
                Optional<Challenge> c = Challenge.preferred(
                        Challenge.parse(r.headers().allValues("WWW-Authenticate")));
                if (c.isPresent()) {
                    Challenge ch = c.get();
                    if (ch.isBearer()) {
                        tokens.remove(tokenKey(ch, scopes));
                        List<Scope> wanted = ch.param("scope").map(Scope::parseAll).orElse(List.of());
                        scopes = Scope.merge(wanted, scopes);
                        tokens.remove(tokenKey(ch, scopes));
                    }
                    boolean changed = !challenge.equals(c);
                    challenge = c;
                    if (ch.isBearer() || changed || authorization.isEmpty()) {
                        continue;
                    }
                }
            }
            if (RETRY_STATUSES.contains(r.status()) && call.retryStatus()) {
                failures++;
                if (failures < policy.attempts()) {
                    Optional<Duration> after = Headers.retryAfter(r.headers(), Instant.now());
                    boolean exhausted = r.status() == 429 && after.isEmpty()
                            && Headers.rateLimit(r.headers(), "ratelimit-remaining").map(v -> v.count() == 0).orElse(false);
                    if (!exhausted && (after.isEmpty() || after.get().compareTo(policy.maxRetryAfter()) <= 0)) {
                        int n = failures;
                        Duration d = after.orElseGet(() -> policy.backoff(n));
                        call.progress().on(new ProgressEvent.Retrying(call.what(), failures, d, statusText(r.status())));
                        sleep(d);
                        continue;
                    }
                }
            }
            for (String w : Headers.warnings(r.headers())) {
                if (warned.add(w)) {
                    call.progress().on(new ProgressEvent.Warning(endpoint.host() + ": " + w));
                }
            }
            return r;
        }
    }

    /** One request and the redirects it leads to; {@code Authorization} only while on the first origin. */
    private <T> Response<T> exchange(Call<T> call, URI uri, Optional<String> authorization) throws IOException {
        URI current = uri;
        String method = call.method();
        boolean withBody = call.body().isPresent();
        for (int hop = 0; ; hop++) {
            boolean sameOrigin = Hosts.sameOrigin(uri, current);
            HttpRequest.Builder b = HttpRequest.newBuilder(current);
            Watchdog watchdog = new Watchdog(config.idleTimeout(), config.minSpeed());
            BodyPublisher publisher = withBody ? watchdog.watch(call.body().get().publisher())
                    : HttpRequest.BodyPublishers.noBody();
            b.method(method, publisher);
            call.headers().forEach(b::header);
            if (withBody) {
                b.header("Content-Type", call.body().get().contentType());
            }
            if (sameOrigin && authorization.isPresent()) {
                b.header("Authorization", authorization.get());
            }
            b.header("User-Agent", USER_AGENT);
            URI target = current;
            proxies.flatMap(p -> p.authorization(target)).ifPresent(v -> b.header("Proxy-Authorization", v));
            boolean https = current.getScheme().equalsIgnoreCase("https");
            b.version(https && !config.http1(endpoint.registry()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1);
            boolean followable = method.equals("GET") || method.equals("HEAD");
            HttpResponse<Payload<T>> resp = sendWatched(client(https), b.build(), info -> {
                int s = info.statusCode();
                if (followable && isRedirect(s) && info.headers().firstValue("Location").isPresent()) {
                    return BodySubscribers.replacing(new Payload<T>(Optional.empty(), new byte[0]));
                }
                if (s >= 200 && s < 300) {
                    return BodySubscribers.mapping(call.onSuccess().apply(info),
                            v -> new Payload<>(Optional.ofNullable(v), new byte[0]));
                }
                return BodySubscribers.mapping(BoundedBody.truncating(ERROR_BODY_LIMIT),
                        bytes -> new Payload<T>(Optional.empty(), bytes));
            }, watchdog);
            int status = resp.statusCode();
            if (followable && isRedirect(status) && resp.headers().firstValue("Location").isPresent()) {
                if (hop >= MAX_REDIRECTS) {
                    // a loop, not a passing fault: not retried; no query shown, as signed URLs carry secrets
                    throw new RegistryException(call.what() + ": " + Hosts.hostPort(uri) + " redirected " + method + " "
                            + uri.getRawPath() + " more than " + MAX_REDIRECTS + " times (the last time to "
                            + Hosts.hostPort(current) + current.getRawPath() + ")", Optional.of("TOO_MANY_REDIRECTS"),
                            OptionalInt.of(status), false, null);
                }
                URI next;
                try {
                    next = current.resolve(resp.headers().firstValue("Location").get().trim());
                } catch (IllegalArgumentException e) {
                    throw new IOException("invalid redirect Location from " + current + ": " + e.getMessage());
                }
                if (next.getScheme() == null || !(next.getScheme().equalsIgnoreCase("http")
                        || next.getScheme().equalsIgnoreCase("https"))) {
                    throw new IOException("redirect to an unsupported URL " + next);
                }
                current = next;
                continue;
            }
            // no body at all when the client answered itself (a 407 from a proxy it could not satisfy)
            Payload<T> p = resp.body() != null ? resp.body() : new Payload<>(Optional.empty(), new byte[0]);
            return new Response<>(status, resp.headers(), current, p.value(), p.error());
        }
    }

    private static boolean isRedirect(int s) {
        return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    }

    private record Payload<T>(Optional<T> value, byte[] error) {}

    /** Sends and waits, giving up (with a {@link Watchdog.Stalled}) when the exchange does not move. */
    private <X> HttpResponse<X> sendWatched(HttpClient client, HttpRequest request,
                                             HttpResponse.BodyHandler<X> handler, Watchdog watchdog)
            throws IOException {
        CompletableFuture<HttpResponse<X>> f = client.sendAsync(request, watchdog.watch(handler));
        try {
            return watchdog.await(f);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof CompletionStage<?> || cause instanceof java.util.concurrent.CompletionException) {
                cause = cause.getCause();
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (cause instanceof dev.berth.layers.BerthException be) {
                throw be;
            }
            // anything else is the HTTP client's own failure: report it as a broken exchange, not a crash
            throw new IOException("the HTTP client failed: " + cause, cause);
        }
    }

    /**
     * A subscriber for a body of at most {@code limit} bytes (manifests, token responses, tag lists); more is an
     * error naming {@code what}, and a {@code Content-Length} above the limit is refused before reading.
     */
    public static BodySubscriber<byte[]> bytesUpTo(HttpResponse.ResponseInfo info, int limit, String what) {
        return BoundedBody.upTo(info, limit, what);
    }

    /** The least progress that counts as progress: a window's worth of the minimum speed, at least a byte. */
    public long minimumProgress() {
        return Math.max(1, config.minSpeed() * config.idleTimeout().toMillis() / 1000);
    }

    // ------------------------------------------------------------------ clients and probing

    private HttpClient client(boolean https) {
        synchronized (lock) {
            if (https) {
                if (tlsClient == null) {
                    SSLContext ctx = endpoint.insecure() ? Tls.trustingEverything()
                            : Tls.context(caFiles());
                    tlsClient = newClient(ctx);
                }
                return tlsClient;
            }
            if (plainClient == null) {
                plainClient = newClient(Tls.unused());
            }
            return plainClient;
        }
    }

    private List<java.nio.file.Path> caFiles() {
        List<java.nio.file.Path> files = new ArrayList<>(Tls.caFiles(config.certDirectories(), endpoint.host()));
        if (!endpoint.registry().equals(endpoint.host())) {
            files.addAll(Tls.caFiles(config.certDirectories(), endpoint.registry()));
        }
        return files;
    }

    private HttpClient newClient(SSLContext ctx) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(config.connectTimeout())
                .sslContext(ctx);
        proxies.ifPresent(b::proxy);
        return b.build();
    }

    /**
     * Finds the scheme (trying each of the endpoint's in turn) with {@code GET /v2/}, and keeps the
     * authentication challenge it answers with. Done once; every request waits for it.
     */
    private URI ready(Progress progress) {
        URI b = base;
        if (b != null) {
            return b;
        }
        synchronized (this) {
            if (base != null) {
                return base;
            }
            List<String> schemes = endpoint.schemes();
            RegistryException last = null;
            for (int i = 0; i < schemes.size(); i++) {
                boolean more = i + 1 < schemes.size();
                URI candidate = endpoint.base(schemes.get(i));
                Call<Void> ping = Call.of("GET", candidate.resolve("/v2/"), List.of(), progress,
                        "connect to " + endpoint.host()).anonymous();
                Response<Void> r;
                try {
                    r = run(more ? ping.noRetries() : ping, candidate.resolve("/v2/"));
                } catch (RegistryException e) {
                    last = e;
                    if (more && (!(e.getCause() instanceof SSLHandshakeException h) || !certificateProblem(h))) {
                        continue;
                    }
                    throw e;
                }
                if (more && schemes.get(i).equals("http") && r.status() == 400) {
                    continue; // a TLS server answering plain HTTP ("Client sent an HTTP request to an HTTPS server")
                }
                if (r.status() >= 500 || r.status() == 407) {
                    throw errorOf(r, Optional.empty());
                }
                challenge = r.status() == 401
                        ? Challenge.preferred(Challenge.parse(r.headers().allValues("WWW-Authenticate")))
                        : Optional.empty();
                base = candidate;
                return candidate;
            }
            throw last != null ? last : new RegistryException("cannot connect to " + endpoint.host());
        }
    }

    // ------------------------------------------------------------------ authentication

    private record Token(String value, Instant expires) {
        boolean fresh() {
            return Instant.now().isBefore(expires);
        }
    }

    private Optional<Credentials> credentialsFor(List<Scope> scopes) {
        String repository = scopes.isEmpty() ? "" : scopes.getFirst().name();
        return credentialsByRepository.computeIfAbsent(repository,
                r -> credentials.find(endpoint.registry(), r));
    }

    /** Whether this request may carry credentials: HTTPS, or plain HTTP to this machine. */
    private boolean safeForCredentials(URI uri) {
        return uri.getScheme().equalsIgnoreCase("https") || Hosts.isLoopback(uri.getHost());
    }

    private Optional<String> authorization(List<Scope> scopes, Call<?> call) {
        Optional<Challenge> c = challenge;
        if (c.isEmpty()) {
            return Optional.empty();
        }
        Challenge ch = c.get();
        if (ch.isBasic()) {
            Optional<Credentials> creds = credentialsFor(scopes);
            if (creds.isEmpty()) {
                return Optional.empty();
            }
            if (!safeForCredentials(base)) {
                throw plainHttpRefusal(base);
            }
            return switch (creds.get()) {
                case Credentials.Basic basic -> Optional.of("Basic " + Base64.getEncoder().encodeToString(
                        (basic.username() + ":" + basic.password()).getBytes(StandardCharsets.UTF_8)));
                case Credentials.RegistryToken t -> Optional.of("Bearer " + t.token());
                case Credentials.IdentityToken t -> throw new RegistryException(endpoint.registry()
                        + " asks for a password (Basic auth) but only an identity token is stored; log in again");
            };
        }
        if (ch.isBearer()) {
            return Optional.of("Bearer " + token(ch, scopes, call));
        }
        return Optional.empty();
    }

    private RegistryException plainHttpRefusal(URI uri) {
        return new RegistryException("refusing to send credentials for " + endpoint.registry() + " to "
                + uri.getScheme() + "://" + Hosts.hostPort(uri) + " over plain HTTP (only loopback registries may "
                + "get credentials without TLS)");
    }

    private static String tokenKey(Challenge ch, List<Scope> scopes) {
        List<String> s = new ArrayList<>(scopes.stream().map(Scope::toString).toList());
        s.sort(null);
        return ch.param("realm").orElse("") + "|" + ch.param("service").orElse("") + "|" + String.join(" ", s);
    }

    private String token(Challenge ch, List<Scope> scopes, Call<?> call) {
        String key = tokenKey(ch, scopes);
        Token t = tokens.get(key);
        if (t != null && t.fresh()) {
            return t.value();
        }
        synchronized (tokens) {
            t = tokens.get(key);
            if (t != null && t.fresh()) {
                return t.value();
            }
            t = fetchToken(ch, scopes, call.progress());
            tokens.put(key, t);
            return t.value();
        }
    }

    /**
     * Asks the challenge's realm for a token (distribution token spec): GET with {@code service} and
     * {@code scope} parameters, Basic credentials when there are any; with an identity token, the OAuth2
     * POST ({@code grant_type=refresh_token}), falling back to GET when the service has no POST (404/405).
     */
    private Token fetchToken(Challenge ch, List<Scope> scopes, Progress progress) {
        String realmText = ch.param("realm").orElseThrow(() -> new RegistryException(endpoint.registry()
                + " asks for a bearer token but names no token service (realm)"));
        URI realm;
        try {
            realm = URI.create(realmText);
        } catch (IllegalArgumentException e) {
            throw new RegistryException(endpoint.registry() + ": invalid token realm " + realmText);
        }
        if (realm.getScheme() == null || realm.getHost() == null
                || !(realm.getScheme().equalsIgnoreCase("https") || realm.getScheme().equalsIgnoreCase("http"))) {
            throw new RegistryException(endpoint.registry() + ": invalid token realm " + realmText);
        }
        boolean plain = realm.getScheme().equalsIgnoreCase("http");
        if (plain && !Hosts.isLoopback(realm.getHost()) && !endpoint.insecure()
                && !base.getScheme().equalsIgnoreCase("http")) {
            throw new RegistryException(endpoint.registry() + ": the token service " + realmText
                    + " uses plain HTTP; mark the registry insecure to allow it");
        }
        Optional<Credentials> creds = credentialsFor(scopes);
        if (creds.isPresent() && creds.get() instanceof Credentials.RegistryToken rt) {
            return new Token(rt.token(), Instant.MAX);
        }
        if (creds.isPresent() && !safeForCredentials(realm)) {
            throw plainHttpRefusal(realm);
        }
        Optional<String> service = ch.param("service");
        String what = "get a token for " + endpoint.registry();
        Response<byte[]> r = null;
        if (creds.isPresent() && creds.get() instanceof Credentials.IdentityToken id) {
            StringBuilder form = new StringBuilder("grant_type=refresh_token&client_id=berth&refresh_token=")
                    .append(enc(id.token()));
            service.ifPresent(s -> form.append("&service=").append(enc(s)));
            if (!scopes.isEmpty()) {
                form.append("&scope=").append(enc(String.join(" ", scopes.stream().map(Scope::toString).toList())));
            }
            Call<byte[]> post = new Call<>("POST", realm, Map.of(), Optional.of(Body.bytes(
                    form.toString().getBytes(StandardCharsets.UTF_8), "application/x-www-form-urlencoded")),
                    List.of(), false, true, true, info -> bytesUpTo(info, TOKEN_LIMIT, "the answer of " + service(realm)),
                    progress, what);
            r = run(post, realm);
            if (r.status() == 404 || r.status() == 405) {
                r = null;
            }
        }
        if (r == null) {
            StringBuilder q = new StringBuilder();
            service.ifPresent(s -> q.append("service=").append(enc(s)));
            for (Scope s : scopes) {
                q.append(q.isEmpty() ? "" : "&").append("scope=").append(enc(s.toString()));
            }
            Call<byte[]> get = Call.of("GET", realm, List.of(), progress, what).anonymous()
                    .reading(info -> bytesUpTo(info, TOKEN_LIMIT, "the answer of " + service(realm)));
            if (creds.isPresent() && creds.get() instanceof Credentials.Basic basic) {
                q.append(q.isEmpty() ? "" : "&").append("account=").append(enc(basic.username()));
                get = get.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (basic.username() + ":" + basic.password()).getBytes(StandardCharsets.UTF_8)));
            }
            String sep = realm.getRawQuery() == null ? "?" : "&";
            URI uri = q.isEmpty() ? realm : URI.create(realm + sep + q);
            r = run(new Call<>(get.method(), uri, get.headers(), get.body(), get.scopes(), false, true, true,
                    get.onSuccess(), progress, what), uri);
        }
        if (!r.ok()) {
            RegistryException e = errorOf(r, creds);
            if (r.status() == 401 || r.status() == 403) {
                String who = creds.map(c -> c instanceof Credentials.Basic b ? " as " + b.username() : "").orElse("");
                throw new RegistryException("the token service of " + endpoint.registry() + " refused access" + who
                        + ": " + e.getMessage(), e.code().or(() -> Optional.of("UNAUTHORIZED")), OptionalInt.of(r.status()),
                        false, e);
            }
            throw e.withContext("token service " + realm.getHost());
        }
        return parseToken(r, realm);
    }

    /** The token service named in messages: its URL without the query (which holds scopes and accounts). */
    private static String service(URI realm) {
        return "the token service " + realm.getScheme() + "://" + Hosts.hostPort(realm)
                + (realm.getRawPath() == null ? "" : realm.getRawPath());
    }

    /**
     * The token in a token service's answer: {@code token} (or OAuth2's {@code access_token}) and
     * {@code expires_in} (at least 60 s, as the spec says, and at most a day). The token must be something
     * that can go into a header; anything else the service answers is an error naming it.
     */
    private static Token parseToken(Response<byte[]> r, URI realm) {
        JsonNode n;
        try {
            n = dev.berth.layers.Json.mapper().readTree(r.body().orElse(new byte[0]));
        } catch (IOException e) {
            String type = Headers.contentType(r.headers()).orElse("no Content-Type");
            throw new RegistryException(service(realm) + " answered invalid JSON (" + type + ")", e);
        }
        String token = n.path("token").isTextual() ? n.path("token").asText() : "";
        if (token.isEmpty() && n.path("access_token").isTextual()) {
            token = n.path("access_token").asText();
        }
        if (token.isEmpty()) {
            throw new RegistryException(service(realm) + " answered without a token");
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new RegistryException(service(realm) + " answered a token with characters an HTTP header cannot carry");
        }
        long expiresIn = Math.min(DAY_SECONDS, Math.max(60, n.path("expires_in").asLong(60)));
        // Renew a little early so that a token does not expire in the middle of a request.
        long margin = Math.min(30, expiresIn / 10);
        return new Token(token, Instant.now().plusSeconds(expiresIn - margin));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ errors

    /**
     * The error a response stands for: the registry's code and message when it sent the spec's error body,
     * else a description of the status; a hint to log in when access was anonymous.
     */
    public RegistryException error(Response<?> r, List<Scope> scopes) {
        Optional<Credentials> creds = challenge.isPresent() ? credentialsFor(scopes) : Optional.empty();
        return errorOf(r, creds);
    }

    private RegistryException errorOf(Response<?> r, Optional<Credentials> creds) {
        ErrorBody body = ErrorBody.parse(r.errorBody());
        int s = r.status();
        Optional<String> code = body.firstCode().or(() -> Optional.ofNullable(switch (s) {
            case 401 -> "UNAUTHORIZED";
            case 403 -> "DENIED";
            case 429 -> "TOOMANYREQUESTS";
            default -> null;
        }));
        String message = body.describe().orElseGet(() -> switch (s) {
            case 401 -> "authentication required (UNAUTHORIZED)";
            case 403 -> "access denied (DENIED)";
            case 404 -> "not found (HTTP 404)";
            case 407 -> "the proxy refused the connection to " + endpoint.host() + " (HTTP 407 Proxy Authentication "
                    + "Required); give its user and password in the proxy URL (http://user:password@proxy:port)";
            case 429 -> "too many requests (TOOMANYREQUESTS)";
            case 301, 302, 303, 307, 308 -> "unexpected redirect (" + statusText(s) + ") from " + Hosts.hostPort(r.uri())
                    + r.headers().firstValue("Location").map(l -> " to " + redirectTarget(r.uri(), l)).orElse("")
                    + " (only downloads are redirected)";
            default -> statusText(s) + " from " + Hosts.hostPort(r.uri());
        });
        if ((s == 401 || s == 403) && creds.isEmpty() && !endpoint.mirror()) {
            message += "; not logged in to " + endpoint.registry() + " (berth login "
                    + (endpoint.registry().equals(Reference.DOCKER_HUB) ? "" : endpoint.registry()) + ")";
            message = message.replace("(berth login )", "(berth login)");
        }
        if (s == 429) {
            message = rateLimitMessage(r, message);
        }
        return new RegistryException(message, code, OptionalInt.of(s), RETRY_STATUSES.contains(s), null);
    }

    /** A plain explanation of a 429: the limit, when it resets if the registry said, and what helps. */
    private String rateLimitMessage(Response<?> r, String message) {
        Optional<Duration> after = Headers.retryAfter(r.headers(), Instant.now());
        Optional<Headers.RateLimitValue> limit = Headers.rateLimit(r.headers(), "ratelimit-limit");
        boolean hub = endpoint.registry().equals(Reference.DOCKER_HUB) && !endpoint.mirror();
        StringBuilder b = new StringBuilder(hub ? "Docker Hub's pull rate limit is reached" : "the registry's rate limit is reached");
        limit.ifPresent(l -> b.append(" (").append(l.count()).append(" pulls")
                .append(l.window().map(w -> " per " + human(w)).orElse("")).append(")"));
        if (after.isPresent()) {
            b.append("; it resets in ").append(human(after.get()));
        } else if (limit.flatMap(Headers.RateLimitValue::window).isPresent()) {
            b.append("; it resets within ").append(human(limit.get().window().get()));
        }
        if (hub) {
            b.append("; logged-in users get a higher limit (berth login)");
        }
        String code = message.contains("(TOOMANYREQUESTS)") ? "" : " (TOOMANYREQUESTS)";
        return b + ": " + message + code;
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 120) {
            return s + " s";
        }
        if (s < 2 * 3600) {
            return (s + 59) / 60 + " min";
        }
        return s % 3600 == 0 ? s / 3600 + " h" : String.format(java.util.Locale.ROOT, "%.1f h", s / 3600.0);
    }

    /** Where a {@code Location} points, for messages: host and path, without the query (signatures). */
    private static String redirectTarget(URI from, String location) {
        try {
            URI to = from.resolve(location.trim());
            return Hosts.hostPort(to) + (to.getRawPath() == null ? "" : to.getRawPath());
        } catch (IllegalArgumentException e) {
            return "an invalid URL";
        }
    }

    static String statusText(int status) {
        String reason = switch (status) {
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 303 -> "See Other";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 407 -> "Proxy Authentication Required";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Payload Too Large";
            case 416 -> "Range Not Satisfiable";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "";
        };
        return ("HTTP " + status + " " + reason).trim();
    }

    /** Whether a network error may pass: not a refused connection, an unknown host or a rejected certificate. */
    public static boolean retryable(IOException e) {
        if (e instanceof HttpConnectTimeoutException) {
            return true;
        }
        if (e instanceof ConnectException || e instanceof UnknownHostException) {
            return false;
        }
        if (e instanceof SSLHandshakeException) {
            return false;
        }
        return !(e instanceof InterruptedIOException) || e instanceof HttpTimeoutException;
    }

    private static boolean certificateProblem(SSLHandshakeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof java.security.cert.CertPathValidatorException) {
                return true;
            }
        }
        return false;
    }

    /** What a network error means, in words. */
    public String describe(IOException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (e instanceof HttpConnectTimeoutException) {
            return "connection timed out";
        }
        if (e instanceof HttpTimeoutException) {
            return e.getMessage() == null ? "timed out" : e.getMessage();
        }
        if (root instanceof UnresolvedAddressException || root instanceof UnknownHostException) {
            return "unknown host";
        }
        if (e instanceof ConnectException || root instanceof ConnectException) {
            return "connection refused";
        }
        String m = root.getMessage() != null ? root.getMessage() : e.getMessage();
        return m == null || m.isBlank() ? root.getClass().getSimpleName() : m;
    }

    /** A network failure as an error naming the host. */
    public RegistryException networkError(IOException e) {
        if (e instanceof SSLHandshakeException h && certificateProblem(h)) {
            return new RegistryException("TLS: the certificate of " + endpoint.host() + " is not trusted ("
                    + describe(e) + "); put the CA certificate in " + certsHint()
                    + ", or configure the registry as insecure", Optional.empty(), OptionalInt.empty(), false, e);
        }
        if (e instanceof SSLException) {
            return new RegistryException("TLS with " + endpoint.host() + " failed: " + describe(e)
                    + (endpoint.loopback() || endpoint.insecure() ? "" : " (if it speaks plain HTTP, configure it as insecure)"),
                    Optional.empty(), OptionalInt.empty(), false, e);
        }
        String what = e instanceof ConnectException || e instanceof HttpConnectTimeoutException
                || e.getCause() instanceof ConnectException ? "cannot connect to " : "connection to ";
        String tail = what.startsWith("cannot") ? "" : " failed";
        return new RegistryException(what + endpoint.host() + tail + ": " + describe(e), Optional.empty(),
                OptionalInt.empty(), retryable(e), e);
    }

    private String certsHint() {
        String h = endpoint.host().replace("[", "").replace("]", "");
        List<java.nio.file.Path> dirs = config.certDirectories();
        return dirs.isEmpty() ? "certs.d/" + h + "/ca.crt"
                : dirs.getFirst().resolve(h).resolve("ca.crt") + (dirs.size() > 1 ? " (or " + dirs.get(1).resolve(h).resolve("ca.crt") + ")" : "");
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted", e);
        }
    }

    /** Waits {@code d}; for callers with their own retry loops. */
    public static void pause(Duration d) {
        sleep(d);
    }

    public RetryPolicy retryPolicy() {
        return config.retry();
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (plainClient != null) {
                plainClient.close();
            }
            if (tlsClient != null) {
                tlsClient.close();
            }
        }
    }
}
