package dev.berth.builder;

import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.StageScope;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageConfig;
import java.util.List;
import java.util.Optional;

/** The state of a stage while its instructions run, and its result after: config, file tree, variables. */
final class StageState {
    final BuildPlan.PlannedStage planned;
    ImageConfig config;
    ImageFs fs;
    StageScope scope;
    boolean cmdSet;
    Optional<Images.Resolved> base;
    List<Instruction> imageTriggers = List.of();

    StageState(BuildPlan.PlannedStage planned) {
        this.planned = planned;
    }

    /** The diff_ids of the stage's layers so far, base first. */
    List<Digest> diffIds() {
        return config.rootfs().diffIds();
    }

    /** The working directory: WORKDIR so far, or the base image's, or {@code /}. */
    String workdir() {
        return config.containerConfig().workingDir().orElse("/");
    }

    void set(ContainerConfig.Builder c) {
        config = config.withContainerConfig(c.build());
    }
}
