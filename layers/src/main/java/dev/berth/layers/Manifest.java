package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An image manifest, OCI or Docker schema 2 (the two share one shape). The media type field is optional
 * in OCI; {@link #type()} falls back to the type the manifest was served or stored with.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record Manifest(
        @JsonProperty("schemaVersion") int schemaVersion,
        @JsonProperty("mediaType") Optional<MediaType> mediaType,
        @JsonProperty("artifactType") Optional<MediaType> artifactType,
        @JsonProperty("config") Descriptor config,
        @JsonProperty("layers") List<Descriptor> layers,
        @JsonProperty("subject") Optional<Descriptor> subject,
        @JsonProperty("annotations") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    public Manifest {
        mediaType = Optionals.orEmpty(mediaType);
        artifactType = Optionals.orEmpty(artifactType);
        subject = Optionals.orEmpty(subject);
        layers = Optionals.list(layers);
        annotations = Optionals.frozen(annotations);
        extra = Optionals.frozen(extra);
        if (schemaVersion != 2) {
            throw new LayersException("unsupported manifest schemaVersion " + schemaVersion
                    + " (only schema 2 is supported; Docker schema 1 is deprecated)");
        }
        if (config == null) {
            throw new LayersException("manifest has no config descriptor");
        }
        if (Optionals.hasNull(layers)) {
            throw new LayersException("manifest has a null entry in layers");
        }
    }

    /** A new manifest of the given type with its config and layers. */
    public static Manifest of(MediaType type, Descriptor config, List<Descriptor> layers,
                              Map<String, String> annotations) {
        return new Manifest(2, Optional.of(type), Optional.empty(), config, layers, Optional.empty(),
                annotations, Map.of());
    }

    /** The media type, from the document or else {@code fallback}. */
    public MediaType type(MediaType fallback) {
        return mediaType.orElse(fallback);
    }

    public Manifest withAnnotations(Map<String, String> newAnnotations) {
        return new Manifest(schemaVersion, mediaType, artifactType, config, layers, subject, newAnnotations, extra);
    }
}
