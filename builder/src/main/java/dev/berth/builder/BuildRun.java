package dev.berth.builder;

import dev.berth.builder.context.DockerIgnore;
import dev.berth.builder.dockerfile.BuildArgs;
import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Dockerfile;
import dev.berth.builder.dockerfile.Environment;
import dev.berth.builder.dockerfile.Expander;
import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.KeyValue;
import dev.berth.builder.dockerfile.Location;
import dev.berth.builder.dockerfile.ShellLexer;
import dev.berth.builder.dockerfile.StageScope;
import dev.berth.builder.dockerfile.Stages;
import dev.berth.layers.Compression;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Document;
import dev.berth.layers.Image;
import dev.berth.layers.ImageArchive;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.LayersException;
import dev.berth.layers.Manifest;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One build: validate everything that can be validated before any work (RUN, base images, outputs), then
 * run the stages the target needs in order, then write the outputs and name the image last.
 *
 * <p>Cache keys. A step that writes a layer is keyed by what decides its layer: the diff_ids below it
 * (the file tree it writes into: existing directories, symlinks, /etc/passwd for --chown), the expanded
 * instruction with its flags and absolute destination, the layer time and the compression; plus, for
 * COPY from the context, the content of the sources (see {@link BuildCache}); for --from, the source's
 * diff_ids; for ADD of a URL, the --checksum or the downloaded bytes. Metadata steps (ENV, LABEL, ...)
 * need no cache: they cost nothing.
 */
final class BuildRun {
    /** Stands for the build time in history entries until the image's time is known (see {@link #finish}). */
    private static final String PENDING = "berth:pending";
    private static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");

    private final BuildRequest request;
    private final Consumer<BuildEvent> events;
    private final ImageStore store;
    private final BuildCache cache;
    private final Path tmpRoot;
    private final BaseImages baseImages;
    private final Optional<ImagePusher> pusher;
    private final List<String> warnings = new ArrayList<>();
    private final List<BuildEvent.StepDone> done = new ArrayList<>();
    private final Map<Integer, StageState> results = new HashMap<>();
    private final Map<String, Resolved> images = new HashMap<>();
    private final Set<String> declaredArgs = new LinkedHashSet<>();
    /**
     * Everything the image config and manifest are a function of, in order: the request's options, each
     * stage's base, each instruction as written, each layer's digests. Equal recipes give equal images, so
     * a rebuild whose recipe is known reuses the image without serialising a byte of JSON.
     */
    private final StringBuilder recipe = new StringBuilder("berth-image-v1\n");

    private ShellLexer lexer;
    private Stages stages;
    private BuildPlan plan;
    private BuildArgs args;
    private ContextDir context;
    private Instant layerTime;
    private Optional<Instant> epoch;
    private Path scratch;
    private int stepNumber;
    private int totalSteps;
    private boolean multiStage;
    private String currentStage = "";

    /** An image from the store with the name it was asked by. */
    record Resolved(Reference ref, Image image) {}

    /** The state of a stage while its instructions run, and its result after. */
    static final class StageState {
        final BuildPlan.PlannedStage planned;
        ImageConfig config;
        ImageFs fs;
        StageScope scope;
        boolean cmdSet;
        Optional<Resolved> base;
        List<Instruction> imageTriggers = List.of();

        StageState(BuildPlan.PlannedStage planned) {
            this.planned = planned;
        }

        List<Digest> diffIds() {
            return config.rootfs().diffIds();
        }
    }

    BuildRun(BuildRequest request, Consumer<BuildEvent> events, ImageStore store, BuildCache cache, Path tmpRoot,
             BaseImages baseImages, Optional<ImagePusher> pusher) {
        this.request = request;
        this.events = events;
        this.store = store;
        this.cache = cache;
        this.tmpRoot = tmpRoot;
        this.baseImages = baseImages;
        this.pusher = pusher;
    }

    BuildResult run() {
        List<BuildOutput> outputs = request.effectiveOutputs();
        checkOutputs(outputs);
        Path dockerfilePath = request.dockerfilePath();
        Path contextDir = request.context();
        if (!Files.isDirectory(contextDir)) {
            throw new BuildException("build context " + contextDir + " is not a directory");
        }
        // Errors name the Dockerfile as the user gave it: "Dockerfile:3: ..." unless -f named another file.
        String name = request.dockerfile().map(Path::toString).orElse(Dockerfile.DEFAULT_NAME);
        Dockerfile df;
        try {
            df = Dockerfile.parse(name, Files.readAllBytes(dockerfilePath));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new BuildException("cannot read " + dockerfilePath + ": no such file");
        } catch (IOException e) {
            throw new BuildException("cannot read " + dockerfilePath + ": " + e.getMessage(), e);
        }
        df.warnings().forEach(w -> warn(w.toString()));
        lexer = df.lexer();
        stages = df.stages();
        Platform host = Platform.host();
        Platform target = request.platform().orElse(host);
        args = new BuildArgs(request.buildArgs(), host, target);
        plan = stages.plan(request.target(), args);
        epoch = request.sourceDateEpoch().or(() -> args.get("SOURCE_DATE_EPOCH").map(s -> {
            try {
                return Instant.ofEpochSecond(Long.parseLong(s.trim()));
            } catch (NumberFormatException e) {
                throw new BuildException("--build-arg SOURCE_DATE_EPOCH=" + s + ": not a number of seconds");
            }
        }));
        layerTime = epoch.orElse(LayerWriter.DEFAULT_TIME);
        multiStage = plan.stages().size() > 1;
        context = new ContextDir(contextDir, DockerIgnore.load(contextDir, dockerfilePath));

        recipe.append("target=").append(plan.target().index()).append(" platform=").append(target)
                .append(" epoch=").append(epoch.map(Instant::toString).orElse("")).append(" labels=")
                .append(request.labels()).append(" args=").append(request.buildArgs()).append(' ')
                .append(compressionKey()).append('\n');
        prepare();
        try {
            // a build killed earlier left its scratch directory: remove it now, as nothing else will
            TempDirs.removeAbandoned(tmpRoot, "build-");
            scratch = TempDirs.create(tmpRoot, "build-");
            for (BuildPlan.PlannedStage ps : plan.stages()) {
                results.put(ps.stage().index(), buildStage(ps));
            }
        } catch (IOException e) {
            throw new BuildException("build: " + e.getMessage(), e);
        } finally {
            deleteScratch();
        }
        declaredArgs.addAll(stages.globalArgs().stream().flatMap(a -> a.args().stream()).map(d -> d.name()).toList());
        List<String> unused = args.unused(declaredArgs);
        if (!unused.isEmpty()) {
            warn("build-args " + unused + " were not consumed by any ARG");
        }
        StageState last = results.get(plan.target().index());
        String recipeKey = BuildCache.sha256(recipe.toString());
        Optional<BuildCache.ImageRecord> known = request.noCache() ? Optional.empty()
                : cache.image(recipeKey).filter(r -> store.has(r.manifest()) && store.has(r.imageId()));
        BuildCache.ImageRecord image = known.orElseGet(() -> {
            BuildCache.ImageRecord r = finish(last);
            cache.recordImage(recipeKey, r);
            return r;
        });
        Descriptor manifest = image.manifest();
        writeOutputs(outputs, manifest);
        return new BuildResult(manifest, image.imageId(), done, warnings);
    }

    // ---------------------------------------------------------------- before building

    private void checkOutputs(List<BuildOutput> outputs) {
        for (BuildOutput o : outputs) {
            switch (o) {
                case BuildOutput.Push p -> {
                    if (pusher.isEmpty()) {
                        throw new BuildException("--push needs a registry: this builder was made without a pusher "
                                + "(Builder.withPusher)");
                    }
                    if (request.tags().isEmpty()) {
                        throw new BuildException("--push needs a name to push to: add -t REGISTRY/NAME:TAG");
                    }
                }
                case BuildOutput.DockerArchive a -> {
                    if (request.tags().isEmpty()) {
                        throw new BuildException("--output docker-archive:" + a.file()
                                + " needs a name (docker load names images by it): add -t NAME:TAG");
                    }
                }
                case BuildOutput.OciLayout l -> { }
                case BuildOutput.Store s -> { }
            }
        }
    }

    /**
     * Everything that can fail before a layer is written: base images (each stage's FROM and COPY --from
     * images), their ONBUILD triggers, instructions berth cannot run.
     */
    private void prepare() {
        for (BuildPlan.PlannedStage ps : plan.stages()) {
            Instruction.From from = ps.from().instruction();
            List<Instruction> all = new ArrayList<>(ps.triggers());
            if (ps.base() instanceof ImageSource.External(String name)) {
                Resolved r = resolveImage(name, stagePlatform(ps), from.location());
                for (String trigger : r.image().config().value().containerConfig().onBuild()) {
                    all.add(Dockerfile.parseTrigger(trigger, from.location()));
                }
            }
            all.addAll(ps.stage().instructions());
            for (Instruction i : all) {
                switch (i) {
                    case Instruction.Run r -> throw r.location().error("RUN needs a runtime; not supported yet "
                            + "(berth builds images from COPY and ADD only)");
                    case Instruction.Copy c -> {
                        if (stages.copySource(c).orElse(null) instanceof ImageSource.External(String name)) {
                            resolveImage(name, stagePlatform(ps), c.location());
                        }
                    }
                    case Instruction.Add a -> {
                        for (String p : a.paths()) {
                            if (isGit(p)) {
                                throw a.location().error("ADD from a git repository is not supported yet: " + p);
                            }
                        }
                        if (a.keepGitDir().isPresent()) {
                            throw a.location().error("ADD --keep-git-dir is not supported yet (no git sources)");
                        }
                    }
                    default -> { }
                }
            }
            totalSteps += all.size() + 1;
        }
    }

    private static boolean isGit(String src) {
        return src.startsWith("git@") || src.startsWith("git://")
                || ((src.startsWith("http://") || src.startsWith("https://")) && (src.contains(".git#") || src.endsWith(".git")));
    }

    private Platform stagePlatform(BuildPlan.PlannedStage ps) {
        return ps.from().instruction().platform().map(p -> {
            try {
                return Platform.parse(p);
            } catch (LayersException e) {
                throw ps.from().instruction().location().error(e.getMessage());
            }
        }).orElse(args.targetPlatform());
    }

    /** An image from the store, or fetched into it by {@link BaseImages}; errors say how to get it. */
    private Resolved resolveImage(String name, Platform platform, Location at) {
        String key = name + " " + platform;
        Resolved known = images.get(key);
        if (known != null) {
            return known;
        }
        Reference ref;
        try {
            ref = Reference.parse(name);
        } catch (LayersException e) {
            throw at.error("invalid image name \"" + name + "\": " + e.getMessage());
        }
        Optional<Descriptor> d = store.resolve(ref);
        if (d.isEmpty()) {
            events.accept(new BuildEvent.Note("pulling " + ref.familiar()));
            try {
                d = baseImages.fetch(ref, platform, store);
            } catch (dev.berth.layers.BerthException e) {
                throw at.error(e.getMessage());
            }
        }
        if (d.isEmpty()) {
            throw at.error("image " + ref.familiar() + " is not in the local store; pull it first (berth pull "
                    + ref.familiar() + ")");
        }
        Image image;
        try {
            image = store.image(d.get(), platform, ref.familiar());
        } catch (LayersException e) {
            throw at.error(e.getMessage());
        }
        if (!image.platform().satisfies(platform)) {
            throw at.error("image " + ref.familiar() + " is for " + image.platform() + ", not " + platform);
        }
        Resolved r = new Resolved(ref, image);
        images.put(key, r);
        return r;
    }

    // ---------------------------------------------------------------- stages

    private StageState buildStage(BuildPlan.PlannedStage ps) {
        StageState s = new StageState(ps);
        currentStage = ps.stage().displayName();
        Instruction.From from = ps.from().instruction();
        BuildEvent.Step step = startStep(from.text());
        long started = System.nanoTime();
        Environment globals = plan.globals();
        switch (ps.base()) {
            case ImageSource.Scratch sc -> {
                Platform p = stagePlatform(ps);
                s.scope = StageScope.start(globals, args, Environment.empty(), lexer);
                s.config = ImageConfig.empty(p).withContainerConfig(ContainerConfig.EMPTY.toBuilder().build());
                s.config = withEnv(s.config, s.scope);
                s.fs = ImageFs.of(store, List.of());
                s.base = Optional.empty();
            }
            case ImageSource.External(String name) -> {
                Resolved r = resolveImage(name, stagePlatform(ps), from.location());
                ImageConfig c = r.image().config().value();
                ContainerConfig cc = c.containerConfig();
                for (String trigger : cc.onBuild()) {
                    s.imageTriggers = new ArrayList<>(s.imageTriggers);
                    s.imageTriggers.add(Dockerfile.parseTrigger(trigger, from.location()));
                }
                ContainerConfig.Builder b = cc.toBuilder();
                b.onBuild = List.of(); // triggers fire once, in this build; the new image does not keep them
                s.config = c.withContainerConfig(b.build());
                s.scope = StageScope.start(globals, args, Environment.parse(cc.env()), lexer);
                List<ImageFs.Layer> layers = new ArrayList<>();
                for (int i = 0; i < r.image().layers().size(); i++) {
                    layers.add(new ImageFs.Layer(r.image().layers().get(i), r.image().diffIds().get(i), Optional.empty()));
                }
                s.fs = ImageFs.of(store, layers);
                s.base = Optional.of(r);
            }
            case ImageSource.FromStage(int index) -> {
                StageState parent = results.get(index);
                ContainerConfig.Builder b = parent.config.containerConfig().toBuilder();
                b.onBuild = List.of();
                s.config = parent.config.withContainerConfig(b.build());
                s.scope = parent.scope;
                s.fs = parent.fs.fork();
                s.base = parent.base;
            }
        }
        finishStep(step, false, started);
        recipe.append("stage ").append(ps.stage().index()).append(" from ").append(switch (ps.base()) {
            case ImageSource.Scratch sc -> "scratch " + s.config.platform();
            case ImageSource.External e -> "image " + s.base.orElseThrow().image().digest() + " " + s.config.platform();
            case ImageSource.FromStage(int index) -> "stage " + index;
        }).append('\n');
        List<Instruction> all = new ArrayList<>(ps.triggers());
        all.addAll(s.imageTriggers);
        all.addAll(ps.stage().instructions());
        for (Instruction i : all) {
            BuildEvent.Step st = startStep(i.text());
            long t0 = System.nanoTime();
            recipe.append(i).append('\n');
            boolean cached = dispatch(s, i);
            finishStep(st, cached, t0);
        }
        return s;
    }

    private BuildEvent.Step startStep(String text) {
        Optional<String> stage = multiStage ? Optional.of(currentStage) : Optional.empty();
        BuildEvent.Step step = new BuildEvent.Step(++stepNumber, totalSteps, stage, text);
        events.accept(new BuildEvent.StepStarted(step));
        return step;
    }

    private void finishStep(BuildEvent.Step step, boolean cached, long startedNanos) {
        BuildEvent.StepDone d = new BuildEvent.StepDone(step, cached, Duration.ofNanos(System.nanoTime() - startedNanos));
        done.add(d);
        events.accept(d);
    }

    private void warn(String message) {
        warnings.add(message);
        events.accept(new BuildEvent.Warning(message));
    }

    /** Runs one instruction; returns whether its result came from the cache. */
    private boolean dispatch(StageState s, Instruction i) {
        ContainerConfig.Builder c = s.config.containerConfig().toBuilder();
        switch (i) {
            case Instruction.Arg a -> {
                s.scope = s.scope.declare(a);
                a.args().forEach(d -> declaredArgs.add(d.name()));
                // As buildkit: the history shows each ARG with the value it took (so secrets belong in
                // secret mounts, not build args).
                history(s, "ARG " + String.join(" ", a.args().stream().map(d -> d.name()
                        + s.scope.declaredArgs().getOrDefault(d.name(), Optional.empty()).map(v -> "=" + v).orElse(""))
                        .toList()));
                return false;
            }
            case Instruction.Env e -> {
                Instruction.Env x = Expander.expand(e, lexer, s.scope.environment()).instruction();
                s.scope = s.scope.setEnv(x.pairs());
                s.config = withEnv(s.config, s.scope);
                history(s, "ENV " + join(x.pairs()));
                return false;
            }
            case Instruction.Label l -> {
                Instruction.Label x = Expander.expand(l, lexer, s.scope.environment()).instruction();
                x.pairs().forEach(kv -> c.labels.put(kv.key(), kv.value()));
                set(s, c);
                history(s, "LABEL " + join(x.pairs()));
                return false;
            }
            case Instruction.Maintainer m -> {
                // Docker keeps MAINTAINER as the image's author; berth also sets the OCI label that replaces it.
                c.labels.put("org.opencontainers.image.authors", m.name());
                set(s, c);
                s.config = s.config.withAuthor(Optional.of(m.name()));
                history(s, "MAINTAINER " + m.name());
                return false;
            }
            case Instruction.User u -> {
                Instruction.User x = Expander.expand(u, lexer, s.scope.environment()).instruction();
                c.user = Optional.of(x.user());
                set(s, c);
                history(s, "USER " + x.user());
                return false;
            }
            case Instruction.Expose e -> {
                Instruction.Expose x = Expander.expand(e, lexer, s.scope.environment()).instruction();
                List<String> ports = Ports.parse(x.ports(), x.location());
                ports.forEach(p -> c.exposedPorts.put(p, Map.of()));
                set(s, c);
                history(s, "EXPOSE " + String.join(" ", ports));
                return false;
            }
            case Instruction.Volume v -> {
                Instruction.Volume x = Expander.expand(v, lexer, s.scope.environment()).instruction();
                x.paths().forEach(p -> c.volumes.put(p, Map.of()));
                set(s, c);
                history(s, "VOLUME " + x.paths());
                return false;
            }
            case Instruction.StopSignal sig -> {
                Instruction.StopSignal x = Expander.expand(sig, lexer, s.scope.environment()).instruction();
                c.stopSignal = Optional.of(x.signal());
                set(s, c);
                history(s, "STOPSIGNAL " + x.signal());
                return false;
            }
            case Instruction.Shell sh -> {
                c.shell = sh.shell();
                set(s, c);
                history(s, "SHELL " + sh.shell());
                return false;
            }
            case Instruction.Cmd cmd -> {
                List<String> argv = cmd.command().argv(shell(s));
                c.cmd = Optional.of(argv);
                s.cmdSet = true;
                set(s, c);
                history(s, "CMD " + quoted(argv));
                return false;
            }
            case Instruction.Entrypoint ep -> {
                List<String> argv = ep.command().argv(shell(s));
                c.entrypoint = Optional.of(argv);
                if (!s.cmdSet) {
                    c.cmd = Optional.empty(); // an ENTRYPOINT resets a CMD this stage did not set
                }
                set(s, c);
                history(s, "ENTRYPOINT " + quoted(argv));
                return false;
            }
            case Instruction.Healthcheck h -> {
                c.healthcheck = Optional.of(new ContainerConfig.HealthCheck(h.test(),
                        h.interval().map(Duration::toNanos), h.timeout().map(Duration::toNanos),
                        h.startPeriod().map(Duration::toNanos), h.startInterval().map(Duration::toNanos),
                        h.retries().isPresent() ? Optional.of(h.retries().getAsInt()) : Optional.empty()));
                set(s, c);
                history(s, "HEALTHCHECK " + h.test());
                return false;
            }
            case Instruction.Onbuild o -> {
                c.onBuild.add(o.expression());
                set(s, c);
                history(s, "ONBUILD " + o.expression());
                return false;
            }
            case Instruction.Workdir w -> {
                return workdir(s, Expander.expand(w, lexer, s.scope.environment()).instruction());
            }
            case Instruction.Copy cp -> {
                return new CopyStep(this, s, Expander.expand(cp, lexer, s.scope.environment()).instruction()).run();
            }
            case Instruction.Add a -> {
                return new CopyStep(this, s, Expander.expand(a, lexer, s.scope.environment()).instruction()).run();
            }
            case Instruction.From f -> throw f.location().error("FROM inside a stage");
            case Instruction.Run r -> throw r.location().error("RUN needs a runtime; not supported yet");
        }
    }

    // ---------------------------------------------------------------- helpers for instructions

    private static void set(StageState s, ContainerConfig.Builder c) {
        s.config = s.config.withContainerConfig(c.build());
    }

    private static ImageConfig withEnv(ImageConfig config, StageScope scope) {
        ContainerConfig.Builder b = config.containerConfig().toBuilder();
        b.env = new ArrayList<>(scope.imageEnvironment().toList());
        return config.withContainerConfig(b.build());
    }

    private static List<String> shell(StageState s) {
        List<String> sh = s.config.containerConfig().shell();
        return sh.isEmpty() ? DEFAULT_SHELL : sh;
    }

    private static String join(List<KeyValue> pairs) {
        return String.join(" ", pairs.stream().map(KeyValue::toString).toList());
    }

    /** A command as buildkit's history shows it (Go's {@code %q} of a list): {@code ["/bin/sh" "-c" "echo hi"]}. */
    static String quoted(List<String> argv) {
        StringBuilder b = new StringBuilder("[");
        for (String a : argv) {
            if (b.length() > 1) {
                b.append(' ');
            }
            b.append('"');
            for (char ch : a.toCharArray()) {
                switch (ch) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\t' -> b.append("\\t");
                    default -> b.append(ch);
                }
            }
            b.append('"');
        }
        return b.append(']').toString();
    }

    /** A history entry for an instruction that adds no layer. */
    void history(StageState s, String createdBy) {
        s.config = s.config.withEmptyLayerHistory(ImageConfig.History.of(Optional.of(PENDING), createdBy, Optional.empty()));
    }

    /** Adds a layer (written by this build or reused from the cache) and its history entry. */
    void addLayer(StageState s, Descriptor blob, Digest diffId, Optional<List<ImageFs.Node>> known, String createdBy) {
        recipe.append("layer ").append(diffId).append(' ').append(blob.digest()).append(' ').append(blob.mediaType())
                .append('\n');
        s.fs.addLayer(new ImageFs.Layer(blob, diffId, known));
        s.config = s.config.withLayer(diffId, ImageConfig.History.of(Optional.of(PENDING), createdBy, Optional.empty()));
    }

    /** A key for the file tree below a step: its diff_ids, in order. */
    static String chainKey(List<Digest> diffIds) {
        StringBuilder b = new StringBuilder("layers");
        diffIds.forEach(d -> b.append(' ').append(d));
        return BuildCache.sha256(b.toString());
    }

    String compressionKey() {
        return switch (request.compression()) {
            case Compression.None n -> "none";
            case Compression.Gzip g -> "gzip:" + g.level();
            case Compression.Zstd z -> "zstd:" + z.level();
        };
    }

    /**
     * WORKDIR: sets the working directory (relative to the previous one) and, as buildkit does, creates it
     * in a layer when the image lacks it (owned by USER when one is set); no layer when it exists.
     */
    private boolean workdir(StageState s, Instruction.Workdir w) {
        String previous = s.config.containerConfig().workingDir().orElse("/");
        String wd = "/" + ContextDir.clean(w.path().startsWith("/") ? w.path() : previous + "/" + w.path());
        ContainerConfig.Builder c = s.config.containerConfig().toBuilder();
        c.workingDir = Optional.of(wd);
        set(s, c);
        String createdBy = "WORKDIR " + wd;
        if (wd.equals("/")) {
            history(s, createdBy);
            return false;
        }
        Optional<String> user = s.config.containerConfig().user().filter(u -> !u.isEmpty());
        String key = BuildCache.sha256(String.join("\n", "berth-step-v1", chainKey(s.diffIds()), "WORKDIR", wd,
                "user=" + user.orElse(""), "time=" + layerTime.getEpochSecond(), compressionKey()));
        if (!request.noCache()) {
            Optional<BuildCache.Result> hit = cache.lookup(key, List.of());
            if (hit.isPresent() && hit.get().blob().map(store::has).orElse(true)) {
                apply(s, hit.get(), createdBy);
                return true;
            }
        }
        String path = s.fs.resolve(ContextDir.clean(wd), true);
        if (s.fs.isDirectory(path)) {
            history(s, createdBy);
            cache.store(key, BuildCache.Result.noLayer(List.of()), List.of());
            return false;
        }
        Optional<Users.Ids> owner = user.map(u -> Users.resolve(u, s.fs, w.location().file() + ":"
                + w.location().startLine() + ": WORKDIR " + wd + ": USER " + u));
        CopyPlan plan = new CopyPlan(s.fs, false, owner, Optional.empty(), scratch);
        try {
            plan.mkdirAll(path);
        } catch (BuildException e) {
            throw w.location().error(e.getMessage());
        }
        plan.fillParents();
        BuildCache.Result r = writeLayer(s, plan.entries(), createdBy, List.of());
        cache.store(key, r, List.of());
        return false;
    }

    /** Applies a cached result: its layer (if any) and its warnings. */
    void apply(StageState s, BuildCache.Result r, String createdBy) {
        r.warnings().forEach(this::warn);
        if (r.blob().isPresent()) {
            addLayer(s, r.blob().get(), r.diffId().orElseThrow(), Optional.empty(), createdBy);
        } else {
            history(s, createdBy);
        }
    }

    /** Writes entries as a layer into the store and adds it to the stage. */
    BuildCache.Result writeLayer(StageState s, Map<LayerPath, LayerEntry> entries, String createdBy, List<String> stepWarnings) {
        LayerWriter writer = layerWriter(entries);
        LayerWriter.Result r;
        try {
            r = writer.write(store, request.compression(), false);
        } catch (IOException e) {
            throw new BuildException("writing the layer of " + createdBy + ": " + e.getMessage(), e);
        }
        addLayer(s, r.blob(), r.diffId(), Optional.of(ImageFs.nodesOf(entries.values(), layerTime)), createdBy);
        return new BuildCache.Result(Optional.of(r.diffId()), Optional.of(r.blob()), stepWarnings);
    }

    LayerWriter layerWriter(Map<LayerPath, LayerEntry> entries) {
        LayerWriter writer = LayerWriter.create(layerTime);
        entries.values().forEach(writer::add);
        return writer;
    }

    // ---------------------------------------------------------------- accessors for CopyStep

    BuildRequest request() {
        return request;
    }

    ImageStore store() {
        return store;
    }

    BuildCache cache() {
        return cache;
    }

    ContextDir context() {
        return context;
    }

    ShellLexer lexer() {
        return lexer;
    }

    Stages stages() {
        return stages;
    }

    Instant layerTime() {
        return layerTime;
    }

    Path scratch() {
        return scratch;
    }

    void warning(String message) {
        warn(message);
    }

    /** The result of an earlier stage ({@code COPY --from}); it has been built, the plan says so. */
    StageState stageResult(int index, Location at) {
        StageState s = results.get(index);
        if (s == null) {
            throw at.error("stage " + index + " is not built before this instruction");
        }
        return s;
    }

    ImageFs imageFs(String name, StageState s, Location at) {
        Resolved r = resolveImage(name, stagePlatform(s.planned), at);
        List<ImageFs.Layer> layers = new ArrayList<>();
        for (int i = 0; i < r.image().layers().size(); i++) {
            layers.add(new ImageFs.Layer(r.image().layers().get(i), r.image().diffIds().get(i), Optional.empty()));
        }
        return ImageFs.of(store, layers);
    }

    static ImageFs fsOf(StageState s) {
        return s.fs;
    }

    static List<Digest> diffIdsOf(StageState s) {
        return s.diffIds();
    }

    static String workdirOf(StageState s) {
        return s.config.containerConfig().workingDir().orElse("/");
    }

    // ---------------------------------------------------------------- the image and its outputs

    /**
     * Writes the image's config and manifest. {@code created} (and the history entries of this build) is
     * SOURCE_DATE_EPOCH when given, else the build time; a rebuild with the same recipe reuses the image
     * and so its time, as docker's cache does ({@code --no-cache} takes a new time).
     */
    private BuildCache.ImageRecord finish(StageState s) {
        ImageConfig config = s.config;
        if (!request.labels().isEmpty()) {
            ContainerConfig.Builder c = config.containerConfig().toBuilder();
            c.labels.putAll(request.labels());
            config = config.withContainerConfig(c.build());
        }
        // The manifest is OCI: a base image's Docker layer types are given their OCI names (same bytes),
        // since registries may refuse a manifest that mixes the two families.
        List<Descriptor> layers = s.fs.layers().stream().map(ImageFs.Layer::blob).map(BuildRun::ociLayer).toList();
        String time = epoch.orElseGet(Instant::now).toString();
        List<ImageConfig.History> history = new ArrayList<>();
        for (ImageConfig.History h : config.history()) {
            history.add(h.created().equals(Optional.of(PENDING))
                    ? new ImageConfig.History(Optional.of(time), h.createdBy(), h.author(), h.comment(), h.emptyLayer(), h.extra())
                    : h);
        }
        config = new ImageConfig(Optional.of(time), config.author(), config.architecture(), config.os(),
                config.osVersion(), config.osFeatures(), config.variant(), config.config(), config.rootfs(), history,
                config.extra());
        config.checkHistory();
        Document<ImageConfig> configDoc = Document.of(config, MediaType.OCI_CONFIG);
        store.put(configDoc);
        Map<String, String> annotations = new LinkedHashMap<>();
        s.base.ifPresent(b -> {
            annotations.put("org.opencontainers.image.base.name", b.ref().toString());
            annotations.put("org.opencontainers.image.base.digest", b.image().digest().toString());
        });
        Document<Manifest> manifest = Document.of(Manifest.of(MediaType.OCI_MANIFEST, configDoc.descriptor(), layers,
                annotations), MediaType.OCI_MANIFEST);
        return new BuildCache.ImageRecord(store.put(manifest), configDoc.digest());
    }

    private static Descriptor ociLayer(Descriptor layer) {
        MediaType t = layer.mediaType();
        if (!t.isDocker() || t.value().contains("foreign")) {
            return layer;
        }
        return layer.withMediaType(MediaType.layer(t.layerCompression().orElseThrow(), false));
    }

    /**
     * Writes the outputs: OCI layout and archive first, then the local store's names (after every file
     * output succeeded), then the pushes.
     */
    private void writeOutputs(List<BuildOutput> outputs, Descriptor manifest) {
        events.accept(new BuildEvent.Note("writing image " + manifest.digest()));
        Descriptor plain = manifest.withPlatform(Optional.empty());
        for (BuildOutput o : outputs) {
            switch (o) {
                case BuildOutput.OciLayout l -> writeOciLayout(l.directory(), plain);
                case BuildOutput.DockerArchive a -> writeDockerArchive(a.file(), plain);
                default -> { }
            }
        }
        if (outputs.stream().anyMatch(o -> o instanceof BuildOutput.Store)) {
            // index.json is replaced (new inode) on every change: when it is as this build's names left it
            // last time, the names are in place and reading it (and JSON) can be skipped.
            Path index = store.root().resolve("index.json");
            String names = BuildCache.sha256(store.root() + " " + request.tags() + " " + plain.digest());
            Optional<ContextDir.Stat> now = stat(index);
            boolean inPlace = !request.noCache() && now.isPresent() && cache.namesInPlace(names, now.get());
            if (!inPlace) {
                if (request.tags().isEmpty()) {
                    store.addUnnamed(plain);
                }
                for (Reference tag : request.tags()) {
                    store.tag(tag, plain);
                }
                stat(index).ifPresent(st -> cache.recordNames(names, st));
            }
            request.tags().forEach(tag -> events.accept(new BuildEvent.Note("naming to " + tag.familiar())));
        }
        // Pushing comes after the local names: the pusher sends what the store names (a failed push
        // leaves a built and named image, to push again).
        for (BuildOutput o : outputs) {
            if (o instanceof BuildOutput.Push) {
                for (Reference tag : request.tags()) {
                    events.accept(new BuildEvent.Note("pushing " + tag.familiar()));
                    pusher.orElseThrow().push(store, plain, tag);
                }
            }
        }
    }

    private static Optional<ContextDir.Stat> stat(Path p) {
        try {
            return Optional.of(ContextDir.stat(p));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void writeOciLayout(Path dir, Descriptor manifest) {
        try (ImageStore layout = ImageStore.open(dir)) {
            layout.copyFrom(store, manifest);
            if (request.tags().isEmpty()) {
                layout.addUnnamed(manifest);
            }
            for (Reference tag : request.tags()) {
                layout.tag(tag, manifest);
            }
        }
        events.accept(new BuildEvent.Note("wrote OCI layout " + dir));
    }

    private void writeDockerArchive(Path file, Descriptor manifest) {
        try {
            Map<Reference, Descriptor> named = new LinkedHashMap<>();
            request.tags().forEach(t -> named.put(t, manifest));
            ImageArchive.writeFile(store, named, Platform.host(), file);
        } catch (IOException e) {
            throw new BuildException("--output docker-archive:" + file + ": " + e.getMessage(), e);
        }
        events.accept(new BuildEvent.Note("wrote docker-archive " + file));
    }

    private void deleteScratch() {
        if (scratch == null) {
            return;
        }
        try {
            dev.berth.layers.LayerExtractor.deleteTree(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
