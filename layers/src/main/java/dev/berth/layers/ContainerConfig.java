package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The runtime defaults of an image ({@code config} in the image config), with Docker's field names.
 * {@code Cmd} and {@code Entrypoint} are optional lists because Docker tells "not set" ({@code null}) from
 * "set to nothing" ({@code []}). {@code ExposedPorts} and {@code Volumes} are sets written as objects of
 * empty objects. {@code Healthcheck}, {@code Shell} and {@code OnBuild} are Docker extensions that OCI
 * tools keep.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record ContainerConfig(
        @JsonProperty("User") Optional<String> user,
        @JsonProperty("ExposedPorts") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Map<String, Object>> exposedPorts,
        @JsonProperty("Env") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> env,
        @JsonProperty("Entrypoint") Optional<List<String>> entrypoint,
        @JsonProperty("Cmd") Optional<List<String>> cmd,
        @JsonProperty("Healthcheck") Optional<HealthCheck> healthcheck,
        @JsonProperty("ArgsEscaped") Optional<Boolean> argsEscaped,
        @JsonProperty("Volumes") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Map<String, Object>> volumes,
        @JsonProperty("WorkingDir") Optional<String> workingDir,
        @JsonProperty("Labels") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> labels,
        @JsonProperty("OnBuild") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> onBuild,
        @JsonProperty("StopSignal") Optional<String> stopSignal,
        @JsonProperty("Shell") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> shell,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    public static final ContainerConfig EMPTY = new ContainerConfig(Optional.empty(), Map.of(), List.of(),
            Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(), Optional.empty(),
            Map.of(), List.of(), Optional.empty(), List.of(), Map.of());

    public ContainerConfig {
        user = Optionals.orEmpty(user);
        exposedPorts = Optionals.frozen(exposedPorts);
        env = Optionals.list(env);
        entrypoint = Optionals.orEmpty(entrypoint).map(Optionals::list);
        cmd = Optionals.orEmpty(cmd).map(Optionals::list);
        healthcheck = Optionals.orEmpty(healthcheck);
        argsEscaped = Optionals.orEmpty(argsEscaped);
        volumes = Optionals.frozen(volumes);
        workingDir = Optionals.orEmpty(workingDir);
        labels = Optionals.frozen(labels);
        onBuild = Optionals.list(onBuild);
        stopSignal = Optionals.orEmpty(stopSignal);
        shell = Optionals.list(shell);
        extra = Optionals.frozen(extra);
    }

    /** Docker's {@code Healthcheck}: durations in nanoseconds, {@code Test} as {@code ["CMD", ...]}, {@code ["CMD-SHELL", cmd]} or {@code ["NONE"]}. */
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    public record HealthCheck(
            @JsonProperty("Test") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> test,
            @JsonProperty("Interval") Optional<Long> interval,
            @JsonProperty("Timeout") Optional<Long> timeout,
            @JsonProperty("StartPeriod") Optional<Long> startPeriod,
            @JsonProperty("StartInterval") Optional<Long> startInterval,
            @JsonProperty("Retries") Optional<Integer> retries) {
        public HealthCheck {
            test = Optionals.list(test);
            interval = Optionals.orEmpty(interval);
            timeout = Optionals.orEmpty(timeout);
            startPeriod = Optionals.orEmpty(startPeriod);
            startInterval = Optionals.orEmpty(startInterval);
            retries = Optionals.orEmpty(retries);
        }
    }

    /** A builder for copies with some fields changed; records stay immutable. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Mutable only while a copy is being made; {@link #build()} gives a new immutable record. */
    public static final class Builder {
        public Optional<String> user;
        public Map<String, Map<String, Object>> exposedPorts;
        public List<String> env;
        public Optional<List<String>> entrypoint;
        public Optional<List<String>> cmd;
        public Optional<HealthCheck> healthcheck;
        public Optional<Boolean> argsEscaped;
        public Map<String, Map<String, Object>> volumes;
        public Optional<String> workingDir;
        public Map<String, String> labels;
        public List<String> onBuild;
        public Optional<String> stopSignal;
        public List<String> shell;
        private final Map<String, Object> extra;

        private Builder(ContainerConfig c) {
            user = c.user;
            exposedPorts = new java.util.LinkedHashMap<>(c.exposedPorts);
            env = new java.util.ArrayList<>(c.env);
            entrypoint = c.entrypoint;
            cmd = c.cmd;
            healthcheck = c.healthcheck;
            argsEscaped = c.argsEscaped;
            volumes = new java.util.LinkedHashMap<>(c.volumes);
            workingDir = c.workingDir;
            labels = new java.util.LinkedHashMap<>(c.labels);
            onBuild = new java.util.ArrayList<>(c.onBuild);
            stopSignal = c.stopSignal;
            shell = new java.util.ArrayList<>(c.shell);
            extra = c.extra;
        }

        public ContainerConfig build() {
            return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, healthcheck, argsEscaped, volumes,
                    workingDir, labels, onBuild, stopSignal, shell, extra);
        }
    }
}
