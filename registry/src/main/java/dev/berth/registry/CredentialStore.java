package dev.berth.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.layers.Json;
import dev.berth.layers.Reference;
import dev.berth.registry.internal.CredentialHelper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Credentials where docker and podman keep them, read in this order for a registry:
 * <ol>
 *   <li>docker's {@code config.json} ({@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}):
 *       the registry's {@code credHelpers} entry, then the global {@code credsStore} helper, then its
 *       {@code auths} entry ({@code auth}, {@code identitytoken}, {@code registrytoken});
 *   <li>podman's {@code auth.json}: {@code $REGISTRY_AUTH_FILE}, {@code $XDG_RUNTIME_DIR/containers/auth.json},
 *       {@code ~/.config/containers/auth.json}.
 * </ol>
 * {@code auths} keys may carry a scheme and path ({@code https://index.docker.io/v1/} is Docker Hub's) and,
 * as podman allows, a repository namespace ({@code quay.io/team}); the longest namespace that contains the
 * repository wins. {@link #store} and {@link #erase} write where {@code docker login} and
 * {@code docker logout} would.
 */
public final class CredentialStore implements CredentialProvider {
    /** The key docker uses for Docker Hub in {@code config.json} and with credential helpers. */
    public static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";


    private final Map<String, String> env;

    private CredentialStore(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** The store of an environment ({@code HOME}, {@code DOCKER_CONFIG}, {@code PATH}, ... are read from it). */
    public static CredentialStore fromEnvironment(Map<String, String> env) {
        return new CredentialStore(env);
    }

    /** docker's config file: {@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}. */
    public Path dockerConfigFile() {
        String dir = env.get("DOCKER_CONFIG");
        Path base = dir != null && !dir.isBlank() ? Path.of(dir) : RegistryConfig.home(env).resolve(".docker");
        return base.resolve("config.json");
    }

    /** podman's auth files, in the order podman reads them. */
    public List<Path> podmanAuthFiles() {
        List<Path> out = new ArrayList<>();
        String explicit = env.get("REGISTRY_AUTH_FILE");
        if (explicit != null && !explicit.isBlank()) {
            out.add(Path.of(explicit));
        }
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            out.add(Path.of(runtime, "containers", "auth.json"));
        }
        out.add(RegistryConfig.home(env).resolve(".config").resolve("containers").resolve("auth.json"));
        return out;
    }

    /** The key a registry is stored under: {@link #DOCKER_HUB_KEY} for Docker Hub, else {@code host[:port]}. */
    public static String serverKey(String registry) {
        String r = RegistryConfig.normaliseRegistry(registry);
        return r.equals(Reference.DOCKER_HUB) ? DOCKER_HUB_KEY : r;
    }

    @Override
    public Optional<Credentials> find(String registry, String repository) {
        String r = RegistryConfig.normaliseRegistry(registry);
        Path docker = dockerConfigFile();
        Optional<ObjectNode> config = read(docker);
        if (config.isPresent()) {
            Optional<String> helper = helperFor(config.get(), r);
            if (helper.isPresent()) {
                Optional<Credentials> c = new CredentialHelper(helper.get(), "credHelpers in " + docker, env)
                        .get(serverKey(r));
                if (c.isPresent()) {
                    return c;
                }
            }
            String store = config.get().path("credsStore").asText("");
            if (!store.isEmpty()) {
                Optional<Credentials> c = new CredentialHelper(store, "credsStore in " + docker, env).get(serverKey(r));
                if (c.isPresent()) {
                    return c;
                }
            }
            Optional<Credentials> c = fromAuths(config.get(), r, repository, docker);
            if (c.isPresent()) {
                return c;
            }
        }
        for (Path f : podmanAuthFiles()) {
            Optional<ObjectNode> auth = read(f);
            if (auth.isPresent()) {
                Optional<Credentials> c = fromAuths(auth.get(), r, repository, f);
                if (c.isPresent()) {
                    return c;
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Stores credentials as {@code docker login} does: with the registry's credential helper or the
     * {@code credsStore} when configured (leaving an empty {@code auths} entry, as docker does), else as
     * {@code auth} in {@code config.json} (created with mode 0600). Returns where they went, for the user.
     */
    public String store(String registry, Credentials.Basic credentials) {
        String r = RegistryConfig.normaliseRegistry(registry);
        String key = serverKey(r);
        Path file = dockerConfigFile();
        ObjectNode config = read(file).orElseGet(() -> Json.mapper().createObjectNode());
        Optional<String> helper = helperFor(config, r)
                .or(() -> Optional.of(config.path("credsStore").asText("")).filter(s -> !s.isEmpty()));
        ObjectNode auths = config.has("auths") && config.get("auths").isObject()
                ? (ObjectNode) config.get("auths") : config.putObject("auths");
        removeKeys(auths, r);
        String where;
        if (helper.isPresent()) {
            CredentialHelper h = new CredentialHelper(helper.get(), "in " + file, env);
            h.store(key, credentials.username(), credentials.password());
            auths.putObject(key);
            where = "credential helper " + h.program();
        } else {
            ObjectNode entry = auths.putObject(key);
            entry.put("auth", Base64.getEncoder().encodeToString(
                    (credentials.username() + ":" + credentials.password()).getBytes(StandardCharsets.UTF_8)));
            where = file.toString();
        }
        write(file, config);
        return where;
    }

    /** Removes stored credentials as {@code docker logout} does; returns whether there were any. */
    public boolean erase(String registry) {
        String r = RegistryConfig.normaliseRegistry(registry);
        Path file = dockerConfigFile();
        Optional<ObjectNode> config = read(file);
        if (config.isEmpty()) {
            return false;
        }
        boolean removed = false;
        Optional<String> helper = helperFor(config.get(), r)
                .or(() -> Optional.of(config.get().path("credsStore").asText("")).filter(s -> !s.isEmpty()));
        if (helper.isPresent()) {
            removed = new CredentialHelper(helper.get(), "in " + file, env).erase(serverKey(r));
        }
        JsonNode auths = config.get().get("auths");
        if (auths instanceof ObjectNode a && removeKeys(a, r)) {
            removed = true;
            write(file, config.get());
        }
        return removed;
    }

    // ------------------------------------------------------------------ internals

    private static Optional<String> helperFor(ObjectNode config, String registry) {
        JsonNode helpers = config.get("credHelpers");
        if (helpers == null || !helpers.isObject()) {
            return Optional.empty();
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = helpers.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (registryOfKey(e.getKey()).equals(registry) && !e.getValue().asText("").isEmpty()) {
                return Optional.of(e.getValue().asText());
            }
        }
        return Optional.empty();
    }

    /** The registry an {@code auths} key names, ignoring scheme and an API path such as {@code /v1/}. */
    private static String registryOfKey(String key) {
        return RegistryConfig.normaliseRegistry(key);
    }

    /** The namespace path of a key ({@code quay.io/team} gives {@code team}), or empty for a plain registry key. */
    private static String namespaceOfKey(String key) {
        String s = key;
        int scheme = s.indexOf("://");
        if (scheme >= 0) {
            s = s.substring(scheme + 3);
        }
        int slash = s.indexOf('/');
        if (slash < 0) {
            return "";
        }
        String path = s.substring(slash + 1).replaceAll("/+$", "");
        // docker's API-version paths are not namespaces
        return path.matches("v[12]") ? "" : path;
    }

    private static Optional<Credentials> fromAuths(ObjectNode config, String registry, String repository, Path file) {
        JsonNode auths = config.get("auths");
        if (auths == null || !auths.isObject()) {
            return Optional.empty();
        }
        JsonNode best = null;
        int bestLength = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!registryOfKey(e.getKey()).equals(registry)) {
                continue;
            }
            String ns = namespaceOfKey(e.getKey());
            boolean matches = ns.isEmpty() || repository.equals(ns) || repository.startsWith(ns + "/");
            if (matches && ns.length() > bestLength && hasSecret(e.getValue())) {
                best = e.getValue();
                bestLength = ns.length();
            }
        }
        return best == null ? Optional.empty() : Optional.of(parseEntry(best, registry, file));
    }

    private static boolean hasSecret(JsonNode entry) {
        return !entry.path("auth").asText("").isEmpty() || !entry.path("identitytoken").asText("").isEmpty()
                || !entry.path("registrytoken").asText("").isEmpty() || !entry.path("password").asText("").isEmpty();
    }

    private static Credentials parseEntry(JsonNode entry, String registry, Path file) {
        String user = entry.path("username").asText("");
        String password = entry.path("password").asText("");
        String auth = entry.path("auth").asText("");
        if (!auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new RegistryException(file + ": the auth entry for " + registry + " is not valid base64");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new RegistryException(file + ": the auth entry for " + registry + " is not user:password");
            }
            user = decoded.substring(0, colon);
            password = decoded.substring(colon + 1);
        }
        String identity = entry.path("identitytoken").asText("");
        if (!identity.isEmpty()) {
            return new Credentials.IdentityToken(user, identity);
        }
        String registryToken = entry.path("registrytoken").asText("");
        if (!registryToken.isEmpty()) {
            return new Credentials.RegistryToken(registryToken);
        }
        if (user.isEmpty()) {
            throw new RegistryException(file + ": the auth entry for " + registry + " has no user name");
        }
        return new Credentials.Basic(user, password);
    }

    private static boolean removeKeys(ObjectNode auths, String registry) {
        List<String> remove = new ArrayList<>();
        auths.fieldNames().forEachRemaining(k -> {
            if (registryOfKey(k).equals(registry) && namespaceOfKey(k).isEmpty()) {
                remove.add(k);
            }
        });
        remove.forEach(auths::remove);
        return !remove.isEmpty();
    }

    private static Optional<ObjectNode> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (bytes.length == 0 || new String(bytes, StandardCharsets.UTF_8).isBlank()) {
            return Optional.empty();
        }
        try {
            JsonNode n = Json.mapper().readTree(bytes);
            if (!(n instanceof ObjectNode o)) {
                throw new RegistryException(file + ": expected a JSON object");
            }
            return Optional.of(o);
        } catch (IOException e) {
            throw new RegistryException(file + ": invalid JSON: " + e.getMessage(), e);
        }
    }

    /** Replaces the file atomically, readable by its owner only (it may hold passwords). */
    private static void write(Path file, ObjectNode config) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Path tmp = Files.createTempFile(dir, ".config.json.", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new RegistryException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
