package dev.berth.runtime;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A bind mount from the host ({@code -v HOST:CONTAINER[:ro]}). The container path is resolved inside the
 * container's root when it starts, never through a symlink out of it.
 */
public record Volume(Path host, String container, boolean readOnly) {

    public Volume {
        if (!host.isAbsolute()) {
            throw new ContainerException("volume " + host + ": the host path must be absolute "
                    + "(named volumes are not supported)");
        }
        container = ContainerPaths.normalize(container, "volume destination");
        if (container.equals("/")) {
            throw new ContainerException("volume " + host + ":/ : the destination cannot be /");
        }
    }

    /** Parses {@code HOST:CONTAINER[:ro|rw]}; the host path must exist. */
    public static Volume parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new ContainerException("invalid volume \"" + text + "\": expected HOST:CONTAINER[:ro]");
        }
        boolean ro = false;
        if (parts.length == 3) {
            switch (parts[2]) {
                case "ro" -> ro = true;
                case "rw" -> ro = false;
                default -> throw new ContainerException("invalid volume \"" + text + "\": unknown option \""
                        + parts[2] + "\" (berth knows ro and rw)");
            }
        }
        Path host = Path.of(parts[0]);
        if (!host.isAbsolute()) {
            throw new ContainerException("invalid volume \"" + text + "\": the host path must be absolute "
                    + "(named volumes are not supported)");
        }
        if (!Files.exists(host)) {
            throw new ContainerException("invalid volume \"" + text + "\": host path " + host + " does not exist");
        }
        return new Volume(host.normalize(), parts[1], ro);
    }
}
