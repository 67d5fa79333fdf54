package dev.berth.runtime;

import java.util.Locale;

/** The container's network: {@code none} (its own namespace with only loopback, up) or the host's. */
public enum NetworkMode {
    NONE, HOST;

    /** Parses {@code --network}: {@code none} or {@code host}. */
    public static NetworkMode parse(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "host" -> HOST;
            default -> throw new ContainerException("invalid --network \"" + text
                    + "\": berth supports none (loopback only) and host");
        };
    }
}
