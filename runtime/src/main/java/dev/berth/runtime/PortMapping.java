package dev.berth.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A published port: the host's address and port that lead to a port on the container's loopback. As
 * asked for ({@code -p}), {@code hostIp} may be empty (every address) and {@code hostPort} 0 (any free
 * one); as bound, both are what the monitor listens on.
 *
 * @param protocol {@code tcp} or {@code udp}
 */
public record PortMapping(String protocol, String hostIp, int hostPort, int containerPort) {
    // [IP:][HOSTPORT:]CONTAINERPORT[/PROTO], IP an IPv4 address or an IPv6 one in brackets, ports or ranges
    private static final Pattern SPEC = Pattern.compile(
            "(?:(?:(\\[[0-9A-Fa-f:.]+]|[0-9.]+):)?([0-9]*(?:-[0-9]+)?):)?([0-9]+(?:-[0-9]+)?)(?:/([A-Za-z]+))?");
    private static final Pattern BOUND = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[0-9.]+):([0-9]+)->([0-9]+)/(tcp|udp)");

    public PortMapping {
        if (!protocol.equals("tcp") && !protocol.equals("udp")) {
            throw new ContainerException("invalid protocol \"" + protocol + "\": tcp or udp");
        }
    }

    /** Parses {@code -p, --publish}; a range ({@code 8000-8002:80-82}) gives one mapping per port. */
    public static List<PortMapping> parse(String text) {
        Matcher m = SPEC.matcher(text);
        if (!m.matches()) {
            throw bad(text, "expected [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]");
        }
        String proto = m.group(4) == null ? "tcp" : m.group(4).toLowerCase(Locale.ROOT);
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw bad(text, "berth publishes tcp and udp, not " + proto);
        }
        String ip = m.group(1) == null ? "" : m.group(1).replaceAll("^\\[|]$", "");
        int[] inside = range(m.group(3), text, 1);
        int[] outside = m.group(2) == null || m.group(2).isEmpty() ? null : range(m.group(2), text, 0);
        if (outside != null && outside[1] - outside[0] != inside[1] - inside[0]) {
            throw bad(text, "the host and container port ranges differ in length");
        }
        List<PortMapping> out = new ArrayList<>();
        for (int i = 0; i <= inside[1] - inside[0]; i++) {
            int host = outside == null || outside[0] == 0 ? 0 : outside[0] + i;
            out.add(new PortMapping(proto, ip, host, inside[0] + i));
        }
        return out;
    }

    /** The ports an image's {@code ExposedPorts} names ({@code 80/tcp}, {@code 53/udp}, {@code 8080}), on any host port. */
    public static List<PortMapping> exposed(Map<String, ?> exposedPorts) {
        List<PortMapping> out = new ArrayList<>();
        for (String key : exposedPorts.keySet()) {
            String[] p = key.split("/", 2);
            String proto = p.length > 1 ? p[1].toLowerCase(Locale.ROOT) : "tcp";
            if (!proto.equals("tcp") && !proto.equals("udp")) {
                continue; // sctp: not published (as rootless podman does not)
            }
            for (int port = range(p[0], key, 1)[0], end = range(p[0], key, 1)[1]; port <= end; port++) {
                out.add(new PortMapping(proto, "", 0, port));
            }
        }
        return out;
    }

    /**
     * What a container publishes: {@code -p}, then with {@code -P} each exposed port {@code -p} does not
     * name. Ports need the container's own network namespace.
     */
    static List<PortMapping> forRun(RunOptions o, Map<String, ?> exposedPorts, String what) {
        List<PortMapping> out = new ArrayList<>(o.publish());
        if (o.publishAll()) {
            for (PortMapping e : exposed(exposedPorts)) {
                if (out.stream().noneMatch(p -> p.containerPort == e.containerPort && p.protocol.equals(e.protocol))) {
                    out.add(e);
                }
            }
        }
        if (!out.isEmpty() && o.network().equals(NetworkMode.HOST)) {
            throw new ContainerException(what + ": published ports need a network of the container's own, "
                    + "not --network host (there its ports are the host's already)");
        }
        return out;
    }

    /** Parses what the helper reports: {@code tcp 0.0.0.0 8080 80}. */
    static PortMapping reported(String line) {
        String[] w = line.split(" ");
        return new PortMapping(w[0], w[1], Integer.parseInt(w[2]), Integer.parseInt(w[3]));
    }

    /** Parses what {@link #toString} wrote. */
    static PortMapping bound(String text) {
        Matcher m = BOUND.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a published port: " + text);
        }
        return new PortMapping(m.group(4), m.group(1).replaceAll("^\\[|]$", ""), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)));
    }

    /** The host side as docker prints it: {@code 0.0.0.0:8080}, {@code [::]:8080}. */
    public String host() {
        return (hostIp.contains(":") ? "[" + hostIp + "]" : hostIp) + ":" + hostPort;
    }

    /** docker's notation, as {@code docker ps} shows it: {@code 0.0.0.0:8080->80/tcp}. */
    @Override
    public String toString() {
        return host() + "->" + containerPort + "/" + protocol;
    }

    private static int[] range(String text, String whole, int min) {
        String[] ends = text.split("-", 2);
        int[] r = new int[2];
        for (int i = 0; i < 2; i++) {
            String e = ends[Math.min(i, ends.length - 1)];
            int v;
            try {
                v = Integer.parseInt(e);
            } catch (NumberFormatException x) {
                throw bad(whole, "invalid port \"" + e + "\"");
            }
            if (v < min || v > 65535) {
                throw bad(whole, "port " + v + " is out of range (" + min + "-65535)");
            }
            r[i] = v;
        }
        if (r[1] < r[0]) {
            throw bad(whole, "the range " + text + " ends before it starts");
        }
        return r;
    }

    private static ContainerException bad(String text, String why) {
        return new ContainerException("invalid -p \"" + text + "\": " + why);
    }
}
