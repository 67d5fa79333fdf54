package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An image configuration (OCI config.md, Docker's image JSON): platform, the runtime defaults in
 * {@link ContainerConfig}, the layers' diff_ids and the history. Fields berth does not model (Docker's
 * {@code container_config}, {@code docker_version}, ...) are kept in {@code extra}.
 *
 * <p>Invariant kept by writers, checked by {@link #checkHistory()}: the number of history entries without
 * {@code empty_layer} equals the number of diff_ids (registries and tools reject images that break it).
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record ImageConfig(
        @JsonProperty("created") Optional<String> created,
        @JsonProperty("author") Optional<String> author,
        @JsonProperty("architecture") String architecture,
        @JsonProperty("os") String os,
        @JsonProperty("os.version") Optional<String> osVersion,
        @JsonProperty("os.features") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> osFeatures,
        @JsonProperty("variant") Optional<String> variant,
        @JsonProperty("config") Optional<ContainerConfig> config,
        @JsonProperty("rootfs") RootFs rootfs,
        @JsonProperty("history") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<History> history,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    public ImageConfig {
        created = Optionals.orEmpty(created);
        author = Optionals.orEmpty(author);
        osVersion = Optionals.orEmpty(osVersion);
        variant = Optionals.orEmpty(variant);
        config = Optionals.orEmpty(config);
        osFeatures = Optionals.list(osFeatures);
        history = Optionals.list(history);
        extra = Optionals.frozen(extra);
        if (architecture == null || os == null) {
            throw new LayersException("image config lacks " + (os == null ? "os" : "architecture"));
        }
        if (rootfs == null) {
            rootfs = new RootFs("layers", List.of());
        }
        if (Optionals.hasNull(history)) {
            throw new LayersException("image config has a null entry in history");
        }
    }

    /** An empty config for a platform: what {@code FROM scratch} starts with. */
    public static ImageConfig empty(Platform platform) {
        return new ImageConfig(Optional.empty(), Optional.empty(), platform.architecture(), platform.os(),
                platform.osVersion(), platform.osFeatures(), platform.variant(), Optional.empty(),
                new RootFs("layers", List.of()), List.of(), Map.of());
    }

    public Platform platform() {
        return new Platform(architecture, os, osVersion, osFeatures, variant, Map.of());
    }

    /** The runtime defaults, or an empty set when the image has none. */
    public ContainerConfig containerConfig() {
        return config.orElse(ContainerConfig.EMPTY);
    }

    public ImageConfig withContainerConfig(ContainerConfig newConfig) {
        return new ImageConfig(created, author, architecture, os, osVersion, osFeatures, variant,
                Optional.of(newConfig), rootfs, history, extra);
    }

    public ImageConfig withCreated(Optional<String> newCreated) {
        return new ImageConfig(newCreated, author, architecture, os, osVersion, osFeatures, variant, config,
                rootfs, history, extra);
    }

    public ImageConfig withAuthor(Optional<String> newAuthor) {
        return new ImageConfig(created, newAuthor, architecture, os, osVersion, osFeatures, variant, config,
                rootfs, history, extra);
    }

    /** A copy with one more layer and its history entry. */
    public ImageConfig withLayer(Digest diffId, History entry) {
        List<Digest> ids = new ArrayList<>(rootfs.diffIds());
        ids.add(diffId);
        List<History> h = new ArrayList<>(history);
        h.add(entry.withEmptyLayer(Optional.empty()));
        return new ImageConfig(created, author, architecture, os, osVersion, osFeatures, variant, config,
                new RootFs(rootfs.type(), ids), h, extra);
    }

    /** A copy with one more history entry that adds no layer. */
    public ImageConfig withEmptyLayerHistory(History entry) {
        List<History> h = new ArrayList<>(history);
        h.add(entry.withEmptyLayer(Optional.of(true)));
        return new ImageConfig(created, author, architecture, os, osVersion, osFeatures, variant, config, rootfs,
                h, extra);
    }

    /** Throws when the non-empty history entries do not match the layers one to one. */
    public void checkHistory() {
        if (history.isEmpty()) {
            return;
        }
        long nonEmpty = history.stream().filter(h -> !h.emptyLayer().orElse(false)).count();
        if (nonEmpty != rootfs.diffIds().size()) {
            throw new LayersException("image config has " + nonEmpty + " history entries with layers but "
                    + rootfs.diffIds().size() + " diff_ids");
        }
    }

    /** {@code rootfs}: always type {@code layers}, diff_ids base first. */
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public record RootFs(
            @JsonProperty("type") String type,
            @JsonProperty("diff_ids") List<Digest> diffIds) {
        public RootFs {
            type = type == null ? "layers" : type;
            diffIds = Optionals.list(diffIds);
            if (Optionals.hasNull(diffIds)) {
                throw new LayersException("image config has a null entry in rootfs.diff_ids");
            }
        }
    }

    /** One history entry. {@code empty_layer} marks instructions that added no layer. */
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public record History(
            @JsonProperty("created") Optional<String> created,
            @JsonProperty("created_by") Optional<String> createdBy,
            @JsonProperty("author") Optional<String> author,
            @JsonProperty("comment") Optional<String> comment,
            @JsonProperty("empty_layer") Optional<Boolean> emptyLayer,
            @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {
        public History {
            created = Optionals.orEmpty(created);
            createdBy = Optionals.orEmpty(createdBy);
            author = Optionals.orEmpty(author);
            comment = Optionals.orEmpty(comment);
            emptyLayer = Optionals.orEmpty(emptyLayer);
            extra = Optionals.frozen(extra);
        }

        public static History of(Optional<String> created, String createdBy, Optional<String> comment) {
            return new History(created, Optional.of(createdBy), Optional.empty(), comment, Optional.empty(), Map.of());
        }

        public History withEmptyLayer(Optional<Boolean> value) {
            return new History(created, createdBy, author, comment, value, extra);
        }
    }
}
