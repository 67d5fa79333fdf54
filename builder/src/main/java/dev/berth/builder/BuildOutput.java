package dev.berth.builder;

import java.nio.file.Path;
import java.util.Objects;

/** Where a build's image goes. A build has one or more; without any it goes to the local store. */
public sealed interface BuildOutput {
    /** The local store (BERTH_HOME/store), tagged with every {@code -t} name (unnamed without one). */
    record Store() implements BuildOutput {}

    /** An OCI image layout directory (created when missing), the image named there by every {@code -t} name. */
    record OciLayout(Path directory) implements BuildOutput {
        public OciLayout {
            Objects.requireNonNull(directory, "directory");
        }
    }

    /** A docker-archive tar ({@code docker load}, {@code podman load}), written atomically; needs a name. */
    record DockerArchive(Path file) implements BuildOutput {
        public DockerArchive {
            Objects.requireNonNull(file, "file");
        }
    }

    /**
     * A registry: every {@code -t} name is pushed (through the {@link ImagePusher} the builder was given).
     * It needs the {@link Store} output too, whose names the push sends.
     */
    record Push() implements BuildOutput {}

    /**
     * A registry only ({@code --output type=registry}, as buildx's): every {@code -t} name is pushed and
     * nothing is named in the local store, so layers a cache gave are mounted in the registry, never
     * downloaded.
     */
    record Registry() implements BuildOutput {}

    /**
     * Parses {@code --output}: {@code oci:DIR}, {@code docker-archive:FILE}, or buildx's
     * {@code type=oci,dest=DIR} / {@code type=docker,dest=FILE} / {@code type=registry}.
     */
    static BuildOutput parse(String text) {
        if (text.startsWith("oci:") && text.length() > 4) {
            return new OciLayout(Path.of(text.substring(4)));
        }
        if (text.startsWith("docker-archive:") && text.length() > 15) {
            return new DockerArchive(Path.of(text.substring(15)));
        }
        if (text.startsWith("type=")) {
            String type = null;
            String dest = null;
            for (String part : text.split(",")) {
                int eq = part.indexOf('=');
                String k = eq < 0 ? part : part.substring(0, eq);
                String v = eq < 0 ? "" : part.substring(eq + 1);
                switch (k) {
                    case "type" -> type = v;
                    case "dest" -> dest = v;
                    default -> throw new BuildException("--output " + text + ": unknown key \"" + k + "\"");
                }
            }
            if ("registry".equals(type)) {
                if (dest != null) {
                    throw new BuildException("--output " + text + ": type=registry pushes to the -t names; it has no dest=");
                }
                return new Registry();
            }
            if (dest == null || dest.isEmpty()) {
                throw new BuildException("--output " + text + ": dest= is missing");
            }
            return switch (type) {
                case "oci" -> new OciLayout(Path.of(dest));
                case "docker", "docker-archive" -> new DockerArchive(Path.of(dest));
                default -> throw new BuildException("--output " + text + ": unknown type \"" + type
                        + "\" (use oci, docker or registry)");
            };
        }
        throw new BuildException("--output " + text + ": expected oci:DIR or docker-archive:FILE");
    }
}
