package dev.berth.builder;

import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Dockerfile;
import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.Stages;
import dev.berth.builder.dockerfile.WordExpander;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything that can fail before a layer is written, checked before the build starts: the images the
 * plan names (each stage's FROM and what COPY --from and RUN --mount read, pulled into the store when
 * missing), their ONBUILD triggers, and instructions berth cannot run (RUN without a runner or without
 * root, RUN's refused flags and broken mounts, a required secret that was not given, ADD from git).
 */
final class Preflight {
    /** What the check learnt: how many steps the build has, and whether it runs RUN steps. */
    record Result(int steps, boolean runs) {}

    /** Mounts are checked as written: their variables are the stage's, known only when it runs. */
    private static final WordExpander AS_WRITTEN = new WordExpander() {
        @Override
        public String word(String word) {
            return word;
        }

        @Override
        public List<String> words(String word) {
            return List.of(word);
        }

        @Override
        public String heredoc(String content) {
            return content;
        }
    };

    private final BuildRequest request;
    private final Stages stages;
    private final Images images;
    private final StepRunner steps;

    Preflight(BuildRequest request, Stages stages, Images images, StepRunner steps) {
        this.request = request;
        this.stages = stages;
        this.images = images;
        this.steps = steps;
    }

    Result check(BuildPlan plan) {
        boolean runs = false;
        int total = 0;
        java.util.Set<String> emulationChecked = new java.util.HashSet<>();
        for (BuildPlan.PlannedStage ps : plan.stages()) {
            List<Instruction> all = new ArrayList<>(ps.triggers());
            if (ps.base() instanceof ImageSource.External(String image)) {
                Images.Resolved r = images.resolve(image, images.platformOf(ps), ps.from().instruction().location());
                for (String trigger : r.image().config().value().containerConfig().onBuild()) {
                    all.add(Dockerfile.parseTrigger(trigger, ps.from().instruction().location()));
                }
            }
            all.addAll(ps.stage().instructions());
            for (Instruction i : all) {
                switch (i) {
                    case Instruction.Run r -> {
                        if (!runs) {
                            Optional<String> why = steps.unavailable();
                            if (why.isPresent()) {
                                throw r.location().error("RUN needs " + why.get());
                            }
                            runs = true;
                        }
                        dev.berth.layers.Platform platform = images.platformOf(ps);
                        if (emulationChecked.add(platform.toString())) {
                            Optional<String> why = steps.unavailable(platform);
                            if (why.isPresent()) {
                                throw r.location().error("RUN for " + platform + ": " + why.get());
                            }
                        }
                        checkRun(r);
                        for (ImageSource m : stages.mountSources(r)) {
                            if (m instanceof ImageSource.External(String image)) {
                                images.resolve(image, images.platformOf(ps), r.location());
                            }
                        }
                    }
                    case Instruction.Copy c -> {
                        if (stages.copySource(c).orElse(null) instanceof ImageSource.External(String image)) {
                            images.resolve(image, images.platformOf(ps), c.location());
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
            total += all.size() + 1;
        }
        return new Result(total, runs);
    }

    /** What a RUN asks that berth refuses, and mounts that cannot parse or lack a required secret. */
    private void checkRun(Instruction.Run r) {
        if (r.security().equals(Optional.of("insecure"))) {
            throw r.location().error("RUN --security=insecure is not supported: berth runs every RUN with docker's "
                    + "default capabilities and isolation");
        }
        if (!r.devices().isEmpty()) {
            throw r.location().error("RUN --device is not supported: berth gives a RUN no host devices");
        }
        for (String m : r.mounts()) {
            RunMount mount;
            try {
                mount = RunMount.parse(m, AS_WRITTEN, "/", 0);
            } catch (BuildException e) {
                throw r.location().error(e.getMessage());
            }
            if (mount instanceof RunMount.Secret s && s.required() && !s.id().contains("$")
                    && !request.secrets().containsKey(s.id())) {
                throw r.location().error("RUN --mount=type=secret: secret " + s.id() + " is required but was not "
                        + "given (berth build --secret id=" + s.id() + ",src=FILE)");
            }
        }
    }

    private static boolean isGit(String src) {
        return src.startsWith("git@") || src.startsWith("git://")
                || ((src.startsWith("http://") || src.startsWith("https://")) && (src.contains(".git#") || src.endsWith(".git")));
    }
}
