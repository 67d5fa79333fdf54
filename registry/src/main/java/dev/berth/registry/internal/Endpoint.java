package dev.berth.registry.internal;

import dev.berth.registry.RegistryException;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a registry is reached.
 *
 * @param registry the name its credentials and settings are found under ({@code docker.io}, {@code host:port})
 * @param host {@code host[:port]} to connect to
 * @param scheme {@code http} or {@code https} when fixed by configuration, else empty and found by probing
 * @param insecure plain HTTP and unverified TLS allowed
 * @param mirror a docker.io mirror (pull only; errors fall back to the next endpoint)
 */
public record Endpoint(String registry, String host, Optional<String> scheme, boolean insecure,
                       boolean mirror) {

    /** Parses {@code https://host:port}, {@code http://host}, or {@code host[:port]} (scheme probed). */
    public static Endpoint parse(String registry, String text, boolean insecure, boolean mirror) {
        String s = text.trim();
        Optional<String> scheme = Optional.empty();
        int sep = s.indexOf("://");
        if (sep >= 0) {
            String sc = s.substring(0, sep).toLowerCase(Locale.ROOT);
            if (!sc.equals("http") && !sc.equals("https")) {
                throw new RegistryException("registry endpoint \"" + text + "\": only http and https are supported");
            }
            scheme = Optional.of(sc);
            s = s.substring(sep + 3);
        }
        int slash = s.indexOf('/');
        if (slash >= 0) {
            if (!s.substring(slash).replaceAll("/+$", "").isEmpty()) {
                throw new RegistryException("registry endpoint \"" + text + "\": a path is not supported");
            }
            s = s.substring(0, slash);
        }
        if (s.isEmpty()) {
            throw new RegistryException("registry endpoint \"" + text + "\": no host");
        }
        return new Endpoint(registry, s.toLowerCase(Locale.ROOT), scheme, insecure, mirror);
    }

    /** Whether the host is loopback (plain HTTP is then fine, and tried first). */
    public boolean loopback() {
        return Hosts.isLoopback(Hosts.hostOnly(host));
    }

    /** The schemes to try, in order. */
    public List<String> schemes() {
        if (scheme.isPresent()) {
            return List.of(scheme.get());
        }
        if (loopback()) {
            return List.of("http", "https");
        }
        return insecure ? List.of("https", "http") : List.of("https");
    }

    public URI base(String withScheme) {
        return URI.create(withScheme + "://" + host);
    }
}
