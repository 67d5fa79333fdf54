package dev.berth.cli;

import dev.berth.builder.BuildException;
import dev.berth.builder.BuildOutput;
import dev.berth.builder.BuildRequest;
import dev.berth.builder.BuildResult;
import dev.berth.builder.Builder;
import dev.berth.layers.Compression;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Platform;
import dev.berth.registry.PullOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
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

    @Option(names = {"-o", "--output"}, paramLabel = "oci:DIR|docker-archive:FILE|type=registry",
            description = "Write the image there instead of the local store (repeatable); type=registry pushes "
                    + "the -t names without naming anything in the store.")
    List<String> outputs = new ArrayList<>();

    @Option(names = "--push", description = "Push every -t name to its registry.")
    boolean push;

    @Option(names = "--cache-from", paramLabel = "type=registry,ref=REF|type=local,src=DIR|REF",
            description = "Take steps' layers from this cache (repeatable): a cache a --cache-to wrote, or an image "
                    + "built with --cache-to type=inline. A cache that cannot be read is a warning.")
    List<String> cacheFrom = new ArrayList<>();

    @Option(names = "--cache-to", paramLabel = "type=registry,ref=REF|type=local,dest=DIR|type=inline[,mode=min|max]",
            description = "After the build, write its cache there (repeatable); mode=max keeps every stage's steps, "
                    + "min (the default) those of the image. A failed export is a warning.")
    List<String> cacheTo = new ArrayList<>();

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT][,...]",
            description = "Build for this platform (default: this machine's); several, comma-separated, make an image index.")
    String platform;

    @Option(names = {"-q", "--quiet"}, description = "Print only the image digest.")
    boolean quiet;

    @Option(names = "--analyze", description = "After the build, print berth analyze's whole report of the image "
            + "(without it: one line, its size and what it wastes).")
    boolean analyze;

    @Option(names = "--progress", paramLabel = "auto|plain|tty", defaultValue = "auto",
            description = "Progress display: plain lines, a live view on a terminal, or auto (tty when stderr is one).")
    String progress;

    @Option(names = "--secret", paramLabel = "id=ID[,src=FILE|,env=VAR]",
            description = "A secret for RUN --mount=type=secret (repeatable): a file's bytes, or a variable's value.")
    List<String> secrets = new ArrayList<>();

    @Option(names = "--ssh", paramLabel = "ID[=SOCKET]",
            description = "An SSH agent for RUN --mount=type=ssh (repeatable); default: the agent of $SSH_AUTH_SOCK.")
    List<String> ssh = new ArrayList<>();

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
            for (String p : platform.split(",", -1)) {
                r.platform(dev.berth.builder.Platforms.parse(p, "--platform " + platform));
            }
        }
        cacheFrom.forEach(r::cacheFrom);
        cacheTo.forEach(r::cacheTo);
        LayerWriter.sourceDateEpoch().ifPresent(r::sourceDateEpoch);
        secrets.forEach(s -> secret(r, s));
        ssh.forEach(s -> ssh(r, s));
        PrintWriter err = spec.commandLine().getErr();
        BuildProgress view = switch (progress.toLowerCase(Locale.ROOT)) {
            case "plain" -> new BuildProgress(err, false, quiet);
            case "tty" -> new BuildProgress(err, !quiet, quiet);
            case "auto" -> new BuildProgress(err, !quiet && System.console() != null && System.console().isTerminal(), quiet);
            default -> throw new BuildException("--progress " + progress + ": use auto, plain or tty");
        };
        BuildResult result;
        RuntimeStepRunner steps = new RuntimeStepRunner(Stores.home(), err);
        interruptsStop(steps);
        try (BuildRegistry registry = new BuildRegistry()) {
            Builder builder = Builder.create(Stores.home())
                    .withBaseImages((ref, p, store) -> Optional.of(registry.get()
                            .pull(store, ref, SnapshotUnpacking.into(PullOptions.defaults().withPlatform(p),
                                    Stores.home())).image()))
                    .withPusher(registry)
                    .withCacheRegistry(registry)
                    .withStepRunner(steps);
            result = builder.build(r.build(), view);
        } finally {
            view.close();
        }
        if (quiet) {
            spec.commandLine().getOut().println(result.digest());
            spec.commandLine().getOut().flush();
        } else {
            summarize(result, err);
        }
    }

    /** The image's size and waste in one line ({@code --analyze}: the whole report), on stderr. */
    private void summarize(BuildResult result, PrintWriter err) {
        try (dev.berth.layers.ImageStore store = Stores.open()) {
            if (!store.has(result.manifest().digest())
                    || store.reachable(java.util.List.of(result.manifest())).stream().anyMatch(d -> !store.has(d))) {
                return; // pushed or written elsewhere only
            }
            dev.berth.layers.Image image = store.image(result.manifest(), dev.berth.layers.Platform.host(), "the build");
            dev.berth.layers.AnalysisReport report = AnalyzeCommand.analyze(image);
            if (analyze) {
                AnalyzeCommand.print(report, err);
            } else {
                err.println(AnalyzeCommand.summary(report));
            }
        } catch (RuntimeException e) {
            err.println("berth: build: the analysis of the image failed: " + e.getMessage());
        }
        err.flush();
    }

    /**
     * {@code --secret id=ID,src=FILE}, {@code id=ID,env=VAR} (also with {@code type=file|env}, as buildx
     * takes them); {@code id=ID} alone takes the variable ID, else the file ID.
     */
    private static void secret(BuildRequest.Builder r, String text) {
        String id = null;
        String src = null;
        String env = null;
        String type = null;
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            String v = eq < 0 ? "" : part.substring(eq + 1);
            switch (k) {
                case "id" -> id = v;
                case "src", "source" -> src = v;
                case "env" -> env = v;
                case "type" -> type = v;
                default -> throw new BuildException("--secret " + text + ": unknown key \"" + k
                        + "\" (id, src, env, type)");
            }
        }
        if (id == null || id.isEmpty()) {
            throw new BuildException("--secret " + text + ": id= is missing");
        }
        if (env == null && src == null) {
            if ("env".equals(type) || (!"file".equals(type) && System.getenv(id) != null)) {
                env = id;
            } else {
                src = id;
            }
        }
        if (env != null) {
            String value = System.getenv(env);
            if (value == null) {
                throw new BuildException("--secret " + text + ": the variable " + env + " is not set");
            }
            r.secret(id, new BuildRequest.Secret.Value(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } else {
            Path file = Path.of(src);
            if (!java.nio.file.Files.isReadable(file)) {
                throw new BuildException("--secret " + text + ": cannot read " + file);
            }
            r.secret(id, new BuildRequest.Secret.FromFile(file.toAbsolutePath()));
        }
    }

    /** {@code --ssh ID=SOCKET}, or {@code --ssh default} for the agent at {@code $SSH_AUTH_SOCK}. */
    private static void ssh(BuildRequest.Builder r, String text) {
        int eq = text.indexOf('=');
        String id = eq < 0 ? text : text.substring(0, eq);
        String socket = eq < 0 ? System.getenv("SSH_AUTH_SOCK") : text.substring(eq + 1);
        if (id.isEmpty()) {
            throw new BuildException("--ssh " + text + ": expected ID[=SOCKET]");
        }
        if (socket == null || socket.isEmpty()) {
            throw new BuildException("--ssh " + text + ": no socket given and SSH_AUTH_SOCK is not set");
        }
        r.sshAgent(id, Path.of(socket).toAbsolutePath());
    }

    /**
     * INT and TERM stop the build: a running RUN's container is killed (the build then fails, cleaning up
     * after itself as after any failure); between RUNs, berth exits at once, and what it leaves in its
     * temporary directories the next build sweeps.
     */
    @SuppressWarnings("removal")
    private static void interruptsStop(RuntimeStepRunner steps) {
        for (String name : List.of("INT", "TERM")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    if (!steps.interrupt()) {
                        System.exit(128 + sig.getNumber());
                    }
                });
            } catch (IllegalArgumentException reservedByTheJvm) {
                // e.g. with -Xrs: the default action stays
            }
        }
    }
}
