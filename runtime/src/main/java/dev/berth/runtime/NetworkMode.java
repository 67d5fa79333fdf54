package dev.berth.runtime;

import java.util.Locale;

/**
 * The container's network: {@code none} (its own namespace with only loopback, up), the host's, or
 * another container's ({@code container:NAME}: its network namespace, host name and /etc files).
 */
public sealed interface NetworkMode {
    NetworkMode NONE = new None();
    NetworkMode HOST = new Host();

    /** A namespace of the container's own, loopback only. */
    record None() implements NetworkMode {}

    /** The host's network namespace. */
    record Host() implements NetworkMode {}

    /** The network namespace of another running container, named or by id. */
    record Container(String nameOrId) implements NetworkMode {}

    /** As {@code --network} and run.json write it: {@code none}, {@code host}, {@code container:NAME}. */
    default String text() {
        return switch (this) {
            case None n -> "none";
            case Host h -> "host";
            case Container c -> "container:" + c.nameOrId();
        };
    }

    /** Parses {@code --network}: {@code none}, {@code host} or {@code container:NAME}. */
    static NetworkMode parse(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        if (t.startsWith("container:") && text.length() > "container:".length()) {
            return new Container(text.substring("container:".length()));
        }
        return switch (t) {
            case "none" -> NONE;
            case "host" -> HOST;
            default -> throw new ContainerException("invalid --network \"" + text
                    + "\": berth supports none (loopback only), host and container:NAME");
        };
    }
}
