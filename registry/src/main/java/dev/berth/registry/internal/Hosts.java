package dev.berth.registry.internal;

import java.net.InetAddress;
import java.net.URI;
import java.util.Locale;

/** Host names and origins, as berth's security rules need them. */
public final class Hosts {
    private Hosts() {}

    /**
     * Whether a host (without port) is this machine by its name alone: {@code localhost}, a
     * {@code .localhost} name, or a loopback IP literal. Names are not resolved, so DNS cannot make a
     * remote host count as local.
     */
    public static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return true;
        }
        if (!h.isEmpty() && (Character.digit(h.charAt(0), 16) >= 0 || h.contains(":"))) {
            try {
                return InetAddress.ofLiteral(h).isLoopbackAddress();
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return false;
    }

    /** The host of {@code host[:port]} or {@code [v6]:port}. */
    public static String hostOnly(String hostPort) {
        if (hostPort.startsWith("[")) {
            int end = hostPort.indexOf(']');
            return end > 0 ? hostPort.substring(0, end + 1) : hostPort;
        }
        int colon = hostPort.lastIndexOf(':');
        return colon >= 0 && hostPort.indexOf(':') == colon ? hostPort.substring(0, colon) : hostPort;
    }

    /** Whether two URIs have the same scheme, host and port (so credentials may go to both). */
    public static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    public static int port(URI u) {
        if (u.getPort() >= 0) {
            return u.getPort();
        }
        return u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** {@code host[:port]} of a URI, the port left out when it is the scheme's default. */
    public static String hostPort(URI u) {
        String host = u.getHost();
        if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return u.getPort() < 0 || u.getPort() == (u.getScheme().equalsIgnoreCase("https") ? 443 : 80)
                ? host : host + ":" + u.getPort();
    }
}
