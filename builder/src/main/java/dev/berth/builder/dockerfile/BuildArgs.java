package dev.berth.builder.dockerfile;

import dev.berth.layers.Platform;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code --build-arg} values of a build and the platforms it builds on and for.
 *
 * <p>The rules (docker's reference §ARG, buildkit's {@code dockerfile2llb}):
 * <ul>
 *   <li>ARGs before the first FROM are global: usable in FROM lines only, and inside a stage only after the
 *       stage declares them again ({@code ARG NAME} without a value takes the global value).
 *   <li>A build arg overrides an ARG's default; an ARG with neither is unset.
 *   <li>The platform args ({@link #automatic}) are global: a stage must declare them to use them.
 *   <li>The proxy args ({@link #PROXY_NAMES}) need no ARG: RUN sees them without them being recorded in
 *       the image history or the cache key, unless the Dockerfile declares them.
 * </ul>
 *
 * @param values the build args in the order given
 * @param buildPlatform the platform of the machine that builds (BUILDPLATFORM)
 * @param targetPlatform the platform of the image built (TARGETPLATFORM)
 */
public record BuildArgs(Map<String, String> values, Platform buildPlatform, Platform targetPlatform) {
    /** The predefined proxy args, usable without an ARG. */
    public static final List<String> PROXY_NAMES = List.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
            "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy");

    /** The automatic platform args, in the order buildkit defines them. */
    public static final List<String> AUTOMATIC_NAMES = List.of("BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION",
            "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT",
            "TARGETSTAGE");

    /** Build args buildkit itself understands; never reported as unused. */
    private static final Set<String> BUILTIN = Set.of("SOURCE_DATE_EPOCH", "BUILDKIT_INLINE_CACHE",
            "BUILDKIT_MULTI_PLATFORM", "BUILDKIT_SANDBOX_HOSTNAME", "BUILDKIT_SYNTAX", "BUILDKIT_CACHE_MOUNT_NS",
            "BUILDKIT_CONTEXT_KEEP_GIT_DIR", "BUILDKIT_BUILD_NAME");

    public BuildArgs {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        Objects.requireNonNull(buildPlatform, "buildPlatform");
        Objects.requireNonNull(targetPlatform, "targetPlatform");
    }

    /** Build args for a build on and for the host's platform. */
    public static BuildArgs of(Map<String, String> values) {
        Platform host = Platform.host();
        return new BuildArgs(values, host, host);
    }

    public static BuildArgs none() {
        return of(Map.of());
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /**
     * The automatic global args: BUILDPLATFORM/BUILDOS/BUILDOSVERSION/BUILDARCH/BUILDVARIANT for the build
     * platform, the TARGET* equivalents for the target platform, and TARGETSTAGE (the target stage's
     * name, {@code default} when it has none). A build arg of the same name overrides each.
     */
    public Environment automatic(String targetStage) {
        LinkedHashMap<String, String> env = new LinkedHashMap<>();
        env.put("BUILDPLATFORM", buildPlatform.toString());
        env.put("BUILDOS", buildPlatform.os());
        env.put("BUILDOSVERSION", buildPlatform.osVersion().orElse(""));
        env.put("BUILDARCH", buildPlatform.architecture());
        env.put("BUILDVARIANT", buildPlatform.variant().orElse(""));
        env.put("TARGETPLATFORM", targetPlatform.toString());
        env.put("TARGETOS", targetPlatform.os());
        env.put("TARGETOSVERSION", targetPlatform.osVersion().orElse(""));
        env.put("TARGETARCH", targetPlatform.architecture());
        env.put("TARGETVARIANT", targetPlatform.variant().orElse(""));
        env.put("TARGETSTAGE", targetStage.isEmpty() ? "default" : targetStage);
        env.replaceAll((k, v) -> values.getOrDefault(k, v));
        return Environment.of(env);
    }

    /**
     * The proxy build args that were given (names matched case-insensitively, as buildkit does), for the
     * environment of RUN. They are not part of the image's history or the cache key.
     */
    public Environment proxies() {
        LinkedHashMap<String, String> env = new LinkedHashMap<>();
        values.keySet().stream().sorted().filter(BuildArgs::isProxy).forEach(k -> env.put(k, values.get(k)));
        return Environment.of(env);
    }

    /** Whether a build arg is one of the predefined proxy args, in any letter case. */
    public static boolean isProxy(String name) {
        return PROXY_NAMES.contains(name.toUpperCase(Locale.ROOT));
    }

    /**
     * The build args that no ARG of the build declared (for docker's warning "build-args [...] were not
     * consumed"); predefined and builtin args are never reported. Sorted.
     */
    public List<String> unused(Collection<String> declared) {
        return values.keySet().stream()
                .filter(k -> !declared.contains(k))
                .filter(k -> !isProxy(k) && !AUTOMATIC_NAMES.contains(k) && !BUILTIN.contains(k))
                .sorted()
                .toList();
    }
}
