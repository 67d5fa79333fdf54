package dev.berth.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.BerthHome;
import dev.berth.layers.Json;
import dev.berth.layers.Reference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How berth reaches registries. Read by {@link #fromEnvironment()} from berth's config directory and the
 * environment; built by {@link #builder()} by programs that embed berth.
 *
 * <p>The config directory is {@code $BERTH_CONFIG_DIR}, else {@code $XDG_CONFIG_HOME/berth}, else
 * {@code ~/.config/berth}. It may hold:
 * <ul>
 *   <li>{@code registries.json}: {@code {"mirrors": [...], "insecure": [...], "concurrency": 4,
 *       "chunkSize": "32MiB", "monolithicLimit": "32MiB", "timeout": 120, "minSpeed": "1KiB", "http1": false,
 *       "registries": {"HOST[:PORT]": {"endpoint": "URL", "insecure": true, "chunkSize": ..., "monolithicLimit":
 *       ..., "concurrency": ..., "http1": true}}}}; every key is optional, unknown keys are errors;
 *   <li>{@code certs.d/HOST[:PORT]/*.crt}: extra CA certificates for one registry, as in
 *       {@code /etc/docker/certs.d}, which is read too.
 * </ul>
 * Environment: {@code BERTH_REGISTRY_MIRRORS} (comma-separated docker.io mirrors, tried before the
 * configured ones), {@code BERTH_INSECURE_REGISTRIES} (comma-separated hosts that may use plain HTTP or
 * unverified TLS), {@code HTTPS_PROXY}/{@code HTTP_PROXY}/{@code NO_PROXY} (and lowercase forms).
 *
 * @param environment the variables proxies and credential files are found with
 * @param configDirectory berth's config directory (it need not exist)
 * @param mirrors docker.io mirrors in order, as URLs or {@code host[:port]}
 * @param registries per-registry settings by {@code host[:port]} ({@code docker.io} for Docker Hub)
 * @param concurrency blobs transferred at once per registry
 * @param chunkSize bytes per PATCH when a blob is uploaded in chunks
 * @param monolithicLimit blobs up to this size are uploaded in one request
 * @param retry the retry policy
 * @param connectTimeout how long to wait for a connection
 * @param idleTimeout how long a request may make no progress before it is abandoned (and retried)
 * @param minSpeed bytes a second a transfer must average over each window of {@code idleTimeout}, or it is
 *     abandoned (and retried or resumed) as a stalled one is: a body that trickles a byte now and then never
 *     trips the idle timeout; 0 for no such rule
 * @param certDirectories directories of {@code HOST[:PORT]/*.crt} CA files, in order
 * @param cacheDirectory where berth remembers which repositories hold which blobs (for cross-repository
 *     mounts); empty to not remember
 * @param tagPageSize the {@code n} asked for per page of a tag list (0: let the registry choose)
 * @param http1 use HTTP/1.1 only, never HTTP/2
 */
public record RegistryConfig(
        Map<String, String> environment,
        Optional<Path> configDirectory,
        List<String> mirrors,
        Map<String, RegistrySettings> registries,
        int concurrency,
        long chunkSize,
        long monolithicLimit,
        RetryPolicy retry,
        Duration connectTimeout,
        Duration idleTimeout,
        long minSpeed,
        List<Path> certDirectories,
        Optional<Path> cacheDirectory,
        int tagPageSize,
        boolean http1) {

    public static final String CONFIG_FILE = "registries.json";
    public static final int DEFAULT_CONCURRENCY = 4;
    public static final long DEFAULT_CHUNK_SIZE = 32L << 20;
    public static final long DEFAULT_MONOLITHIC_LIMIT = 32L << 20;
    /** 1 KiB/s: far below any real link (a 2G modem moves ten times that), far above a trickle. */
    public static final long DEFAULT_MIN_SPEED = 1 << 10;

    public RegistryConfig {
        environment = Map.copyOf(environment);
        mirrors = List.copyOf(mirrors);
        registries = Map.copyOf(registries);
        certDirectories = List.copyOf(certDirectories);
        if (concurrency < 1) {
            throw new RegistryException("registry concurrency must be at least 1, not " + concurrency);
        }
        if (minSpeed < 0) {
            throw new RegistryException("the minimum speed must not be negative, not " + minSpeed);
        }
        if (chunkSize < 1 || monolithicLimit < 0) {
            throw new RegistryException("chunk size must be positive and the monolithic limit not negative");
        }
    }

    /**
     * Settings for one registry, each falling back to the global one when absent.
     *
     * @param endpoint where to connect instead of the registry's own host ({@code https://host:port},
     *     {@code http://127.0.0.1:5000}); for {@code docker.io} this replaces {@code registry-1.docker.io}
     * @param insecure plain HTTP and unverified TLS are allowed (credentials are still never sent over plain
     *     HTTP except to loopback)
     */
    public record RegistrySettings(Optional<String> endpoint, boolean insecure, OptionalLong chunkSize,
                                   OptionalLong monolithicLimit, OptionalInt concurrency, boolean http1) {
        public static final RegistrySettings NONE = new RegistrySettings(Optional.empty(), false,
                OptionalLong.empty(), OptionalLong.empty(), OptionalInt.empty(), false);

        public RegistrySettings withInsecure(boolean value) {
            return new RegistrySettings(endpoint, value, chunkSize, monolithicLimit, concurrency, http1);
        }

        public RegistrySettings withEndpoint(String value) {
            return new RegistrySettings(Optional.of(value), insecure, chunkSize, monolithicLimit, concurrency, http1);
        }
    }

    /** The settings for a registry ({@code docker.io} or {@code host[:port]}). */
    public RegistrySettings settings(String registry) {
        return registries.getOrDefault(normaliseRegistry(registry), RegistrySettings.NONE);
    }

    public int concurrency(String registry) {
        return settings(registry).concurrency().orElse(concurrency);
    }

    public long chunkSize(String registry) {
        return settings(registry).chunkSize().orElse(chunkSize);
    }

    public long monolithicLimit(String registry) {
        return settings(registry).monolithicLimit().orElse(monolithicLimit);
    }

    public boolean http1(String registry) {
        return http1 || settings(registry).http1();
    }

    // ------------------------------------------------------------------ loading

    /** The configuration from the process environment and berth's config directory. */
    public static RegistryConfig fromEnvironment() {
        return load(System.getenv(), Optional.of(BerthHome.fromEnvironment().cache().resolve("registry")));
    }

    /**
     * The configuration from {@code environment} (as if it were the process environment) and the config
     * directory it names; {@code cacheDirectory} as given.
     */
    public static RegistryConfig load(Map<String, String> environment, Optional<Path> cacheDirectory) {
        Path dir = configDirectory(environment);
        Builder b = builder().environment(environment).configDirectory(dir).cacheDirectory(cacheDirectory)
                .certDirectories(List.of(dir.resolve("certs.d"), Path.of("/etc/docker/certs.d"),
                        Path.of("/etc/containers/certs.d")));
        List<String> mirrors = new ArrayList<>(splitList(environment.get("BERTH_REGISTRY_MIRRORS")));
        Set<String> insecure = new LinkedHashSet<>(splitList(environment.get("BERTH_INSECURE_REGISTRIES")));
        Path file = dir.resolve(CONFIG_FILE);
        byte[] bytes = null;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            // no file: defaults
        } catch (IOException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (bytes != null) {
            readFile(file, bytes, b, mirrors, insecure);
        }
        b.mirrors(mirrors);
        for (String host : insecure) {
            String key = normaliseRegistry(host);
            b.registries.put(key, b.registries.getOrDefault(key, RegistrySettings.NONE).withInsecure(true));
        }
        return b.build();
    }

    /** {@code $BERTH_CONFIG_DIR}, else {@code $XDG_CONFIG_HOME/berth}, else {@code ~/.config/berth}. */
    public static Path configDirectory(Map<String, String> env) {
        String explicit = env.get("BERTH_CONFIG_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath();
        }
        String xdg = env.get("XDG_CONFIG_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "berth");
        }
        return home(env).resolve(".config").resolve("berth");
    }

    /** {@code $HOME}, else the JVM's idea of the user's home. */
    public static Path home(Map<String, String> env) {
        String home = env.get("HOME");
        return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"));
    }

    private static final Set<String> TOP_KEYS = Set.of("mirrors", "insecure", "registries", "concurrency",
            "chunkSize", "monolithicLimit", "timeout", "minSpeed", "http1", "tagPageSize");
    private static final Set<String> REGISTRY_KEYS = Set.of("endpoint", "insecure", "chunkSize",
            "monolithicLimit", "concurrency", "http1");

    private static void readFile(Path file, byte[] bytes, Builder b, List<String> mirrors, Set<String> insecure) {
        JsonNode root = Json.read(bytes, JsonNode.class, file.toString());
        String what = file.toString();
        if (!root.isObject()) {
            throw new RegistryException(what + ": expected a JSON object");
        }
        checkKeys(root, TOP_KEYS, what);
        for (JsonNode m : array(root, "mirrors", what)) {
            mirrors.add(text(m, what + ": mirrors"));
        }
        for (JsonNode h : array(root, "insecure", what)) {
            insecure.add(text(h, what + ": insecure"));
        }
        if (root.has("concurrency")) {
            b.concurrency(integer(root.get("concurrency"), what + ": concurrency"));
        }
        if (root.has("chunkSize")) {
            b.chunkSize(size(root.get("chunkSize"), what + ": chunkSize"));
        }
        if (root.has("monolithicLimit")) {
            b.monolithicLimit(size(root.get("monolithicLimit"), what + ": monolithicLimit"));
        }
        if (root.has("timeout")) {
            b.idleTimeout(Duration.ofSeconds(integer(root.get("timeout"), what + ": timeout")));
        }
        if (root.has("minSpeed")) {
            b.minSpeed(size(root.get("minSpeed"), what + ": minSpeed"));
        }
        if (root.has("http1")) {
            b.http1(bool(root.get("http1"), what + ": http1"));
        }
        if (root.has("tagPageSize")) {
            b.tagPageSize(integer(root.get("tagPageSize"), what + ": tagPageSize"));
        }
        JsonNode regs = root.get("registries");
        if (regs != null) {
            if (!regs.isObject()) {
                throw new RegistryException(what + ": registries must be an object of host: settings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = regs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String w = what + ": registries." + e.getKey();
                JsonNode s = e.getValue();
                if (!s.isObject()) {
                    throw new RegistryException(w + ": expected an object");
                }
                checkKeys(s, REGISTRY_KEYS, w);
                RegistrySettings settings = new RegistrySettings(
                        s.has("endpoint") ? Optional.of(text(s.get("endpoint"), w + ".endpoint")) : Optional.empty(),
                        s.has("insecure") && bool(s.get("insecure"), w + ".insecure"),
                        s.has("chunkSize") ? OptionalLong.of(size(s.get("chunkSize"), w + ".chunkSize"))
                                : OptionalLong.empty(),
                        s.has("monolithicLimit")
                                ? OptionalLong.of(size(s.get("monolithicLimit"), w + ".monolithicLimit"))
                                : OptionalLong.empty(),
                        s.has("concurrency") ? OptionalInt.of(integer(s.get("concurrency"), w + ".concurrency"))
                                : OptionalInt.empty(),
                        s.has("http1") && bool(s.get("http1"), w + ".http1"));
                b.registries.put(normaliseRegistry(e.getKey()), settings);
            }
        }
    }

    private static void checkKeys(JsonNode node, Set<String> known, String what) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new RegistryException(what + ": unknown setting \"" + k + "\" (known: "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private static List<JsonNode> array(JsonNode root, String key, String what) {
        JsonNode n = root.get(key);
        if (n == null) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new RegistryException(what + ": " + key + " must be a list");
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

    private static String text(JsonNode n, String what) {
        if (!n.isTextual() || n.asText().isBlank()) {
            throw new RegistryException(what + ": expected a non-empty string");
        }
        return n.asText().trim();
    }

    private static int integer(JsonNode n, String what) {
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new RegistryException(what + ": expected a whole number");
        }
        return n.asInt();
    }

    private static boolean bool(JsonNode n, String what) {
        if (!n.isBoolean()) {
            throw new RegistryException(what + ": expected true or false");
        }
        return n.asBoolean();
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg]i?b?|b)?", Pattern.CASE_INSENSITIVE);

    /** A byte size: a number, or a number with B, KB/KiB, MB/MiB, GB/GiB (all powers of 1024). */
    static long size(JsonNode n, String what) {
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        if (n.isTextual()) {
            Matcher m = SIZE.matcher(n.asText().trim());
            if (m.matches()) {
                long v = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
                return switch (unit.charAt(0)) {
                    case 'k' -> v << 10;
                    case 'm' -> v << 20;
                    case 'g' -> v << 30;
                    default -> v;
                };
            }
        }
        throw new RegistryException(what + ": expected a size such as 4194304 or \"4MiB\"");
    }

    private static List<String> splitList(String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String s : value.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    /**
     * The registry name a user typed, normalised: scheme and path dropped, lowercase, and Docker Hub's
     * aliases ({@code index.docker.io}, {@code registry-1.docker.io}, {@code https://index.docker.io/v1/})
     * as {@code docker.io}.
     */
    public static String normaliseRegistry(String text) {
        String s = text.trim();
        int scheme = s.indexOf("://");
        if (scheme >= 0) {
            s = s.substring(scheme + 3);
        }
        int slash = s.indexOf('/');
        if (slash >= 0) {
            s = s.substring(0, slash);
        }
        s = s.toLowerCase(Locale.ROOT);
        if (s.isEmpty()) {
            throw new RegistryException("invalid registry \"" + text + "\"");
        }
        return switch (s) {
            case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" ->
                    Reference.DOCKER_HUB;
            default -> s;
        };
    }

    // ------------------------------------------------------------------ building

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.environment = environment;
        b.configDirectory = configDirectory;
        b.mirrors = new ArrayList<>(mirrors);
        b.registries = new LinkedHashMap<>(registries);
        b.concurrency = concurrency;
        b.chunkSize = chunkSize;
        b.monolithicLimit = monolithicLimit;
        b.retry = retry;
        b.connectTimeout = connectTimeout;
        b.idleTimeout = idleTimeout;
        b.minSpeed = minSpeed;
        b.certDirectories = certDirectories;
        b.cacheDirectory = cacheDirectory;
        b.tagPageSize = tagPageSize;
        b.http1 = http1;
        return b;
    }

    /** Builds a configuration; every setting starts at berth's default. */
    public static final class Builder {
        private Map<String, String> environment = Map.of();
        private Optional<Path> configDirectory = Optional.empty();
        private List<String> mirrors = new ArrayList<>();
        private Map<String, RegistrySettings> registries = new LinkedHashMap<>();
        private int concurrency = DEFAULT_CONCURRENCY;
        private long chunkSize = DEFAULT_CHUNK_SIZE;
        private long monolithicLimit = DEFAULT_MONOLITHIC_LIMIT;
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private Duration connectTimeout = Duration.ofSeconds(30);
        private Duration idleTimeout = Duration.ofSeconds(120);
        private long minSpeed = DEFAULT_MIN_SPEED;
        private List<Path> certDirectories = List.of(Path.of("/etc/docker/certs.d"));
        private Optional<Path> cacheDirectory = Optional.empty();
        private int tagPageSize = 1000;
        private boolean http1;

        private Builder() {}

        public Builder environment(Map<String, String> value) {
            environment = value;
            return this;
        }

        public Builder configDirectory(Path value) {
            configDirectory = Optional.of(value);
            return this;
        }

        public Builder mirrors(List<String> value) {
            mirrors = new ArrayList<>(value);
            return this;
        }

        /** Sets (replaces) the settings of one registry. */
        public Builder registry(String registry, RegistrySettings settings) {
            registries.put(normaliseRegistry(registry), settings);
            return this;
        }

        /** Sends requests for {@code registry} to {@code endpoint} (a URL) instead of its own host. */
        public Builder endpoint(String registry, String endpoint) {
            String key = normaliseRegistry(registry);
            registries.put(key, registries.getOrDefault(key, RegistrySettings.NONE).withEndpoint(endpoint));
            return this;
        }

        public Builder insecure(String registry) {
            String key = normaliseRegistry(registry);
            registries.put(key, registries.getOrDefault(key, RegistrySettings.NONE).withInsecure(true));
            return this;
        }

        public Builder concurrency(int value) {
            concurrency = value;
            return this;
        }

        public Builder chunkSize(long value) {
            chunkSize = value;
            return this;
        }

        public Builder monolithicLimit(long value) {
            monolithicLimit = value;
            return this;
        }

        public Builder retry(RetryPolicy value) {
            retry = value;
            return this;
        }

        public Builder connectTimeout(Duration value) {
            connectTimeout = value;
            return this;
        }

        public Builder idleTimeout(Duration value) {
            idleTimeout = value;
            return this;
        }

        /** Bytes a second a transfer must average over each window of the idle timeout; 0: no minimum. */
        public Builder minSpeed(long value) {
            minSpeed = value;
            return this;
        }

        public Builder certDirectories(List<Path> value) {
            certDirectories = List.copyOf(value);
            return this;
        }

        public Builder cacheDirectory(Optional<Path> value) {
            cacheDirectory = value;
            return this;
        }

        public Builder tagPageSize(int value) {
            tagPageSize = value;
            return this;
        }

        public Builder http1(boolean value) {
            http1 = value;
            return this;
        }

        public RegistryConfig build() {
            return new RegistryConfig(environment, configDirectory, mirrors, registries, concurrency, chunkSize,
                    monolithicLimit, retry, connectTimeout, idleTimeout, minSpeed, certDirectories, cacheDirectory,
                    tagPageSize, http1);
        }
    }
}
