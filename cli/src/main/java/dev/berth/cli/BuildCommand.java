package dev.berth.cli;

import dev.berth.builder.BuildEvent;
import dev.berth.builder.BuildException;
import dev.berth.builder.BuildOutput;
import dev.berth.builder.BuildRequest;
import dev.berth.builder.BuildResult;
import dev.berth.builder.Builder;
import dev.berth.layers.Compression;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Platform;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PushOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth build}: a Dockerfile to an image, with no daemon. Progress goes to stderr, one line per
 * step ({@code [2/6] COPY app /app  0.4s} or {@code CACHED}), redrawn live on a terminal; with
 * {@code --quiet} only the image digest is printed, on stdout.
 */
@Command(name = "build", description = "Build an image from a Dockerfile.")
final class BuildCommand implements Runnable {
    @Option(names = {"-t", "--tag"}, paramLabel = "NAME[:TAG]", description = "Name the image (repeatable).")
    List<String> tags = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "The Dockerfile (default: CONTEXT/Dockerfile).")
    Path file;

    @Option(names = "--build-arg", paramLabel = "NAME[=VALUE]",
            description = "Set a build arg; NAME alone takes the value from the environment (repeatable).")
    List<String> buildArgs = new ArrayList<>();

    @Option(names = "--target", paramLabel = "STAGE", description = "Build this stage and what it needs, not the last one.")
    String target;

    @Option(names = "--no-cache", description = "Build every step again, reading nothing from the cache.")
    boolean noCache;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Set a label on the image (repeatable).")
    List<String> labels = new ArrayList<>();

    @Option(names = "--compression", paramLabel = "gzip|zstd|none[:LEVEL]", defaultValue = "gzip:1",
            description = "How new layers are compressed (default: gzip:1, the fastest gzip; gzip alone is level 6).")
    String compression;

    @Option(names = {"-o", "--output"}, paramLabel = "oci:DIR|docker-archive:FILE",
            description = "Write the image there instead of the local store (repeatable).")
    List<String> outputs = new ArrayList<>();

    @Option(names = "--push", description = "Push every -t name to its registry.")
    boolean push;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Build for this platform (default: this machine's).")
    String platform;

    @Option(names = {"-q", "--quiet"}, description = "Print only the image digest.")
    boolean quiet;

    @Option(names = "--progress", paramLabel = "auto|plain|tty", defaultValue = "auto",
            description = "Progress display: plain lines, a live view on a terminal, or auto (tty when stderr is one).")
    String progress;

    @Parameters(index = "0", paramLabel = "CONTEXT", description = "The build context directory.")
    Path context;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        BuildRequest.Builder r = BuildRequest.builder(context);
        if (file != null) {
            r.dockerfile(file);
        }
        tags.forEach(r::tag);
        for (String a : buildArgs) {
            int eq = a.indexOf('=');
            if (eq > 0) {
                r.buildArg(a.substring(0, eq), a.substring(eq + 1));
            } else if (eq < 0 && System.getenv(a) != null) {
                r.buildArg(a, System.getenv(a));
            } else if (eq == 0) {
                throw new BuildException("--build-arg " + a + ": expected NAME=VALUE");
            }
        }
        if (target != null) {
            r.target(target);
        }
        r.noCache(noCache);
        for (String l : labels) {
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw new BuildException("--label " + l + ": expected KEY=VALUE");
            }
            r.label(l.substring(0, eq), l.substring(eq + 1));
        }
        r.compression(Compression.parse(compression));
        outputs.forEach(o -> r.output(BuildOutput.parse(o)));
        if (push) {
            r.output(new BuildOutput.Store());
            r.output(new BuildOutput.Push());
        }
        if (platform != null) {
            r.platform(Platform.parse(platform));
        }
        LayerWriter.sourceDateEpoch().ifPresent(r::sourceDateEpoch);
        PrintWriter err = spec.commandLine().getErr();
        Progress view = switch (progress.toLowerCase(Locale.ROOT)) {
            case "plain" -> new Progress(err, false, quiet);
            case "tty" -> new Progress(err, !quiet, quiet);
            case "auto" -> new Progress(err, !quiet && System.console() != null && System.console().isTerminal(), quiet);
            default -> throw new BuildException("--progress " + progress + ": use auto, plain or tty");
        };
        BuildResult result;
        try (LazyRegistry registry = new LazyRegistry()) {
            Builder builder = Builder.create(Stores.home())
                    .withBaseImages((ref, p, store) -> Optional.of(registry.get()
                            .pull(store, ref, PullOptions.defaults().withPlatform(p)).image()))
                    .withPusher((store, image, target) -> registry.get().push(store, target, target, PushOptions.defaults()));
            result = builder.build(r.build(), view);
        } finally {
            view.close();
        }
        if (quiet) {
            spec.commandLine().getOut().println(result.digest());
            spec.commandLine().getOut().flush();
        }
    }

    /** The registry client, made only when a build pulls or pushes: most builds do neither. */
    private static final class LazyRegistry implements AutoCloseable {
        private RegistryClient client;

        synchronized RegistryClient get() {
            if (client == null) {
                client = RegistryClient.create(RegistryConfig.fromEnvironment());
            }
            return client;
        }

        @Override
        public synchronized void close() {
            if (client != null) {
                client.close();
            }
        }
    }

    /** Renders build events: plain lines, or a live line with a ticking clock on a terminal. */
    static final class Progress implements Consumer<BuildEvent>, AutoCloseable {
        private final PrintWriter err;
        private final boolean live;
        private final boolean quiet;
        private final Thread ticker;
        private BuildEvent.Step current;
        private long startedNanos;

        Progress(PrintWriter err, boolean live, boolean quiet) {
            this.err = err;
            this.live = live;
            this.quiet = quiet;
            this.ticker = live ? Thread.ofPlatform().daemon().name("berth-progress").start(this::tick) : null;
        }

        @Override
        public synchronized void accept(BuildEvent event) {
            switch (event) {
                case BuildEvent.StepStarted s -> {
                    current = s.step();
                    startedNanos = System.nanoTime();
                    redraw();
                }
                case BuildEvent.StepDone d -> {
                    current = null;
                    if (!quiet) {
                        clearLine();
                        err.println(d.step().label() + "  " + (d.cached() ? "CACHED" : seconds(d.duration())));
                        err.flush();
                    }
                }
                case BuildEvent.Warning w -> {
                    clearLine();
                    err.println("WARNING: " + w.message());
                    redraw();
                }
                case BuildEvent.Note n -> {
                    if (!quiet) {
                        clearLine();
                        err.println(n.message());
                        redraw();
                    }
                }
            }
        }

        private void tick() {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                synchronized (this) {
                    redraw();
                }
            }
        }

        private void redraw() {
            if (live && current != null) {
                err.print("\r\033[K" + current.label() + "  "
                        + seconds(Duration.ofNanos(System.nanoTime() - startedNanos)));
                err.flush();
            } else {
                err.flush();
            }
        }

        private void clearLine() {
            if (live && current != null) {
                err.print("\r\033[K");
            }
        }

        static String seconds(Duration d) {
            return String.format(Locale.ROOT, "%.1fs", d.toNanos() / 1e9);
        }

        @Override
        public synchronized void close() {
            if (ticker != null) {
                ticker.interrupt();
            }
            clearLine();
            current = null;
            err.flush();
        }
    }
}
