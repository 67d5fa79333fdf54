package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** An OCI image index or Docker manifest list; also the shape of an image layout's {@code index.json}. */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record ImageIndex(
        @JsonProperty("schemaVersion") int schemaVersion,
        @JsonProperty("mediaType") Optional<MediaType> mediaType,
        @JsonProperty("artifactType") Optional<MediaType> artifactType,
        @JsonProperty("manifests") List<Descriptor> manifests,
        @JsonProperty("subject") Optional<Descriptor> subject,
        @JsonProperty("annotations") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    public ImageIndex {
        mediaType = Optionals.orEmpty(mediaType);
        artifactType = Optionals.orEmpty(artifactType);
        subject = Optionals.orEmpty(subject);
        manifests = Optionals.list(manifests);
        annotations = Optionals.frozen(annotations);
        extra = Optionals.frozen(extra);
        if (schemaVersion != 2) {
            throw new LayersException("unsupported index schemaVersion " + schemaVersion);
        }
        if (Optionals.hasNull(manifests)) {
            throw new LayersException("index has a null entry in manifests");
        }
    }

    public static ImageIndex of(MediaType type, List<Descriptor> manifests) {
        return new ImageIndex(2, Optional.of(type), Optional.empty(), manifests, Optional.empty(), Map.of(), Map.of());
    }

    public ImageIndex withManifests(List<Descriptor> newManifests) {
        return new ImageIndex(schemaVersion, mediaType, artifactType, newManifests, subject, annotations, extra);
    }

    /** Entries that are images, not attestations or signatures (those carry the {@code unknown/unknown} platform). */
    public List<Descriptor> images() {
        return manifests.stream()
                .filter(d -> d.platform().map(p -> !p.os().equals("unknown")).orElse(true))
                .toList();
    }
}
