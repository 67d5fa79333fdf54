package dev.berth.builder;

import dev.berth.layers.Compression;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What to build: {@code berth build}'s options as data.
 *
 * @param context the build context directory
 * @param dockerfile the Dockerfile; default {@code CONTEXT/Dockerfile}. Errors name it as given here.
 * @param tags the names the image gets ({@code -t}), in every output
 * @param buildArgs {@code --build-arg} values, in the order given
 * @param target the stage to build ({@code --target}); default the last one
 * @param noCache build every step, reading no cache (the results are still recorded)
 * @param labels {@code --label} values, set on the image after the Dockerfile's own
 * @param compression how new layers are compressed
 * @param outputs where the image goes; empty means the local store
 * @param platforms the platforms to build for: none means this machine's, one builds an image for it, several
 *     build the Dockerfile once for each and make an OCI image index of the images
 * @param sourceDateEpoch the time of every new layer entry and of {@code created}; empty means layer
 *     entries at 1970-01-01T00:00:01Z and {@code created} at build time. The command line fills it from
 *     {@code SOURCE_DATE_EPOCH} (a library does not read the environment behind its caller's back). Files a
 *     RUN creates or changes get it too when they are newer.
 * @param secrets {@code --secret}: what {@code RUN --mount=type=secret,id=ID} mounts, by id
 * @param sshAgents {@code --ssh}: the agent socket {@code RUN --mount=type=ssh,id=ID} reaches, by id
 * @param cacheFrom {@code --cache-from}: caches whose entries steps may take (after the local cache)
 * @param cacheTo {@code --cache-to}: where the build's cache entries are written after its outputs
 */
public record BuildRequest(Path context, Optional<Path> dockerfile, List<Reference> tags, Map<String, String> buildArgs,
                           Optional<String> target, boolean noCache, Map<String, String> labels,
                           Compression compression, List<BuildOutput> outputs, List<Platform> platforms,
                           Optional<Instant> sourceDateEpoch, Map<String, Secret> secrets, Map<String, Path> sshAgents,
                           List<CacheSpec> cacheFrom, List<CacheSpec> cacheTo) {

    /** A secret: never in a layer, a cache key or a history entry. */
    public sealed interface Secret {
        /** The bytes of a file, read when a step mounts it. */
        record FromFile(Path file) implements Secret {}

        /** Bytes given directly (a variable of the caller's environment). */
        record Value(byte[] bytes) implements Secret {
            public Value {
                bytes = bytes.clone();
            }

            @Override
            public byte[] bytes() {
                return bytes.clone();
            }

            @Override
            public String toString() {
                return "Value[" + bytes.length + " bytes]";
            }
        }
    }

    public BuildRequest {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(dockerfile, "dockerfile");
        tags = List.copyOf(tags);
        buildArgs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(buildArgs));
        Objects.requireNonNull(target, "target");
        labels = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        Objects.requireNonNull(compression, "compression");
        outputs = List.copyOf(outputs);
        platforms = List.copyOf(new java.util.LinkedHashSet<>(platforms));
        Objects.requireNonNull(sourceDateEpoch, "sourceDateEpoch");
        secrets = Map.copyOf(secrets);
        sshAgents = Map.copyOf(sshAgents);
        cacheFrom = List.copyOf(cacheFrom);
        cacheTo = List.copyOf(cacheTo);
    }

    /** Whether the image's config carries its own cache keys ({@code --cache-to type=inline}). */
    public boolean inlineCache() {
        return cacheTo.stream().anyMatch(c -> c instanceof CacheSpec.Inline);
    }

    /**
     * New layers are gzip level 1 unless asked otherwise: a local build is an inner loop, and level 1
     * compresses the 200 MB benchmark tree about three times faster than level 6 (2.6 s against 8 s of CPU)
     * for layers about 8% larger (92 MB against 85 MB). The bytes still depend only on the input.
     * {@code --compression gzip} (level 6), {@code gzip:9} or {@code zstd} choose otherwise.
     */
    public static final Compression DEFAULT_COMPRESSION = Compression.parse("gzip:1");

    /** A request to build {@code context} with every option at its default. */
    public static Builder builder(Path context) {
        return new Builder(context);
    }

    /** The Dockerfile to read: {@link #dockerfile()} or {@code CONTEXT/Dockerfile}. */
    public Path dockerfilePath() {
        return dockerfile.orElseGet(() -> context.resolve("Dockerfile").normalize());
    }

    /** Whether the build makes an image index: it is for more than one platform. */
    public boolean multiPlatform() {
        return platforms.size() > 1;
    }

    /** This request for one of its platforms (one image; the outputs are written for the whole build). */
    BuildRequest forPlatform(Platform p) {
        return new BuildRequest(context, dockerfile, tags, buildArgs, target, noCache, labels, compression, outputs,
                List.of(p), sourceDateEpoch, secrets, sshAgents, cacheFrom, cacheTo);
    }

    /** The outputs: the local store when none was given, and also when pushing (a push sends what it names). */
    public List<BuildOutput> effectiveOutputs() {
        if (outputs.isEmpty()) {
            return List.of(new BuildOutput.Store());
        }
        if (outputs.contains(new BuildOutput.Push()) && !outputs.contains(new BuildOutput.Store())) {
            List<BuildOutput> all = new ArrayList<>(outputs);
            all.add(new BuildOutput.Store());
            return List.copyOf(all);
        }
        return outputs;
    }

    /** Mutable only while a request is being assembled. */
    public static final class Builder {
        private final Path context;
        private Optional<Path> dockerfile = Optional.empty();
        private final List<Reference> tags = new ArrayList<>();
        private final Map<String, String> buildArgs = new LinkedHashMap<>();
        private Optional<String> target = Optional.empty();
        private boolean noCache;
        private final Map<String, String> labels = new LinkedHashMap<>();
        private Compression compression = DEFAULT_COMPRESSION;
        private final List<BuildOutput> outputs = new ArrayList<>();
        private final List<Platform> platforms = new ArrayList<>();
        private Optional<Instant> sourceDateEpoch = Optional.empty();
        private final Map<String, Secret> secrets = new LinkedHashMap<>();
        private final Map<String, Path> sshAgents = new LinkedHashMap<>();
        private final List<String> cacheFrom = new ArrayList<>();
        private final List<String> cacheTo = new ArrayList<>();

        private Builder(Path context) {
            this.context = context;
        }

        public Builder dockerfile(Path file) {
            this.dockerfile = Optional.of(file);
            return this;
        }

        public Builder tag(String name) {
            tags.add(Reference.parse(name));
            return this;
        }

        public Builder buildArg(String name, String value) {
            buildArgs.put(name, value);
            return this;
        }

        public Builder target(String stage) {
            this.target = Optional.of(stage);
            return this;
        }

        public Builder noCache(boolean value) {
            this.noCache = value;
            return this;
        }

        public Builder label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        public Builder compression(Compression value) {
            this.compression = value;
            return this;
        }

        public Builder output(BuildOutput output) {
            outputs.add(output);
            return this;
        }

        /** Adds a platform to build for (repeatable: several make an image index). */
        public Builder platform(Platform value) {
            platforms.add(Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder sourceDateEpoch(Instant epoch) {
            this.sourceDateEpoch = Optional.of(epoch);
            return this;
        }

        public Builder secret(String id, Secret value) {
            secrets.put(id, value);
            return this;
        }

        public Builder sshAgent(String id, Path socket) {
            sshAgents.put(id, socket);
            return this;
        }

        /** Adds a {@code --cache-from} value ({@code type=registry,ref=REF}, {@code type=local,src=DIR}, {@code REF}). */
        public Builder cacheFrom(String spec) {
            cacheFrom.add(spec);
            return this;
        }

        /** Adds a {@code --cache-to} value ({@code type=registry,ref=REF[,mode=max]}, {@code type=local,dest=DIR}, {@code type=inline}). */
        public Builder cacheTo(String spec) {
            cacheTo.add(spec);
            return this;
        }

        /** The request; a malformed {@code --cache-from/--cache-to} value is a {@link BuildException}. */
        public BuildRequest build() {
            return new BuildRequest(context, dockerfile, tags, buildArgs, target, noCache, labels, compression,
                    outputs, platforms, sourceDateEpoch, secrets, sshAgents,
                    cacheFrom.stream().map(CacheSpec::parseFrom).toList(),
                    cacheTo.stream().map(c -> CacheSpec.parseTo(c, compression.spec())).toList());
        }
    }
}
