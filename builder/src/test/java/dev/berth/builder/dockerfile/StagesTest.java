package dev.berth.builder.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildException;
import dev.berth.layers.Platform;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StagesTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    private static final Platform ARM = Platform.parse("linux/arm/v7");

    private static Stages stages(String text) {
        return Dockerfile.parse("Dockerfile", text).stages();
    }

    private static BuildArgs args(Map<String, String> values) {
        return new BuildArgs(values, AMD64, ARM);
    }

    private static List<Integer> planned(BuildPlan plan) {
        return plan.stages().stream().map(p -> p.stage().index()).toList();
    }

    @Test
    void splitsAtEachFrom() {
        Stages s = stages("""
                ARG BASE=alpine
                ARG V
                FROM $BASE AS Build
                RUN make
                FROM scratch
                COPY --from=build /out /
                """);
        assertThat(s.globalArgs()).hasSize(2);
        assertThat(s.all()).hasSize(2);
        assertThat(s.get(0).name()).contains("build");
        assertThat(s.get(0).instructions()).extracting(Instruction::keyword).containsExactly("RUN");
        assertThat(s.get(1).name()).isEmpty();
        assertThat(s.get(1).displayName()).isEqualTo("stage-1");
        assertThat(s.byName("BUILD")).contains(s.get(0));
        assertThat(s.target(Optional.empty())).isEqualTo(s.get(1));
        assertThat(s.target(Optional.of("bUiLd"))).isEqualTo(s.get(0));
    }

    @Test
    void stageErrors() {
        assertThatThrownBy(() -> stages("ARG A\nRUN x\nFROM a"))
                .isInstanceOf(BuildException.class).hasMessage("Dockerfile:2: no build stage in current context");
        assertThatThrownBy(() -> stages("ARG A\nARG B"))
                .hasMessage("Dockerfile:2: dockerfile contains no stages to build");
        assertThatThrownBy(() -> stages("FROM a AS x\nFROM b AS X"))
                .hasMessage("Dockerfile:2: duplicate stage name \"x\", also defined on line 1");
        assertThatThrownBy(() -> stages("FROM a AS build\nFROM b AS test\nFROM c").target(Optional.of("prod")))
                .hasMessage("Dockerfile: target stage \"prod\" could not be found (stages: build, test)");
        assertThatThrownBy(() -> stages("FROM a\nFROM b").target(Optional.of("x")))
                .hasMessage("Dockerfile: target stage \"x\" could not be found (the Dockerfile has no named stages)");
    }

    @Test
    void globalsComeFromPlatformsBuildArgsAndDefaults() {
        Stages s = stages("""
                ARG a1=foo
                ARG a2="bar:$a1"
                ARG a3="$a2-foo" UNSET
                ARG TARGETARCH
                ARG GIVEN=default
                FROM scratch AS final
                """);
        Environment g = s.globals(args(Map.of("GIVEN", "cli")), Optional.empty());
        assertThat(g.get("a3")).contains("bar:foo-foo");
        assertThat(g.get("GIVEN")).contains("cli");
        assertThat(g.contains("UNSET")).isFalse();
        assertThat(g.get("TARGETARCH")).contains("arm");
        assertThat(g.get("TARGETPLATFORM")).contains("linux/arm/v7");
        assertThat(g.get("TARGETVARIANT")).contains("v7");
        assertThat(g.get("BUILDPLATFORM")).contains("linux/amd64");
        assertThat(g.get("BUILDOS")).contains("linux");
        assertThat(g.get("BUILDVARIANT")).contains("");
        assertThat(g.get("TARGETSTAGE")).contains("final");
        assertThat(s.globals(args(Map.of("TARGETARCH", "riscv64")), Optional.of("FINAL")).get("TARGETARCH")).contains("riscv64");
        assertThat(s.globals(args(Map.of()), Optional.of("FINAL")).get("TARGETSTAGE")).contains("FINAL");
        assertThatThrownBy(() -> stages("ARG FOO\nARG BAR=${FOO:?\"foo missing\"}\nFROM a").globals(args(Map.of()), Optional.empty()))
                .hasMessage("Dockerfile:2: failed to process \"${FOO:?\\\"foo missing\\\"}\": FOO: foo missing");
    }

    @Test
    void fromIsExpandedWithGlobalArgsOnly() {
        Stages s = stages("""
                ARG image=idlebox
                FROM busy${image#idle} AS one
                ARG image=other
                FROM --platform=$BUILDPLATFORM $image
                """);
        BuildPlan plan = s.plan(Optional.of("one"), args(Map.of()));
        assertThat(plan.stages()).hasSize(1);
        assertThat(plan.stages().getFirst().from().instruction().image()).isEqualTo("busybox");
        assertThat(plan.stages().getFirst().from().referenced()).containsExactly("image");
        BuildPlan last = s.plan(Optional.empty(), args(Map.of()));
        assertThat(last.stages().getFirst().from().instruction().image()).isEqualTo("idlebox");
        assertThat(last.stages().getFirst().from().instruction().platform()).contains("linux/amd64");
        assertThatThrownBy(() -> stages("ARG BASE\nFROM $BASE").plan(Optional.empty(), args(Map.of())))
                .hasMessage("Dockerfile:2: base name ($BASE) should not be blank");
        assertThatThrownBy(() -> stages("FROM --platform=$NOPE a").plan(Optional.empty(), args(Map.of())))
                .hasMessage("Dockerfile:1: empty platform value from expression $NOPE");
        assertThatThrownBy(() -> stages("FROM a\nFROM ${b").plan(Optional.empty(), args(Map.of())))
                .hasMessage("Dockerfile:2: failed to process \"${b\": syntax error: missing '}'");
    }

    @Test
    void planKeepsOnlyWhatTheTargetNeeds() {
        Stages s = stages("""
                FROM alpine AS base
                FROM base AS build
                RUN make
                FROM golang AS unrelated
                FROM scratch AS tools
                FROM busybox AS final
                COPY --from=BUILD /app /app
                COPY --from=3 /t /t
                COPY --from=nginx:1 /etc/nginx /etc/nginx
                """);
        BuildPlan plan = s.plan(Optional.empty(), args(Map.of()));
        assertThat(planned(plan)).containsExactly(0, 1, 3, 4);
        assertThat(plan.target().index()).isEqualTo(4);
        assertThat(plan.stage(1).orElseThrow().base()).isEqualTo(new ImageSource.FromStage(0));
        assertThat(plan.stage(0).orElseThrow().base()).isEqualTo(new ImageSource.External("alpine"));
        assertThat(plan.stage(3).orElseThrow().base()).isEqualTo(new ImageSource.Scratch());
        assertThat(plan.includes(2)).isFalse();
        List<Instruction.Copy> copies = s.get(4).instructions().stream().map(i -> (Instruction.Copy) i).toList();
        assertThat(copies).extracting(s::copySource).containsExactly(
                Optional.of(new ImageSource.FromStage(1)), Optional.of(new ImageSource.FromStage(3)),
                Optional.of(new ImageSource.External("nginx:1")));
        assertThat(planned(s.plan(Optional.of("build"), args(Map.of())))).containsExactly(0, 1);
        assertThat(planned(s.plan(Optional.of("unrelated"), args(Map.of())))).containsExactly(2);
    }

    @Test
    void fromALaterStageNameIsAnImage() {
        Stages s = stages("FROM later AS first\nFROM alpine AS later");
        BuildPlan plan = s.plan(Optional.of("first"), args(Map.of()));
        assertThat(plan.stages().getFirst().base()).isEqualTo(new ImageSource.External("later"));
    }

    @Test
    void parentOnbuildTriggersRunInTheChildAndAddDependencies() {
        Stages s = stages("""
                FROM alpine AS assets
                FROM alpine AS parent
                ONBUILD COPY --from=assets /a /a
                ONBUILD RUN echo triggered
                FROM parent AS child
                """);
        BuildPlan plan = s.plan(Optional.empty(), args(Map.of()));
        assertThat(planned(plan)).containsExactly(0, 1, 2);
        BuildPlan.PlannedStage child = plan.stage(2).orElseThrow();
        assertThat(child.triggers()).extracting(Instruction::text).containsExactly("COPY --from=assets /a /a", "RUN echo triggered");
        assertThat(child.triggers().getFirst().location()).isEqualTo(Location.line("Dockerfile", 5));
        assertThat(plan.stage(1).orElseThrow().triggers()).isEmpty();
    }

    @Test
    void copyFromErrors() {
        assertThatThrownBy(() -> stages("FROM a AS one\nCOPY --from=two x y\nFROM b AS two").plan(Optional.of("one"), args(Map.of())))
                .hasMessage("Dockerfile:2: cannot copy from stage \"two\", it needs to be defined before current stage \"one\"");
        assertThatThrownBy(() -> stages("FROM a\nCOPY --from=0 x y").plan(Optional.empty(), args(Map.of())))
                .hasMessage("Dockerfile:2: cannot copy from stage \"0\", it needs to be defined before current stage \"stage-0\"");
        assertThatThrownBy(() -> stages("FROM a\nCOPY --from=5 x y").plan(Optional.empty(), args(Map.of())))
                .hasMessage("Dockerfile:2: invalid stage index 5");
        assertThatThrownBy(() -> stages("ARG S=a\nFROM a AS a\nFROM b\nCOPY --from=$S x y").plan(Optional.empty(), args(Map.of())))
                .hasMessage("Dockerfile:4: variable expansion is not supported for --from, define a new stage with FROM "
                        + "using ARG from global scope as a workaround");
        // --from validity is checked in every stage, needed or not
        assertThatThrownBy(() -> stages("FROM a AS x\nCOPY --from=${S} x y\nFROM b").plan(Optional.empty(), args(Map.of())))
                .hasMessageStartingWith("Dockerfile:2: variable expansion is not supported for --from");
    }

    @Test
    void stageScopeFollowsArgRules() {
        Stages s = stages("""
                ARG GLOBAL=g
                ARG OTHER=o
                FROM scratch
                ARG GLOBAL
                ARG LOCAL=${GLOBAL}-l EMPTY= UNSET OVERRIDDEN=default
                ENV FROM_ENV=$LOCAL
                ARG FROM_ENV=arg
                """);
        BuildArgs buildArgs = args(Map.of("OVERRIDDEN", "cli", "HTTP_PROXY", "http://proxy:3128", "no_proxy", "localhost"));
        Environment globals = s.globals(buildArgs, Optional.empty());
        ShellLexer lexer = new ShellLexer('\\');
        StageScope scope = StageScope.start(globals, buildArgs, Environment.of(Map.of("HOME", "/root")), lexer);
        assertThat(scope.environment().get("GLOBAL")).as("global args need redeclaring").isEmpty();
        assertThat(scope.imageEnvironment().get("PATH")).contains(StageScope.DEFAULT_PATH);
        List<Instruction> body = s.get(0).instructions();
        scope = scope.declare((Instruction.Arg) body.get(0)).declare((Instruction.Arg) body.get(1));
        Environment env = scope.environment();
        assertThat(env.get("GLOBAL")).contains("g");
        assertThat(env.get("OTHER")).isEmpty();
        assertThat(env.get("LOCAL")).contains("g-l");
        assertThat(env.get("EMPTY")).contains("");
        assertThat(env.contains("UNSET")).isFalse();
        assertThat(env.get("OVERRIDDEN")).contains("cli");
        assertThat(scope.declaredArgs()).containsEntry("UNSET", Optional.empty()).containsEntry("LOCAL", Optional.of("g-l"));
        Expanded<Instruction.Env> e = Expander.expand((Instruction.Env) body.get(2), lexer, scope.environment());
        scope = scope.setEnv(e.instruction().pairs());
        assertThat(scope.imageEnvironment().get("FROM_ENV")).contains("g-l");
        assertThat(scope.imageEnvironment().contains("LOCAL")).as("ARG values stay out of the image").isFalse();
        scope = scope.declare((Instruction.Arg) body.get(3));
        assertThat(scope.environment().get("FROM_ENV")).as("a later ARG sets the build environment").contains("arg");
        assertThat(scope.imageEnvironment().get("FROM_ENV")).as("but not the image's").contains("g-l");
        Environment run = scope.runEnvironment();
        assertThat(run.get("HTTP_PROXY")).contains("http://proxy:3128");
        assertThat(run.get("no_proxy")).contains("localhost");
        assertThat(scope.environment().contains("HTTP_PROXY")).isFalse();
        assertThat(buildArgs.unused(List.of("OVERRIDDEN"))).isEmpty();
        assertThat(args(Map.of("X", "1", "A", "2", "SOURCE_DATE_EPOCH", "0", "Https_Proxy", "p")).unused(List.of()))
                .containsExactly("A", "X");
        assertThat(args(Map.of("Https_Proxy", "p")).proxies().get("Https_Proxy")).contains("p");
    }

    @Test
    void argDefaultErrorsAreLocated() {
        Stages s = stages("FROM a\nARG X=${Y:?required}");
        StageScope scope = StageScope.start(Environment.empty(), BuildArgs.none(), Environment.empty(), new ShellLexer('\\'));
        assertThatThrownBy(() -> scope.declare((Instruction.Arg) s.get(0).instructions().getFirst()))
                .hasMessage("Dockerfile:2: failed to process \"${Y:?required}\": Y: required");
    }

    @Test
    void automaticArgsCanBeOverridden() {
        Environment auto = args(Map.of("TARGETOS", "freebsd")).automatic("");
        assertThat(auto.names()).containsExactlyElementsOf(BuildArgs.AUTOMATIC_NAMES);
        assertThat(auto.get("TARGETOS")).contains("freebsd");
        assertThat(auto.get("TARGETSTAGE")).contains("default");
    }
}
