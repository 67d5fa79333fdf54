package dev.berth.builder;

import dev.berth.builder.context.DockerIgnore;
import dev.berth.builder.dockerfile.BuildArgs;
import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Dockerfile;
import dev.berth.builder.dockerfile.Environment;
import dev.berth.builder.dockerfile.Expander;
import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.Location;
import dev.berth.builder.dockerfile.ShellLexer;
import dev.berth.builder.dockerfile.StageScope;
import dev.berth.builder.dockerfile.Stages;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.Platform;
import dev.berth.layers.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One build: validate everything that can be validated before any work (RUN, base images, outputs), then
 * run the stages the target needs in order, then write the outputs and name the image last. The steps
 * that write layers are {@link CopyStep}, {@link RunStep} and {@link WorkdirStep}; {@link ConfigSteps}
 * sets the config; {@link ImageOutputs} writes the image.
 *
 * <p>Cache keys. A step that writes a layer is keyed by what decides its layer: the diff_ids below it
 * (the file tree it writes into: existing directories, symlinks, /etc/passwd for --chown), the expanded
 * instruction with its flags and absolute destination, the layer time and the compression; plus, for
 * COPY from the context, the content of the sources (see {@link BuildCache}); for --from, the source's
 * diff_ids; for ADD of a URL, the --checksum or the downloaded bytes; for RUN, what {@link RunStep}
 * lists. Metadata steps (ENV, LABEL, ...) need no cache: they cost nothing.
 */
final class BuildRun {
    /** Stands for the build time in history entries until the image's time is known. */
    static final String PENDING = "berth:pending";

    /**
     * Where a build keeps and finds things, and the ports to the rest of berth; {@code shared} holds the
     * stages that the builds of one request for several platforms build once.
     */
    record Workspace(ImageStore store, BuildCache cache, Path tmp, Path mountCaches, BaseImages baseImages,
                     Optional<ImagePusher> pusher, StepRunner steps, SharedStages shared, RemoteCache remote,
                     CacheExports exports) {}

    /** The image one platform's build made, and the platform its config names. */
    record Built(BuildCache.ImageRecord image, Platform platform) {}

    private final BuildRequest request;
    private final Consumer<BuildEvent> events;
    private final Workspace ws;
    /** Shown before each stage's name when the build is one of several platforms' ({@code linux/arm64 }). */
    private final String platformLabel;
    private final List<String> warnings = new ArrayList<>();
    private final List<BuildEvent.StepDone> done = new ArrayList<>();
    private final Map<Integer, StageState> results = new HashMap<>();
    private final Set<String> declaredArgs = new LinkedHashSet<>();
    /**
     * Everything the image config and manifest are a function of, in order: the request's options, each
     * stage's base, each instruction as written, each layer's digests. Equal recipes give equal images, so
     * a rebuild whose recipe is known reuses the image without serialising a byte of JSON.
     */
    private final StringBuilder recipe = new StringBuilder("berth-image-v1\n");
    private final StageLayers layers = new StageLayers(this);

    private ShellLexer lexer;
    private Stages stages;
    private BuildPlan plan;
    private BuildArgs args;
    private Images images;
    private ConfigSteps configSteps;
    private ContextDir context;
    private Instant layerTime;
    private Optional<Instant> epoch;
    private Path scratch;
    private int stepNumber;
    private int totalSteps;
    private boolean multiStage;
    private boolean runs;
    /** Each built stage's key in {@link SharedStages}, by stage index. */
    private final Map<Integer, String> shareKeys = new HashMap<>();
    private String currentStage = "";
    private StepCaches caches;

    BuildRun(BuildRequest request, Consumer<BuildEvent> events, Workspace workspace, String platformLabel) {
        this.request = request;
        this.events = events;
        this.ws = workspace;
        this.platformLabel = platformLabel;
    }

    /** One build of one platform, with its outputs. */
    BuildResult run() {
        List<BuildOutput> outputs = request.effectiveOutputs();
        ImageOutputs imageOutputs = new ImageOutputs(request, ws.store(), ws.cache(), ws.pusher(), events, ws.remote());
        imageOutputs.check(outputs);
        prepare();
        BuildCache.ImageRecord image = build().image();
        imageOutputs.write(outputs, image.manifest());
        return result(image.manifest(), image.imageId());
    }

    BuildResult result(Descriptor manifest, Digest imageId) {
        return new BuildResult(manifest, imageId, done, warnings);
    }

    /** Everything before the first layer: the Dockerfile read, the plan, the images pulled, the checks. */
    void prepare() {
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
        Platform target = request.platforms().isEmpty() ? host : request.platforms().getFirst();
        args = new BuildArgs(request.buildArgs(), host, target);
        plan = stages.plan(request.target(), args);
        images = new Images(ws.store(), ws.baseImages(), target, events);
        configSteps = new ConfigSteps(this, lexer, declaredArgs);
        epoch = request.sourceDateEpoch().or(() -> args.get("SOURCE_DATE_EPOCH").map(s -> {
            try {
                return Instant.ofEpochSecond(Long.parseLong(s.trim()));
            } catch (NumberFormatException e) {
                throw new BuildException("--build-arg SOURCE_DATE_EPOCH=" + s + ": not a number of seconds");
            }
        }));
        layerTime = epoch.orElse(LayerWriter.DEFAULT_TIME);
        multiStage = plan.stages().size() > 1 || !platformLabel.isEmpty();
        context = new ContextDir(contextDir, DockerIgnore.load(contextDir, dockerfilePath));

        recipe.append("target=").append(plan.target().index()).append(" platform=").append(target)
                .append(" epoch=").append(epoch.map(Instant::toString).orElse("")).append(" labels=")
                .append(request.labels()).append(" args=").append(request.buildArgs()).append(' ')
                .append(layers.compressionKey()).append('\n');
        if (request.inlineCache()) {
            recipe.append("inline-cache\n");
        }
        caches = new StepCaches(ws.store(), ws.remote(), ws.exports(), request, plan);
        Preflight.Result checked = new Preflight(request, stages, images, ws.steps()).check(plan);
        totalSteps = checked.steps();
        runs = checked.runs();
    }

    /** Builds the stages and writes the image's config and manifest (no outputs, no names). */
    Built build() {
        ImageOutputs imageOutputs = new ImageOutputs(request, ws.store(), ws.cache(), ws.pusher(), events, ws.remote());
        // what builds killed during a RUN left behind is cleaned up while this one goes on
        Thread recovery = runs ? Thread.ofPlatform().daemon().name("berth-recover").start(() -> {
            ws.steps().recover();
            StepMounts.sweep();
        }) : null;
        try {
            // a build killed earlier left its scratch directory: remove it now, as nothing else will
            TempDirs.removeAbandoned(ws.tmp(), "build-");
            scratch = TempDirs.create(ws.tmp(), "build-");
            for (BuildPlan.PlannedStage ps : plan.stages()) {
                String key = ws.shared().key(ps, images.platformOf(ps), plan.globals(), stages, shareKeys);
                shareKeys.put(ps.stage().index(), key);
                Optional<SharedStages.Stage> built = ws.shared().get(key);
                if (built.isPresent()) {
                    results.put(ps.stage().index(), reuse(ps, built.get()));
                } else {
                    int mark = recipe.length();
                    StageState s = buildStage(ps);
                    results.put(ps.stage().index(), s);
                    ws.shared().put(key, new SharedStages.Stage(s, recipe.substring(mark)));
                }
            }
        } catch (IOException e) {
            throw new BuildException("build: " + e.getMessage(), e);
        } finally {
            deleteScratch();
            if (recovery != null) {
                try {
                    recovery.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        declaredArgs.addAll(stages.globalArgs().stream().flatMap(a -> a.args().stream()).map(d -> d.name()).toList());
        List<String> unused = args.unused(declaredArgs);
        if (!unused.isEmpty()) {
            warn("build-args " + unused + " were not consumed by any ARG");
        }
        StageState last = results.get(plan.target().index());
        String recipeKey = BuildCache.sha256(recipe.toString());
        Optional<BuildCache.ImageRecord> known = request.noCache() ? Optional.empty()
                : ws.cache().image(recipeKey).filter(r -> ws.store().has(r.manifest()) && ws.store().has(r.imageId()));
        BuildCache.ImageRecord image = known.orElseGet(() -> {
            BuildCache.ImageRecord r = imageOutputs.finish(last, epoch, PENDING,
                    request.inlineCache() ? ws.exports().entries(CacheSpec.Mode.MIN) : List.of());
            ws.cache().recordImage(recipeKey, r);
            return r;
        });
        return new Built(image, last.config.platform());
    }

    /**
     * A stage another platform's build of this request built already, as its FROM platform and args are
     * the same: its steps are shown as cached, and its recipe is this image's too.
     */
    private StageState reuse(BuildPlan.PlannedStage ps, SharedStages.Stage built) {
        currentStage = ps.stage().displayName();
        List<Instruction> all = new ArrayList<>(List.of(ps.from().instruction()));
        all.addAll(ps.triggers());
        all.addAll(built.state().imageTriggers);
        all.addAll(ps.stage().instructions());
        for (Instruction i : all) {
            finishStep(startStep(i.text()), true, System.nanoTime());
            if (i instanceof Instruction.Arg a) {
                a.args().forEach(d -> declaredArgs.add(d.name()));
            }
        }
        recipe.append(built.recipe());
        return built.state();
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
                s.scope = StageScope.start(globals, args, Environment.empty(), lexer);
                s.config = ImageConfig.empty(images.platformOf(ps)).withContainerConfig(ContainerConfig.EMPTY.toBuilder().build());
                s.config = ConfigSteps.withEnv(s.config, s);
                s.fs = ImageFs.of(ws.store(), List.of(), ws.remote());
                s.base = Optional.empty();
            }
            case ImageSource.External(String name) -> {
                Images.Resolved r = images.resolve(name, images.platformOf(ps), from.location());
                ImageConfig c = r.image().config().value();
                ContainerConfig cc = c.containerConfig();
                List<Instruction> triggers = new ArrayList<>();
                for (String trigger : cc.onBuild()) {
                    triggers.add(Dockerfile.parseTrigger(trigger, from.location()));
                }
                s.imageTriggers = triggers;
                ContainerConfig.Builder b = cc.toBuilder();
                b.onBuild = List.of(); // triggers fire once, in this build; the new image does not keep them
                s.config = c.withContainerConfig(b.build());
                s.scope = StageScope.start(globals, args, Environment.parse(cc.env()), lexer);
                s.fs = ImageFs.of(ws.store(), r.layers(), ws.remote());
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
            boolean cached = dispatch(s, i, st);
            finishStep(st, cached, t0);
        }
        return s;
    }

    private BuildEvent.Step startStep(String text) {
        Optional<String> stage = multiStage ? Optional.of((platformLabel + " " + currentStage).strip()) : Optional.empty();
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
    private boolean dispatch(StageState s, Instruction i, BuildEvent.Step step) {
        if (configSteps.apply(s, i)) {
            return false;
        }
        return switch (i) {
            case Instruction.Workdir w -> WorkdirStep.run(this, s, Expander.expand(w, lexer, s.scope.environment()).instruction());
            case Instruction.Copy cp -> new CopyStep(this, s, Expander.expand(cp, lexer, s.scope.environment()).instruction()).run();
            case Instruction.Add a -> new CopyStep(this, s, Expander.expand(a, lexer, s.scope.environment()).instruction()).run();
            case Instruction.Run r -> new RunStep(this, s, r, step).run();
            case Instruction.From f -> throw f.location().error("FROM inside a stage");
            default -> throw i.location().error(i.keyword() + " is not a step berth knows how to run");
        };
    }

    // ---------------------------------------------------------------- layers and history

    /** The layers and history entries the steps add ({@link StageLayers}). */
    StageLayers layers() {
        return layers;
    }

    /** Everything the image is a function of, appended to as the build goes ({@link #recipe}). */
    StringBuilder recipe() {
        return recipe;
    }

    // ---------------------------------------------------------------- what the steps use

    BuildRequest request() {
        return request;
    }

    ImageStore store() {
        return ws.store();
    }

    BuildCache cache() {
        return ws.cache();
    }

    /** {@code --cache-from}'s entries and {@code --cache-to}'s records. */
    StepCaches caches() {
        return caches;
    }

    StepRunner steps() {
        return ws.steps();
    }

    /** Where cache mounts ({@code RUN --mount=type=cache}) keep their directories. */
    Path mountCaches() {
        return ws.mountCaches();
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

    /** {@code SOURCE_DATE_EPOCH}, when the build has one. */
    Optional<Instant> epoch() {
        return epoch;
    }

    Path scratch() {
        return scratch;
    }

    void warning(String message) {
        warn(message);
    }

    void event(BuildEvent e) {
        events.accept(e);
    }

    /** The result of an earlier stage ({@code COPY --from}); it has been built, the plan says so. */
    StageState stageResult(int index, Location at) {
        StageState s = results.get(index);
        if (s == null) {
            throw at.error("stage " + index + " is not built before this instruction");
        }
        return s;
    }

    /** An image a step of stage {@code s} names, for the stage's platform. */
    Images.Resolved image(String name, StageState s, Location at) {
        return images.resolve(name, images.platformOf(s.planned), at);
    }

    ImageFs imageFs(String name, StageState s, Location at) {
        return ImageFs.of(ws.store(), image(name, s, at).layers());
    }

    private void deleteScratch() {
        if (scratch == null) {
            return;
        }
        try {
            LayerExtractor.deleteTree(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
