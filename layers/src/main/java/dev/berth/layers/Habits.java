package dev.berth.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * What {@link ImageAnalysis} tells an image's author: the caches and toolchains left in a final image, each
 * with the Dockerfile habit that avoids it, and whether the program is one static binary away from
 * {@code FROM scratch}.
 */
final class Habits {
    private Habits() {}

    private record Place(String prefix, String what, String advice) {}

    /** A file the final image shows: its path, bytes and the layer (1: the lowest) it comes from. */
    record Shown(String path, long bytes, int layer) {}

    private static final List<Place> PLACES = List.of(
            new Place("/var/lib/apt/lists/", "apt's package lists",
                    "RUN --mount=type=cache,target=/var/lib/apt/lists, or rm -rf /var/lib/apt/lists/* in the RUN that runs apt-get update"),
            new Place("/var/cache/apt/", "apt's downloaded packages",
                    "RUN --mount=type=cache,target=/var/cache/apt, or apt-get clean in the RUN that installs"),
            new Place("/var/cache/apk/", "apk's cache", "apk add --no-cache"),
            new Place("/var/cache/dnf/", "dnf's cache", "dnf clean all in the RUN that installs, or a cache mount"),
            new Place("/root/.cache/", "caches (pip, go build, ...)", "RUN --mount=type=cache,target=/root/.cache"),
            new Place("/root/.npm/", "npm's cache", "RUN --mount=type=cache,target=/root/.npm, or npm cache clean --force in the same RUN"),
            new Place("/root/.m2/", "a Maven repository", "RUN --mount=type=cache,target=/root/.m2, and a multi-stage build"),
            new Place("/root/.cargo/registry/", "cargo's registry", "RUN --mount=type=cache,target=/root/.cargo/registry"),
            new Place("/usr/lib/gcc/", "a C compiler (gcc)", "a multi-stage build: compile in one stage, COPY --from=it the result"),
            new Place("/usr/libexec/gcc/", "a C compiler (gcc)", "a multi-stage build: compile in one stage, COPY --from=it the result"),
            new Place("/usr/local/go/", "the Go toolchain", "a multi-stage build: go build in one stage, COPY --from=it the binary"),
            new Place("/usr/lib/go/", "the Go toolchain", "a multi-stage build: go build in one stage, COPY --from=it the binary"));

    /** The places of {@link #PLACES} the final image's {@code files} fill, with their bytes. */
    static List<AnalysisReport.Finding> find(List<Shown> files) {
        List<AnalysisReport.Finding> out = new ArrayList<>();
        for (Place p : PLACES) {
            long bytes = 0;
            java.util.SortedSet<Integer> layers = new java.util.TreeSet<>();
            for (Shown f : files) {
                if (f.path().startsWith(p.prefix()) && f.bytes() > 0) {
                    bytes += f.bytes();
                    layers.add(f.layer());
                }
            }
            if (bytes > 0) {
                out.add(new AnalysisReport.Finding(p.prefix().substring(0, p.prefix().length() - 1), bytes,
                        List.copyOf(layers), p.what(), p.advice()));
            }
        }
        return out;
    }

    /**
     * The image's program (its ENTRYPOINT, else CMD, first word, symlinks followed): static, it needs nothing
     * else of the image; dynamic, it is a static build away from it.
     */
    static Optional<String> scratch(ContainerConfig config, List<AnalysisReport.Binary> binaries,
                                    Function<String, Optional<String>> resolve, long content) {
        List<String> argv = config.entrypoint().filter(e -> !e.isEmpty()).or(config::cmd).orElse(List.of());
        if (argv.isEmpty() || !argv.getFirst().startsWith("/")) {
            return Optional.empty();
        }
        Optional<String> real = resolve.apply(argv.getFirst());
        Optional<AnalysisReport.Binary> program = real.flatMap(r -> binaries.stream().filter(b -> b.path().equals(r))
                .findFirst());
        if (program.isEmpty()) {
            return Optional.empty();
        }
        AnalysisReport.Binary b = program.get();
        if (b.staticallyLinked()) {
            return b.bytes() >= content ? Optional.empty() : Optional.of(argv.getFirst() + " is statically linked: FROM scratch"
                    + " and COPY of it (" + b.bytes() + " bytes of the image's " + content + ") would run the same");
        }
        return Optional.of(argv.getFirst() + " is dynamically linked (" + b.interpreter().orElse("?") + "): linked"
                + " statically, it could run FROM scratch with nothing else");
    }
}
