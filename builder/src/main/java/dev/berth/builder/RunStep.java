package dev.berth.builder;

import dev.berth.builder.dockerfile.CommandLine;
import dev.berth.builder.dockerfile.Expander;
import dev.berth.builder.dockerfile.Heredoc;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.Location;
import dev.berth.layers.LayersException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One RUN: its command as BuildKit makes it (shell form through SHELL, heredocs), its cache key, and on a
 * miss the process in a container of the stage's layers (through the {@link StepRunner}), whose upper
 * directory becomes the new layer: overlay whiteouts as OCI whiteouts, sorted and reproducible, and then
 * the layer's snapshot as it is, so nothing is extracted again. A RUN that changes nothing adds an empty
 * layer, as docker does.
 *
 * <p>The key: the layers below, the command, the environment it sees (ENV and ARGs; the proxy args are
 * left out, as BuildKit leaves them out), USER, WORKDIR, the network mode, every mount's options and the
 * content of what bind mounts show, and the layer time. Cache mounts and secrets change nothing in it
 * but their options.
 */
final class RunStep {
    /** The hostname every RUN gets: fixed, as BuildKit's, so a command that records it stays reproducible. */
    static final String HOSTNAME = "berth-build";
    private static final int TAIL = 20;

    private final BuildRun run;
    private final StageState stage;
    private final Instruction.Run instruction;
    private final BuildEvent.Step step;
    private final Location at;

    RunStep(BuildRun run, StageState stage, Instruction.Run instruction, BuildEvent.Step step) {
        this.run = run;
        this.stage = stage;
        this.instruction = instruction;
        this.step = step;
        this.at = instruction.location();
    }

    /** The process's arguments, and the heredoc mounted at {@code /dev/pipes/NAME} that runs as a script. */
    record Command(List<String> args, Optional<Heredoc> script) {
        static final String PIPES = "/dev/pipes/";
    }

    /**
     * The command as BuildKit builds it ({@code dispatchRun}): one heredoc that is the whole command runs as
     * the script (a file when it starts with {@code #!}, else its text through the shell); otherwise the
     * heredoc bodies follow the command line for the shell to read; the shell form runs through SHELL.
     */
    static Command command(Instruction.Run r, List<String> shell) {
        CommandLine cmd = r.command();
        if (r.heredocs().isEmpty() || !(cmd instanceof CommandLine.ShellForm sf)) {
            return new Command(cmd.argv(shell), Optional.empty());
        }
        if (Heredoc.marker(sf.command()).isPresent()) {
            Heredoc doc = r.heredocs().getFirst();
            String data = doc.body();
            if (data.startsWith("#!")) {
                return new Command(new CommandLine.ShellForm(Command.PIPES + doc.name()).argv(shell), Optional.of(doc));
            }
            return new Command(new CommandLine.ShellForm(data).argv(shell), Optional.empty());
        }
        StringBuilder b = new StringBuilder(sf.command());
        for (Heredoc doc : r.heredocs()) {
            b.append('\n').append(doc.content()).append(doc.name());
        }
        return new Command(new CommandLine.ShellForm(b.toString()).argv(shell), Optional.empty());
    }

    /**
     * The history entry, as BuildKit writes it: {@code RUN |N A=1 B=2 /bin/sh -c cmd}, the ARGs in scope
     * with the values the command sees.
     */
    static String createdBy(List<String> args, StageState s) {
        Map<String, String> buildArgs = new LinkedHashMap<>();
        s.scope.declaredArgs().forEach((name, value) -> buildArgs.put(name,
                s.scope.environment().get(name).orElse(value.orElse(""))));
        List<String> words = new ArrayList<>();
        if (!buildArgs.isEmpty()) {
            words.add("|" + buildArgs.size());
            buildArgs.forEach((k, v) -> words.add(k + "=" + v));
        }
        words.addAll(args);
        return "RUN " + String.join(" ", words);
    }

    /** The mounts, expanded with the stage's variables; errors located at the RUN. */
    static List<RunMount> mounts(Instruction.Run r, StageState s, BuildRun run) {
        Expander expander = new Expander(run.lexer(), s.scope.environment());
        List<RunMount> out = new ArrayList<>();
        for (int i = 0; i < r.mounts().size(); i++) {
            try {
                out.add(RunMount.parse(r.mounts().get(i), expander, s.workdir(), i));
            } catch (BuildException e) {
                String prefix = r.location().file() + ":";
                throw e.getMessage().startsWith(prefix) ? e : r.location().error(e.getMessage());
            }
        }
        return out;
    }

    /** Runs the step; returns whether its layer came from the cache. */
    boolean run() {
        Command command = command(instruction, ConfigSteps.shell(stage));
        List<RunMount> mounts = mounts(instruction, stage, run);
        String network = instruction.network().orElse("default");
        String user = stage.config.containerConfig().user().orElse("");
        String createdBy = createdBy(command.args(), stage);
        try (StepMounts hostMounts = new StepMounts(run, stage, at, mounts)) {
            List<String> keyParts = new ArrayList<>(List.of("berth-step-v1", "RUN",
                    "below=" + BuildCache.chainKey(stage.diffIds()), "args=" + ConfigSteps.quoted(command.args()),
                    "script=" + command.script().map(h -> BuildCache.sha256(h.body())).orElse(""),
                    "env=" + stage.scope.environment().toList(), "user=" + user, "workdir=" + stage.workdir(),
                    "network=" + network, "platform=" + stage.config.platform(),
                    "clamp=" + run.epoch().map(e -> Long.toString(e.getEpochSecond())).orElse(""),
                    run.layers().compressionKey()));
            keyParts.addAll(hostMounts.keyParts());
            String key = BuildCache.sha256(String.join("\n", keyParts));
            // Context files a bind mount shows: their stats first (a no-change rebuild reads none of them),
            // then, when those changed, their content, under a key of its own.
            List<ContextDir.Item> items = hostMounts.contextItems();
            Optional<String> byContent = Optional.empty();
            BuildCache cache = run.cache();
            if (!run.request().noCache()) {
                Optional<BuildCache.Result> hit = cache.lookup(key, items);
                if (hit.isEmpty() && !items.isEmpty()) {
                    byContent = Optional.of(BuildCache.sha256(key + "\n" + hostMounts.contentKey(items)));
                    hit = cache.lookup(byContent.get(), List.of());
                }
                if (hit.isPresent() && hit.get().blob().map(run.store()::has).orElse(false)) {
                    if (byContent.isPresent()) {
                        cache.store(key, hit.get(), items); // the new stats, for the next no-change rebuild
                    }
                    run.layers().apply(stage, hit.get(), createdBy);
                    run.caches().record(stage, items.isEmpty() ? key : portable(key, byContent, hostMounts, items), hit.get());
                    return true;
                }
                if (run.caches().reading()) {
                    // another machine's cache: by the content of what the step's bind mounts show
                    String portable = items.isEmpty() ? key : portable(key, byContent, hostMounts, items);
                    Optional<BuildCache.Result> remote = run.caches().lookup(stage, portable);
                    if (remote.isPresent()) {
                        run.layers().apply(stage, remote.get(), createdBy);
                        cache.store(key, remote.get(), items);
                        run.caches().record(stage, portable, remote.get());
                        return true;
                    }
                }
            }
            run.caches().materialize(stage.fs.layers());
            BuildCache.Result r = execute(command, hostMounts, network, user, createdBy);
            String portable = key;
            if (!items.isEmpty()) {
                portable = portable(key, byContent, hostMounts, items);
                cache.store(portable, r, List.of());
            }
            cache.store(key, r, items);
            run.caches().record(stage, portable, r);
            return false;
        }
    }

    /** The key of the step with the content of the context files its bind mounts show. */
    private static String portable(String key, Optional<String> byContent, StepMounts hostMounts,
                                   List<ContextDir.Item> items) {
        return byContent.orElseGet(() -> BuildCache.sha256(key + "\n" + hostMounts.contentKey(items)));
    }

    private BuildCache.Result execute(Command command, StepMounts hostMounts, String network, String user,
                                      String createdBy) {
        hostMounts.prepare();
        List<StepRunner.Mount> mounts = new ArrayList<>(hostMounts.mounts());
        if (command.script().isPresent()) {
            mounts.add(new StepRunner.Mount.Bind(Command.PIPES + command.script().get().name(),
                    script(command.script().get()), true));
        }
        List<String> env = new ArrayList<>(stage.scope.runEnvironment().toList());
        for (String e : hostMounts.environment()) {
            String name = e.substring(0, e.indexOf('='));
            env.removeIf(x -> x.startsWith(name + "="));
            env.add(e);
        }
        StepRunner.Step process = new StepRunner.Step(RunStep.layers(stage.fs.layers()), run.store().blobs("layer"),
                command.args(), env, user, stage.workdir(), HOSTNAME, !network.equals("none"), mounts,
                stage.config.platform());
        Deque<String> tail = new ArrayDeque<>();
        run.request().compression().prepare(); // the compressor loads while the command runs
        try (StepRunner.Changes changes = run.steps().run(process, line -> {
            synchronized (tail) {
                if (tail.size() == TAIL) {
                    tail.removeFirst();
                }
                tail.addLast(line);
            }
            run.event(new BuildEvent.Output(step, line));
        })) {
            if (changes.exitCode() != 0) {
                synchronized (tail) {
                    run.event(new BuildEvent.StepFailed(step, List.copyOf(tail)));
                }
                throw at.error(summary() + ": exit code " + changes.exitCode());
            }
            StepRunner.Committed layer = changes.commit(run.store(), run.request().compression(), run.layerTime(),
                    run.epoch());
            List<String> warnings = layer.warnings().stream().map(w -> at.file() + ":" + at.startLine() + ": " + w)
                    .toList();
            warnings.forEach(run::warning);
            run.layers().addLayer(stage, layer.blob(), layer.diffId(),
                    layer.entries().map(e -> ImageFs.nodesOf(e, run.layerTime())), createdBy);
            return new BuildCache.Result(Optional.of(layer.diffId()), Optional.of(layer.blob()), warnings);
        } catch (LayersException e) {
            throw at.error(summary() + ": " + e.getMessage());
        } catch (BuildException e) {
            String prefix = at.file() + ":";
            throw e.getMessage().startsWith(prefix) ? e : at.error(summary() + ": " + e.getMessage());
        }
    }

    /** Layers as a {@link StepRunner} takes them. */
    static List<StepRunner.Layer> layers(List<ImageFs.Layer> layers) {
        return layers.stream().map(l -> new StepRunner.Layer(l.blob(), l.diffId())).toList();
    }

    /** The instruction as errors show it: {@code RUN make}, long ones cut. */
    private String summary() {
        String text = instruction.text().replaceAll("\\s+", " ");
        return text.length() > 80 ? text.substring(0, 77) + "..." : text;
    }

    /** The heredoc script in the build's scratch directory, executable. */
    private Path script(Heredoc doc) {
        try {
            Path f = Files.createTempFile(run.scratch(), "heredoc-", "");
            Files.writeString(f, doc.body(), StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            return f;
        } catch (IOException e) {
            throw at.error(summary() + ": cannot write its heredoc: " + e.getMessage());
        }
    }
}
