package dev.berth.builder;

import dev.berth.builder.dockerfile.Location;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * EXPOSE's port specs as docker reads them ({@code nat.ParsePortSpecs}): {@code 80}, {@code 80/udp},
 * {@code 8000-8010/tcp} (a range gives one entry per port); the protocol defaults to tcp and is one of
 * tcp, udp, sctp. Host parts ({@code 8080:80}) are refused: EXPOSE only documents container ports.
 */
final class Ports {
    private Ports() {}

    static List<String> parse(List<String> specs, Location at) {
        List<String> out = new ArrayList<>();
        for (String spec : specs) {
            String port = spec;
            String proto = "tcp";
            int slash = spec.indexOf('/');
            if (slash >= 0) {
                port = spec.substring(0, slash);
                proto = spec.substring(slash + 1).toLowerCase(Locale.ROOT);
            }
            if (!proto.equals("tcp") && !proto.equals("udp") && !proto.equals("sctp")) {
                throw at.error("invalid proto: " + proto);
            }
            if (port.contains(":")) {
                throw at.error("EXPOSE " + spec + ": host ports cannot be published by a Dockerfile; expose the "
                        + "container port only");
            }
            int dash = port.indexOf('-');
            int first = number(dash < 0 ? port : port.substring(0, dash), spec, at);
            int last = dash < 0 ? first : number(port.substring(dash + 1), spec, at);
            if (last < first) {
                throw at.error("invalid range specified for container port: " + spec);
            }
            for (int p = first; p <= last; p++) {
                String key = p + "/" + proto;
                if (!out.contains(key)) {
                    out.add(key);
                }
            }
        }
        return out;
    }

    private static int number(String s, String spec, Location at) {
        try {
            int v = Integer.parseInt(s);
            if (v < 0 || v > 65535) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw at.error("invalid containerPort: " + spec);
        }
    }
}
