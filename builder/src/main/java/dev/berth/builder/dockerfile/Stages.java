package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A Dockerfile's build stages: the global ARGs before the first FROM, then one {@link Stage} per FROM.
 * Stage names are case-insensitive. {@link #plan} picks the stages a target needs.
 */
public final class Stages {
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final String FROM_VARIABLES = "variable expansion is not supported for --from, define a new stage "
            + "with FROM using ARG from global scope as a workaround";

    private final String file;
    private final ShellLexer lexer;
    private final List<Instruction.Arg> globalArgs;
    private final List<Stage> stages;

    private Stages(String file, ShellLexer lexer, List<Instruction.Arg> globalArgs, List<Stage> stages) {
        this.file = file;
        this.lexer = lexer;
        this.globalArgs = List.copyOf(globalArgs);
        this.stages = List.copyOf(stages);
    }

    /**
     * Splits a Dockerfile's instructions at each FROM. Errors: an instruction other than ARG before the
     * first FROM, no FROM at all, two stages with the same name.
     */
    public static Stages of(Dockerfile dockerfile) {
        List<Instruction.Arg> globals = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        Instruction.From from = null;
        List<Instruction> body = new ArrayList<>();
        Map<String, Instruction.From> byName = new HashMap<>();
        for (Instruction i : dockerfile.instructions()) {
            if (i instanceof Instruction.From f) {
                if (from != null) {
                    stages.add(new Stage(stages.size(), from.stageName(), from, body));
                }
                from = f;
                body = new ArrayList<>();
                Optional<String> name = f.stageName();
                if (name.isPresent()) {
                    Instruction.From earlier = byName.putIfAbsent(name.get(), f);
                    if (earlier != null) {
                        throw f.location().error("duplicate stage name " + GoStrings.quote(name.get())
                                + ", also defined on line " + earlier.location().startLine());
                    }
                }
            } else if (from == null) {
                if (i instanceof Instruction.Arg a) {
                    globals.add(a);
                } else {
                    throw i.location().error("no build stage in current context");
                }
            } else {
                body.add(i);
            }
        }
        if (from == null) {
            int last = dockerfile.nodes().getLast().endLine();
            throw Location.line(dockerfile.name(), last).error("dockerfile contains no stages to build");
        }
        stages.add(new Stage(stages.size(), from.stageName(), from, body));
        return new Stages(dockerfile.name(), dockerfile.lexer(), globals, stages);
    }

    /** The ARGs before the first FROM. */
    public List<Instruction.Arg> globalArgs() {
        return globalArgs;
    }

    public List<Stage> all() {
        return stages;
    }

    public Stage get(int index) {
        return stages.get(index);
    }

    /** The stage of that name, ignoring case. */
    public Optional<Stage> byName(String name) {
        String lower = GoStrings.toLower(name);
        return stages.stream().filter(s -> s.name().equals(Optional.of(lower))).findFirst();
    }

    /**
     * The stage {@code --target} names, or the last stage when there is no target. An unknown target is
     * an error that lists the stage names.
     */
    public Stage target(Optional<String> target) {
        if (target.isEmpty()) {
            return stages.getLast();
        }
        return byName(target.get()).orElseThrow(() -> {
            List<String> names = stages.stream().flatMap(s -> s.name().stream()).toList();
            String known = names.isEmpty() ? "the Dockerfile has no named stages"
                    : "stages: " + String.join(", ", names);
            return new BuildException(file + ": target stage " + GoStrings.quote(target.get())
                    + " could not be found (" + known + ")");
        });
    }

    /**
     * The global args of a build: the automatic platform args, then the ARGs before the first FROM in
     * order, each set from its build arg or else its default (expanded with the globals before it). These
     * are the variables FROM lines are expanded with, and the values a stage's {@code ARG NAME} picks up.
     */
    public Environment globals(BuildArgs args, Optional<String> target) {
        String targetName = target.orElseGet(() -> stages.getLast().name().orElse(""));
        Environment env = args.automatic(targetName);
        for (Instruction.Arg arg : globalArgs) {
            for (ArgDeclaration decl : arg.args()) {
                Optional<String> value = args.get(decl.name());
                if (value.isEmpty() && decl.defaultValue().isPresent()) {
                    try {
                        value = Optional.of(lexer.processWord(decl.defaultValue().get(), env));
                    } catch (BuildException e) {
                        throw arg.location().error(e.getMessage());
                    }
                }
                if (value.isPresent()) {
                    env = env.with(decl.name(), value.get());
                }
            }
        }
        return env;
    }

    /**
     * What {@code COPY --from=X} refers to: a stage by name (any case) or index, else an image; empty without
     * {@code --from} (the build context). {@code --from} takes no variables.
     */
    public Optional<ImageSource> copySource(Instruction.Copy copy) {
        return copy.from().map(from -> source(from, copy.location()));
    }

    /**
     * What each {@code RUN --mount=from=X} refers to, in the order of the mounts (those without
     * {@code from} are left out): a stage by name or index, else an image, as for COPY.
     */
    public List<ImageSource> mountSources(Instruction.Run run) {
        List<ImageSource> out = new ArrayList<>();
        for (String m : run.mounts()) {
            Optional<String> from;
            try {
                from = Csv.value(m, "from");
            } catch (BuildException e) {
                throw run.location().error(e.getMessage());
            }
            from.ifPresent(f -> out.add(source(f, run.location())));
        }
        return out;
    }

    /** A {@code --from} value: a stage by name (any case) or index, else an image. It takes no variables. */
    public ImageSource source(String from, Location at) {
        String expanded;
        try {
            expanded = lexer.processWord(from, Variables.none());
        } catch (BuildException e) {
            throw at.error(FROM_VARIABLES);
        }
        if (!expanded.equals(from)) {
            throw at.error(FROM_VARIABLES);
        }
        if (INTEGER.matcher(from).matches()) {
            long index;
            try {
                index = Long.parseLong(from);
            } catch (NumberFormatException e) {
                index = Long.MAX_VALUE;
            }
            if (index < 0 || index >= stages.size()) {
                throw at.error("invalid stage index " + from);
            }
            return new ImageSource.FromStage((int) index);
        }
        return byName(from).<ImageSource>map(st -> new ImageSource.FromStage(st.index()))
                .orElse(new ImageSource.External(from));
    }

    /** {@link #plan(Optional, Environment)} with the globals of {@code args}. */
    public BuildPlan plan(Optional<String> target, BuildArgs args) {
        return plan(target, globals(args, target));
    }

    /**
     * The stages the target needs, in file order: the target, the stages it is built FROM, the stages its
     * COPY --from (and the ONBUILD triggers it inherits from a parent stage) read, and so on. Every
     * stage's FROM is expanded with {@code globals}, as buildkit does even for stages the target does not
     * need; a FROM naming an earlier stage builds on it.
     */
    public BuildPlan plan(Optional<String> target, Environment globals) {
        Stage targetStage = target(target);
        List<Expanded<Instruction.From>> froms = new ArrayList<>();
        List<ImageSource> bases = new ArrayList<>();
        for (Stage s : stages) {
            Expanded<Instruction.From> f = Expander.expand(s.from(), lexer, globals);
            froms.add(f);
            String image = f.instruction().image();
            Optional<Stage> parent = stages.subList(0, s.index()).stream()
                    .filter(p -> p.name().equals(Optional.of(GoStrings.toLower(image))))
                    .findFirst();
            bases.add(parent.<ImageSource>map(p -> new ImageSource.FromStage(p.index()))
                    .orElse(image.equals("scratch") ? new ImageSource.Scratch() : new ImageSource.External(image)));
        }
        for (Stage s : stages) {
            for (Instruction i : s.instructions()) {
                if (i instanceof Instruction.Copy c) {
                    copySource(c); // validated for every stage, as buildkit does
                }
            }
        }
        Map<Integer, BuildPlan.PlannedStage> needed = new HashMap<>();
        Deque<Integer> todo = new ArrayDeque<>(List.of(targetStage.index()));
        while (!todo.isEmpty()) {
            int index = todo.pop();
            if (needed.containsKey(index)) {
                continue;
            }
            Stage s = stages.get(index);
            List<Instruction> triggers = List.of();
            if (bases.get(index) instanceof ImageSource.FromStage(int parent)) {
                todo.push(parent);
                triggers = stages.get(parent).onbuilds().stream().map(o -> o.trigger(s.from().location())).toList();
            }
            List<Instruction> run = new ArrayList<>(triggers);
            run.addAll(s.instructions());
            for (Instruction i : run) {
                if (i instanceof Instruction.Copy c
                        && copySource(c).orElse(null) instanceof ImageSource.FromStage(int source)) {
                    if (source >= index) {
                        throw c.location().error("cannot copy from stage " + GoStrings.quote(c.from().orElseThrow())
                                + ", it needs to be defined before current stage " + GoStrings.quote(s.displayName()));
                    }
                    todo.push(source);
                }
                if (i instanceof Instruction.Run r) {
                    for (ImageSource m : mountSources(r)) {
                        if (m instanceof ImageSource.FromStage(int source)) {
                            if (source >= index) {
                                throw r.location().error("cannot mount from stage "
                                        + GoStrings.quote(stages.get(source).displayName())
                                        + ", stage needs to be defined before current command");
                            }
                            todo.push(source);
                        }
                    }
                }
            }
            needed.put(index, new BuildPlan.PlannedStage(s, froms.get(index), bases.get(index), triggers));
        }
        List<BuildPlan.PlannedStage> ordered = new TreeSet<>(needed.keySet()).stream().map(needed::get).toList();
        return new BuildPlan(targetStage, ordered, globals);
    }

    @Override
    public String toString() {
        return stages.stream().map(Stage::displayName).collect(Collectors.joining(", ", "Stages[", "]"));
    }
}
