package dev.berth.registry.internal;

import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Proxies from the environment, as Go tools (docker, skopeo, crane) read them: {@code HTTPS_PROXY} for
 * https URLs, {@code HTTP_PROXY} for http URLs (uppercase first, then lowercase), except for hosts that
 * {@code NO_PROXY} matches ({@code *}, exact hosts, domain suffixes with or without a leading dot, IP
 * literals, each optionally with {@code :port}) and for loopback hosts. Java's HTTP client reads none of
 * these by itself.
 */
public final class EnvProxySelector extends ProxySelector {
    private final Optional<URI> https;
    private final Optional<URI> http;
    private final List<String> noProxy;

    private EnvProxySelector(Optional<URI> https, Optional<URI> http, List<String> noProxy) {
        this.https = https;
        this.http = http;
        this.noProxy = noProxy;
    }

    /** The selector for an environment, or empty when it names no proxy (then the JVM's settings apply). */
    public static Optional<EnvProxySelector> fromEnvironment(Map<String, String> env) {
        Optional<URI> https = proxy(env, "HTTPS_PROXY");
        Optional<URI> http = proxy(env, "HTTP_PROXY");
        if (https.isEmpty() && http.isEmpty()) {
            return Optional.empty();
        }
        String no = first(env, "NO_PROXY").orElse("");
        List<String> entries = new ArrayList<>();
        for (String s : no.split(",")) {
            if (!s.isBlank()) {
                entries.add(s.trim().toLowerCase(Locale.ROOT));
            }
        }
        return Optional.of(new EnvProxySelector(https, http, List.copyOf(entries)));
    }

    private static Optional<String> first(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            v = env.get(name.toLowerCase(Locale.ROOT));
        }
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private static Optional<URI> proxy(Map<String, String> env, String name) {
        Optional<String> v = first(env, name);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        String s = v.get().contains("://") ? v.get() : "http://" + v.get();
        try {
            URI u = URI.create(s);
            if (u.getHost() == null) {
                throw new IllegalArgumentException("no host");
            }
            if (!u.getScheme().equalsIgnoreCase("http")) {
                throw new RegistryException(name + "=" + redact(v.get()) + ": berth supports http:// proxies only");
            }
            return Optional.of(u);
        } catch (IllegalArgumentException e) {
            throw new RegistryException(name + "=" + redact(v.get()) + ": not a proxy URL");
        }
    }

    private static String redact(String url) {
        return url.replaceAll("//[^@/]*@", "//***@");
    }

    @Override
    public List<Proxy> select(URI uri) {
        Optional<URI> p = uri.getScheme().equalsIgnoreCase("https") ? https : http;
        if (p.isEmpty() || bypass(uri)) {
            return List.of(Proxy.NO_PROXY);
        }
        URI proxy = p.get();
        return List.of(new Proxy(Proxy.Type.HTTP,
                InetSocketAddress.createUnresolved(proxy.getHost(), proxy.getPort() < 0 ? 80 : proxy.getPort())));
    }

    /** Whether {@code uri} goes direct: loopback, or matched by {@code NO_PROXY}. */
    public boolean bypass(URI uri) {
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (Hosts.isLoopback(host)) {
            return true;
        }
        int port = Hosts.port(uri);
        for (String e : noProxy) {
            if (e.equals("*")) {
                return true;
            }
            String entryHost = e;
            int entryPort = -1;
            int colon = e.lastIndexOf(':');
            if (colon > 0 && e.indexOf(':') == colon) {
                entryHost = e.substring(0, colon);
                try {
                    entryPort = Integer.parseInt(e.substring(colon + 1));
                } catch (NumberFormatException ignored) {
                    continue;
                }
            }
            if (entryPort >= 0 && entryPort != port) {
                continue;
            }
            String domain = entryHost.startsWith("*.") ? entryHost.substring(1) : entryHost;
            if (host.equals(domain.startsWith(".") ? domain.substring(1) : domain)
                    || (domain.startsWith(".") ? host.endsWith(domain) : host.endsWith("." + domain))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
        // nothing to remember: the request fails with the connection error
    }

    /**
     * The {@code Proxy-Authorization} value for a request to {@code target} when it goes through a proxy whose
     * URL carries a user and password. berth sends it with every such request (Java's client copies it into
     * the CONNECT of an HTTPS tunnel) rather than answering 407 challenges through an Authenticator: that
     * path fails inside Java's client when the password is wrong, hiding the proxy's answer.
     */
    public Optional<String> authorization(URI target) {
        if (bypass(target)) {
            return Optional.empty();
        }
        Optional<URI> proxy = target.getScheme().equalsIgnoreCase("https") ? https : http;
        return credentials(proxy).map(p -> "Basic " + java.util.Base64.getEncoder().encodeToString(
                (p.getUserName() + ":" + new String(p.getPassword())).getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether a proxy URL carries credentials (then Java must be allowed to send Basic to HTTPS tunnels). */
    public boolean hasCredentials() {
        return credentials(https).isPresent() || credentials(http).isPresent();
    }

    private static Optional<PasswordAuthentication> credentials(Optional<URI> proxy) {
        if (proxy.isEmpty() || proxy.get().getRawUserInfo() == null) {
            return Optional.empty();
        }
        String info = proxy.get().getRawUserInfo();
        int colon = info.indexOf(':');
        String user = URLDecoder.decode(colon < 0 ? info : info.substring(0, colon), StandardCharsets.UTF_8);
        String pass = colon < 0 ? "" : URLDecoder.decode(info.substring(colon + 1), StandardCharsets.UTF_8);
        return Optional.of(new PasswordAuthentication(user, pass.toCharArray()));
    }
}
