package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Optional;

/**
 * A media type as it appears in descriptors and manifests. Unknown types are kept as they are (the image
 * layout spec forbids failing on them); the predicates say what berth knows about a type.
 */
public record MediaType(String value) {
    public static final MediaType OCI_INDEX = new MediaType("application/vnd.oci.image.index.v1+json");
    public static final MediaType OCI_MANIFEST = new MediaType("application/vnd.oci.image.manifest.v1+json");
    public static final MediaType OCI_CONFIG = new MediaType("application/vnd.oci.image.config.v1+json");
    public static final MediaType OCI_LAYER = new MediaType("application/vnd.oci.image.layer.v1.tar");
    public static final MediaType OCI_LAYER_GZIP = new MediaType("application/vnd.oci.image.layer.v1.tar+gzip");
    public static final MediaType OCI_LAYER_ZSTD = new MediaType("application/vnd.oci.image.layer.v1.tar+zstd");
    public static final MediaType OCI_LAYER_NONDISTRIBUTABLE_GZIP =
            new MediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
    public static final MediaType OCI_EMPTY = new MediaType("application/vnd.oci.empty.v1+json");

    public static final MediaType DOCKER_MANIFEST_LIST =
            new MediaType("application/vnd.docker.distribution.manifest.list.v2+json");
    public static final MediaType DOCKER_MANIFEST =
            new MediaType("application/vnd.docker.distribution.manifest.v2+json");
    public static final MediaType DOCKER_CONFIG = new MediaType("application/vnd.docker.container.image.v1+json");
    public static final MediaType DOCKER_LAYER = new MediaType("application/vnd.docker.image.rootfs.diff.tar");
    public static final MediaType DOCKER_LAYER_GZIP =
            new MediaType("application/vnd.docker.image.rootfs.diff.tar.gzip");
    public static final MediaType DOCKER_FOREIGN_LAYER_GZIP =
            new MediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
    /** Docker's schema 1, which berth recognises only to reject it clearly. */
    public static final MediaType DOCKER_SCHEMA1_SIGNED =
            new MediaType("application/vnd.docker.distribution.manifest.v1+prettyjws");

    public MediaType {
        if (value.isBlank()) {
            throw new LayersException("empty media type");
        }
    }

    // equals and hashCode are written out: a record's generated ones are bootstrapped through
    // invokedynamic on first use, which costs a cold JVM milliseconds the start-up cache does not save.
    @Override
    public boolean equals(Object o) {
        return o instanceof MediaType m && m.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @JsonCreator
    public static MediaType of(String value) {
        return new MediaType(value);
    }

    /** An image index or a Docker manifest list. */
    public boolean isIndex() {
        return equals(OCI_INDEX) || equals(DOCKER_MANIFEST_LIST);
    }

    /** A single-platform image manifest, OCI or Docker schema 2. */
    public boolean isManifest() {
        return equals(OCI_MANIFEST) || equals(DOCKER_MANIFEST);
    }

    public boolean isConfig() {
        return equals(OCI_CONFIG) || equals(DOCKER_CONFIG);
    }

    public boolean isDocker() {
        return value.startsWith("application/vnd.docker.");
    }

    /** A filesystem layer berth can unpack. */
    public boolean isLayer() {
        return layerCompression().isPresent();
    }

    /**
     * The compression of a layer type, or empty when this is not a layer type berth knows. Docker's gzip
     * types and OCI's (including the deprecated non-distributable ones) are interchangeable.
     */
    public Optional<Compression.Kind> layerCompression() {
        return switch (value) {
            case "application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar",
                    "application/vnd.oci.image.layer.nondistributable.v1.tar" -> Optional.of(Compression.Kind.NONE);
            case "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" -> Optional.of(Compression.Kind.GZIP);
            case "application/vnd.oci.image.layer.v1.tar+zstd",
                    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" -> Optional.of(Compression.Kind.ZSTD);
            default -> Optional.empty();
        };
    }

    /** The layer type for a compression in the OCI or the Docker family. */
    public static MediaType layer(Compression.Kind kind, boolean docker) {
        return switch (kind) {
            case NONE -> docker ? DOCKER_LAYER : OCI_LAYER;
            case GZIP -> docker ? DOCKER_LAYER_GZIP : OCI_LAYER_GZIP;
            case ZSTD -> {
                if (docker) {
                    throw new LayersException("zstd layers need OCI media types; Docker schema 2 has none");
                }
                yield OCI_LAYER_ZSTD;
            }
        };
    }

    @JsonValue
    @Override
    public String toString() {
        return value;
    }
}
