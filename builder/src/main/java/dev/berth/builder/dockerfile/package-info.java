/**
 * The Dockerfile front end: parsing, instructions, stages, variables. It follows buildkit (docker build's
 * frontend) rule for rule so that a Dockerfile means the same to berth as to docker; buildkit's own parser
 * and lexer test data run in this module's tests.
 *
 * <p>The layers, from bytes to what a build runs:
 * <ol>
 *   <li>{@link dev.berth.builder.dockerfile.Dockerfile#parse} gives {@link dev.berth.builder.dockerfile.Node}s:
 *       the syntax, with line numbers, heredoc bodies, parser directives and warnings.
 *   <li>{@link dev.berth.builder.dockerfile.Dockerfile#instructions()} gives typed
 *       {@link dev.berth.builder.dockerfile.Instruction}s: flags and arguments checked, values as written.
 *   <li>{@link dev.berth.builder.dockerfile.Dockerfile#stages()} splits them into
 *       {@link dev.berth.builder.dockerfile.Stage}s; {@link dev.berth.builder.dockerfile.Stages#plan} picks
 *       the stages a target needs and resolves what each builds on.
 *   <li>At build time, per stage, a {@link dev.berth.builder.dockerfile.StageScope} tracks ENV and ARG, and
 *       {@link dev.berth.builder.dockerfile.Expander#expand} expands each instruction with it just before
 *       the instruction runs.
 * </ol>
 *
 * <pre>{@code
 * Dockerfile df = Dockerfile.read(path);
 * Stages stages = df.stages();
 * BuildArgs args = BuildArgs.of(buildArgMap);
 * BuildPlan plan = stages.plan(target, args);
 * for (BuildPlan.PlannedStage ps : plan.stages()) {
 *     StageScope scope = StageScope.start(plan.globals(), args, baseImageEnv, df.lexer()); // or the parent's scope
 *     for (Instruction i : concat(ps.triggers(), ps.stage().instructions())) {
 *         switch (i) {
 *             case Instruction.Arg a -> scope = scope.declare(a);
 *             case Instruction.Env e -> scope = scope.setEnv(Expander.expand(e, df.lexer(), scope.environment()).instruction().pairs());
 *             case Instruction.Copy c -> { var x = Expander.expand(c, df.lexer(), scope.environment()); ... stages.copySource(c) ... }
 *             case Instruction.Run r -> throw r.location().error("RUN needs a runtime; not supported yet");
 *             ...
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Every error is a {@link dev.berth.builder.BuildException} whose message starts with {@code FILE:LINE: }.
 */
package dev.berth.builder.dockerfile;
