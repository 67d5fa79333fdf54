package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** An OCI content descriptor: what a blob is, its digest and size, and optional platform and annotations. */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record Descriptor(
        @JsonProperty("mediaType") MediaType mediaType,
        @JsonProperty("digest") Digest digest,
        @JsonProperty("size") long size,
        @JsonProperty("urls") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> urls,
        @JsonProperty("annotations") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations,
        @JsonProperty("data") Optional<String> data,
        @JsonProperty("platform") Optional<Platform> platform,
        @JsonProperty("artifactType") Optional<MediaType> artifactType,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    public static final String CONTAINERD_NAME = "io.containerd.image.name";

    public Descriptor {
        if (mediaType == null || digest == null) {
            throw new LayersException("descriptor without " + (mediaType == null ? "mediaType" : "digest"));
        }
        if (size < 0) {
            throw new LayersException("descriptor " + digest + " has negative size " + size);
        }
        urls = Optionals.list(urls);
        annotations = Optionals.frozen(annotations);
        data = Optionals.orEmpty(data);
        platform = Optionals.orEmpty(platform);
        artifactType = Optionals.orEmpty(artifactType);
        extra = Optionals.frozen(extra);
    }

    public static Descriptor of(MediaType mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, List.of(), Map.of(), Optional.empty(), Optional.empty(),
                Optional.empty(), Map.of());
    }

    public Descriptor withAnnotations(Map<String, String> newAnnotations) {
        return new Descriptor(mediaType, digest, size, urls, newAnnotations, data, platform, artifactType, extra);
    }

    /** A copy with one annotation added or replaced. */
    public Descriptor withAnnotation(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(annotations);
        copy.put(key, value);
        return withAnnotations(copy);
    }

    public Descriptor withPlatform(Optional<Platform> newPlatform) {
        return new Descriptor(mediaType, digest, size, urls, annotations, data, newPlatform, artifactType, extra);
    }

    public Descriptor withMediaType(MediaType newType) {
        return new Descriptor(newType, digest, size, urls, annotations, data, platform, artifactType, extra);
    }

    /**
     * A layer's descriptor with Docker's layer media type given its OCI name (same bytes), for an OCI
     * manifest: registries may refuse one that mixes the two families. Foreign layers and OCI ones stay.
     */
    public Descriptor withOciLayerType() {
        MediaType t = mediaType;
        if (!t.isDocker() || t.value().contains("foreign")) {
            return this;
        }
        return withMediaType(MediaType.layer(t.layerCompression().orElseThrow(), false));
    }

    public Optional<String> annotation(String key) {
        return Optional.ofNullable(annotations.get(key));
    }
}
