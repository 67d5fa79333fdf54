package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.builder.BuildEvent;
import dev.berth.builder.BuildRequest;
import dev.berth.builder.BuildResult;
import dev.berth.builder.Builder;
import dev.berth.builder.StepRunner;
import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.runtime.ContainerImage;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.RunOptions;
import dev.berth.runtime.RunResult;
import dev.berth.runtime.Stdio;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Builds with RUN as berth runs them (the builder with berth's runtime as its step runner), and ways to
 * look at the result: events, the output of the steps, the layers' tar entries, a container of the image.
 */
final class Builds {
    /** The real runner, counting the steps it runs (a build whose steps all hit the cache runs none). */
    static final class CountingRunner implements StepRunner {
        final RuntimeStepRunner real;
        final AtomicInteger runs = new AtomicInteger();

        CountingRunner(Path home) {
            this.real = new RuntimeStepRunner(new BerthHome(home), new java.io.PrintWriter(System.err, true));
        }

        @Override
        public Optional<String> unavailable() {
            return real.unavailable();
        }

        @Override
        public Optional<String> unavailable(Platform platform) {
            return real.unavailable(platform);
        }

        @Override
        public void recover() {
            real.recover();
        }

        @Override
        public Changes run(Step step, Consumer<String> output) {
            runs.incrementAndGet();
            return real.run(step, output);
        }
    }

    /** A finished (or failed) build. */
    record Outcome(BuildResult result, List<BuildEvent> events, int runs) {
        /** What the RUN steps printed, line by line, in order. */
        List<String> output() {
            return events.stream().filter(e -> e instanceof BuildEvent.Output).map(e -> ((BuildEvent.Output) e).line())
                    .toList();
        }

        long cached() {
            return result.cachedSteps();
        }
    }

    private Builds() {}

    static void dockerfile(Path context, String... lines) {
        write(context, "Dockerfile", String.join("\n", lines) + "\n");
    }

    static Path write(Path context, String path, String text) {
        try {
            Path p = context.resolve(path);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Outcome build(Path home, Path context, String... lines) {
        dockerfile(context, lines);
        return build(home, context, r -> r);
    }

    /** Builds {@code context} into {@code home} with gzip:1 layers; the request as {@code options} make it. */
    static Outcome build(Path home, Path context, UnaryOperator<BuildRequest.Builder> options) {
        return build(home, context, options, b -> b);
    }

    /** The same with the builder's other ports wired by {@code wiring} (a registry, a pusher). */
    static Outcome build(Path home, Path context, UnaryOperator<BuildRequest.Builder> options,
                         UnaryOperator<Builder> wiring) {
        List<BuildEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountingRunner runner = new CountingRunner(home);
        BuildRequest request = options.apply(BuildRequest.builder(context).compression(Compression.parse("gzip:1")))
                .build();
        BuildResult r = wiring.apply(Builder.create(new BerthHome(home)).withStepRunner(runner))
                .build(request, events::add);
        return new Outcome(r, List.copyOf(events), runner.runs.get());
    }

    /** The warnings a build gave, as events. */
    static List<String> warnings(Outcome o) {
        return o.events().stream().filter(e -> e instanceof BuildEvent.Warning).map(e -> ((BuildEvent.Warning) e).message())
                .toList();
    }

    static Image image(Path home, BuildResult r) {
        try (ImageStore store = new BerthHome(home).openStore()) {
            return store.image(r.manifest(), Platform.host(), "built");
        }
    }

    /** The entries of layer {@code index} of the image, by name as written. */
    static Map<String, TarArchiveEntry> layer(Path home, BuildResult r, int index) {
        Image image = image(home, r);
        Map<String, TarArchiveEntry> out = new LinkedHashMap<>();
        try (InputStream in = image.blobs().open(image.layers().get(index));
             TarArchiveInputStream tar = new TarArchiveInputStream(new java.util.zip.GZIPInputStream(in))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                out.put(e.getName(), e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Runs {@code sh -c script} in a container of the built image; returns its stdout (exit code 0 asserted). */
    static String sh(Path home, BuildResult r, String script) {
        try {
            Path out = Files.createTempFile("berth-test", ".out");
            Path err = Files.createTempFile("berth-test", ".err");
            RunResult result = ContainerRuntime.open(new BerthHome(home)).start(ContainerImage.of(
                    Reference.parse("built:test"), image(home, r)), RunOptions.builder().remove(true)
                    .command("sh", "-c", script).stdout(Stdio.file(out)).stderr(Stdio.file(err)).build()).await();
            String text = Files.readString(out);
            String errors = Files.readString(err);
            Files.delete(out);
            Files.delete(err);
            assertThat(result.exitCode()).as("exit code; stderr: %s", errors).isZero();
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a berth home holds in the directories a build cleans up after: containers and temporary files. */
    static List<String> leftovers(Path home) {
        List<String> out = new ArrayList<>();
        for (String dir : List.of("containers", "tmp")) {
            Path d = home.resolve(dir);
            if (Files.isDirectory(d)) {
                try (var s = Files.list(d)) {
                    s.map(p -> dir + "/" + p.getFileName()).filter(p -> !p.endsWith("/.names")).forEach(out::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                if (line.contains(home.toString())) {
                    out.add("mount " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
