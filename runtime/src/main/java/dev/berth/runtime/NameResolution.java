package dev.berth.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@code --add-host}, {@code --dns}, {@code --dns-search} and {@code --dns-option} put in a container's
 * {@code /etc/hosts} and {@code /etc/resolv.conf}, as docker does: extra host lines after the defaults;
 * nameservers, search domains and options that replace the host's when given.
 *
 * @param hosts {@code IP\tNAME} lines
 */
public record NameResolution(List<String> hosts, List<String> servers, List<String> search, List<String> options) {
    public static final NameResolution NONE = new NameResolution(List.of(), List.of(), List.of(), List.of());
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?");

    public NameResolution {
        hosts = List.copyOf(hosts);
        servers = List.copyOf(servers);
        search = List.copyOf(search);
        options = List.copyOf(options);
    }

    /** Parses the options; each bad value is an error naming it. */
    public static NameResolution parse(List<String> addHosts, List<String> dns, List<String> dnsSearch,
                                       List<String> dnsOptions) {
        List<String> hosts = new ArrayList<>();
        for (String h : addHosts) {
            int sep = h.indexOf('=') >= 0 ? h.indexOf('=') : h.indexOf(':');
            String name = sep < 0 ? "" : h.substring(0, sep);
            String ip = sep < 0 ? "" : h.substring(sep + 1).replaceAll("^\\[|]$", "");
            if (ip.equals("host-gateway")) {
                throw new ContainerException("invalid --add-host \"" + h + "\": host-gateway needs a network to the "
                        + "host, which a berth container has not (use --network host)");
            }
            if (!NAME.matcher(name).matches() || !(IPV4.matcher(ip).matches() || IPV6.matcher(ip).matches())) {
                throw new ContainerException("invalid --add-host \"" + h + "\": expected HOST:IP (or HOST=IP)");
            }
            hosts.add(ip + "\t" + name);
        }
        for (String s : dns) {
            if (!(IPV4.matcher(s).matches() || IPV6.matcher(s).matches())) {
                throw new ContainerException("invalid --dns \"" + s + "\": not an IP address");
            }
        }
        for (String s : dnsSearch) {
            if (!s.equals(".") && !NAME.matcher(s).matches()) {
                throw new ContainerException("invalid --dns-search \"" + s + "\"");
            }
        }
        for (String s : dnsOptions) {
            if (s.isBlank() || s.chars().anyMatch(Character::isWhitespace)) {
                throw new ContainerException("invalid --dns-option \"" + s + "\"");
            }
        }
        return new NameResolution(hosts, dns, dnsSearch, dnsOptions);
    }

    /** The container's resolv.conf from the host's: its lines but those this replaces. */
    String resolvConf(String host) {
        if (servers.isEmpty() && search.isEmpty() && options.isEmpty()) {
            return host;
        }
        StringBuilder out = new StringBuilder();
        for (String line : host.lines().toList()) {
            String t = line.strip();
            boolean replaced = (!servers.isEmpty() && t.startsWith("nameserver"))
                    || (!search.isEmpty() && (t.startsWith("search") || t.startsWith("domain")))
                    || (!options.isEmpty() && t.startsWith("options"));
            if (!replaced) {
                out.append(line).append('\n');
            }
        }
        servers.forEach(s -> out.append("nameserver ").append(s).append('\n'));
        if (!search.isEmpty() && !search.equals(List.of("."))) {
            out.append("search ").append(String.join(" ", search)).append('\n');
        }
        if (!options.isEmpty()) {
            out.append("options ").append(String.join(" ", options)).append('\n');
        }
        return out.toString();
    }
}
