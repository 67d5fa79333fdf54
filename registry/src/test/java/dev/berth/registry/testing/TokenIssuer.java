package dev.berth.registry.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A token service as in distribution's token auth spec (what {@code auth.docker.io} is to Docker Hub): it
 * answers {@code GET /token?service=&scope=} (anonymous or with Basic credentials) and the OAuth2
 * {@code POST /token} (password and refresh_token grants) with JWTs signed by a test key whose certificate
 * the registry trusts ({@code auth.token.rootcertbundle}). It records every request for assertions.
 */
public final class TokenIssuer implements AutoCloseable {
    /** A scope someone asked for. */
    public record Requested(String type, String name, Set<String> actions) {}

    /** Which actions a user (empty: anonymous) gets of what was asked. */
    @FunctionalInterface
    public interface Policy {
        Set<String> grant(Optional<String> user, Requested scope);
    }

    /** One request to the token service. */
    public record Request(String method, Optional<String> user, List<String> scopes, Optional<String> grantType,
                          Optional<String> service) {}

    /** Anonymous users may pull anything; users with a password may do what they ask. */
    public static final Policy PULL_ANONYMOUS = (user, scope) -> user.isPresent() ? scope.actions()
            : intersect(scope.actions(), Set.of("pull"));

    /** Only users with a password get anything. */
    public static final Policy USERS_ONLY = (user, scope) -> user.isPresent() ? scope.actions() : Set.of();

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpServer server;
    private final TestCerts.KeyPair key;
    private final String service;
    private final Map<String, String> users = new ConcurrentHashMap<>();
    private final Map<String, String> refreshTokens = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private volatile Policy policy = PULL_ANONYMOUS;
    private volatile Duration expiresIn = Duration.ofMinutes(5);
    private volatile Duration lifetime = Duration.ofMinutes(5);
    private volatile boolean oauthPost = true;
    private final java.util.concurrent.atomic.AtomicInteger expired = new java.util.concurrent.atomic.AtomicInteger();

    private TokenIssuer(HttpServer server, TestCerts.KeyPair key, String service) {
        this.server = server;
        this.key = key;
        this.service = service;
    }

    /** Starts an issuer on a free loopback port with a fresh signing key in {@code dir}. */
    public static TokenIssuer start(Path dir, String service) {
        TestCerts.KeyPair key = TestCerts.selfSigned(dir, "token-signer");
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            TokenIssuer issuer = new TokenIssuer(s, key, service);
            s.createContext("/token", issuer::handle);
            s.setExecutor(Executors.newCachedThreadPool());
            s.start();
            return issuer;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public TokenIssuer user(String name, String password) {
        users.put(name, password);
        return this;
    }

    public TokenIssuer policy(Policy p) {
        policy = p;
        return this;
    }

    /**
     * What {@code expires_in} says, and how long tokens are really valid; a token that lives shorter than
     * announced makes the registry reject a cached one.
     */
    public TokenIssuer lifetime(Duration announced, Duration real) {
        expiresIn = announced;
        lifetime = real;
        return this;
    }

    /**
     * The next {@code n} tokens are already expired when issued (while {@code expires_in} says otherwise): the
     * registry rejects them, as it rejects a cached token after a key rotation or a clock jump.
     */
    public TokenIssuer expireNext(int n) {
        expired.set(n);
        return this;
    }

    /** Whether the OAuth2 POST is served (404 otherwise, as some token services do). */
    public TokenIssuer oauthPost(boolean enabled) {
        oauthPost = enabled;
        return this;
    }

    /** A refresh token (docker's identity token) for a user, as a login with {@code access_type=offline} gives. */
    public String refreshToken(String user) {
        String t = "refresh-" + UUID.randomUUID();
        refreshTokens.put(t, user);
        return t;
    }

    public URI realm() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/token");
    }

    public String service() {
        return service;
    }

    public String issuerName() {
        return "berth-test-issuer";
    }

    public Path certificate() {
        return key.certificate();
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public void clearRequests() {
        requests.clear();
    }

    /** A token granting {@code actions} on a repository, for test code that talks to the registry itself. */
    public String mint(String user, String repository, Set<String> actions) {
        return sign(Optional.of(user), List.of(new Requested("repository", repository, actions)), lifetime);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Map<String, List<String>> params = new LinkedHashMap<>(query(ex.getRequestURI().getRawQuery()));
            String method = ex.getRequestMethod();
            Optional<String> user = Optional.empty();
            Optional<String> grant = Optional.empty();
            boolean offline = false;
            if (method.equals("POST")) {
                if (!oauthPost) {
                    requests.add(new Request(method, Optional.empty(), List.of(), Optional.empty(), Optional.empty()));
                    reply(ex, 404, "{\"details\":\"not found\"}");
                    return;
                }
                params.putAll(query(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
                grant = first(params, "grant_type");
                offline = first(params, "access_type").map("offline"::equals).orElse(false);
                if (grant.equals(Optional.of("refresh_token"))) {
                    String u = refreshTokens.get(first(params, "refresh_token").orElse(""));
                    if (u == null) {
                        requests.add(new Request(method, Optional.empty(), scopes(params, true), grant, first(params, "service")));
                        reply(ex, 401, "{\"details\":\"invalid refresh token\"}");
                        return;
                    }
                    user = Optional.of(u);
                } else if (grant.equals(Optional.of("password"))) {
                    String u = first(params, "username").orElse("");
                    if (!first(params, "password").orElse("").equals(users.get(u))) {
                        requests.add(new Request(method, Optional.empty(), scopes(params, true), grant, first(params, "service")));
                        reply(ex, 401, "{\"details\":\"incorrect username or password\"}");
                        return;
                    }
                    user = Optional.of(u);
                } else {
                    reply(ex, 400, "{\"details\":\"unsupported grant_type\"}");
                    return;
                }
            } else {
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                if (auth != null && auth.startsWith("Basic ")) {
                    String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
                    int colon = decoded.indexOf(':');
                    String u = decoded.substring(0, colon);
                    if (!decoded.substring(colon + 1).equals(users.get(u))) {
                        requests.add(new Request(method, Optional.of(u), scopes(params, false), grant, first(params, "service")));
                        reply(ex, 401, "{\"details\":\"incorrect username or password\"}");
                        return;
                    }
                    user = Optional.of(u);
                }
            }
            List<String> asked = scopes(params, method.equals("POST"));
            requests.add(new Request(method, user, asked, grant, first(params, "service")));
            if (!first(params, "service").map(service::equals).orElse(true)) {
                reply(ex, 400, "{\"details\":\"unknown service\"}");
                return;
            }
            List<Requested> granted = new ArrayList<>();
            for (String s : asked) {
                Requested r = parse(s);
                Set<String> actions = policy.grant(user, r);
                if (!actions.isEmpty()) {
                    granted.add(new Requested(r.type(), r.name(), actions));
                }
            }
            Duration life = expired.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? Duration.ofHours(-2) : lifetime;
            String token = sign(user, granted, life);
            ObjectNode body = MAPPER.createObjectNode();
            body.put("token", token);
            body.put("access_token", token);
            body.put("expires_in", expiresIn.toSeconds());
            body.put("issued_at", Instant.now().toString());
            if (offline && user.isPresent()) {
                body.put("refresh_token", refreshToken(user.get()));
            }
            reply(ex, 200, body.toString());
        } catch (RuntimeException e) {
            reply(ex, 500, "{\"details\":\"" + e + "\"}");
        }
    }

    private static List<String> scopes(Map<String, List<String>> params, boolean spaceSeparated) {
        List<String> out = new ArrayList<>();
        for (String s : params.getOrDefault("scope", List.of())) {
            if (spaceSeparated) {
                for (String part : s.split(" ")) {
                    if (!part.isBlank()) {
                        out.add(part);
                    }
                }
            } else {
                out.add(s);
            }
        }
        return out;
    }

    private static Requested parse(String scope) {
        int first = scope.indexOf(':');
        int last = scope.lastIndexOf(':');
        Set<String> actions = new LinkedHashSet<>(List.of(scope.substring(last + 1).split(",")));
        return new Requested(scope.substring(0, first), scope.substring(first + 1, last), actions);
    }

    private String sign(Optional<String> user, List<Requested> access, Duration life) {
        long now = Instant.now().getEpochSecond();
        try {
            ObjectNode header = MAPPER.createObjectNode();
            header.put("typ", "JWT");
            header.put("alg", "RS256");
            header.putArray("x5c").add(Base64.getEncoder().encodeToString(key.x509().getEncoded()));
            ObjectNode claims = MAPPER.createObjectNode();
            claims.put("iss", issuerName());
            claims.put("sub", user.orElse(""));
            claims.put("aud", service);
            claims.put("exp", now + life.toSeconds());
            claims.put("nbf", Math.min(now, now + life.toSeconds()) - 10);
            claims.put("iat", Math.min(now, now + life.toSeconds()) - 10);
            claims.put("jti", UUID.randomUUID().toString());
            ArrayNode a = claims.putArray("access");
            for (Requested r : access) {
                ObjectNode o = a.addObject();
                o.put("type", r.type());
                o.put("name", r.name());
                ArrayNode actions = o.putArray("actions");
                r.actions().forEach(actions::add);
            }
            Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
            String signingInput = url.encodeToString(MAPPER.writeValueAsBytes(header)) + "."
                    + url.encodeToString(MAPPER.writeValueAsBytes(claims));
            Signature sig = Signature.getInstance("SHA256withRSA");
            sig.initSign(key.privateKey());
            sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + url.encodeToString(sig.sign());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot sign a token: " + e.getMessage(), e);
        }
    }

    private static Optional<String> first(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.getFirst());
    }

    private static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    private static Set<String> intersect(Set<String> a, Set<String> b) {
        Set<String> out = new LinkedHashSet<>(a);
        out.retainAll(b);
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
