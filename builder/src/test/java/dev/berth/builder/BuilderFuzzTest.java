package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.berth.builder.context.DockerIgnore;
import dev.berth.builder.dockerfile.BuildArgs;
import dev.berth.builder.dockerfile.BuildPlan;
import dev.berth.builder.dockerfile.Dockerfile;
import dev.berth.builder.dockerfile.Environment;
import dev.berth.builder.dockerfile.Expander;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.ShellLexer;
import dev.berth.builder.dockerfile.StageScope;
import dev.berth.builder.dockerfile.Stages;
import dev.berth.layers.testing.Fuzzing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzz targets of the Dockerfile front end and {@code .dockerignore}. In the suite each replays its corpus
 * ({@code testdata/fuzz/<target>/}); {@code bench/fuzz.sh} mutates them. The contract checked: whatever
 * the bytes, parsing, planning and expanding return or throw a {@link BuildException} with a message, and
 * one small input allocates a bounded amount.
 */
class BuilderFuzzTest {
    private static final int MAX_INPUT = 16 << 10;
    private static final long BOUND = 64L << 20;
    /** The ignore matcher is linear in a path times a pattern; 1 KB of both is far from a second. */
    private static final int MAX_IGNORE = 1 << 10;
    private static final long IGNORE_NANOS = 1_000_000_000L;

    /** Variables the expansions see: build args and an image's environment, with awkward values. */
    private static final BuildArgs ARGS = BuildArgs.of(Map.of("VERSION", "1.2.3", "EMPTY", "", "SPACES", " a  b ",
            "GLOB", "*.[ch]", "DOLLAR", "$HOME", "QUOTES", "\"'`\\"));
    private static final Environment IMAGE_ENV = Environment.of(Map.of("HOME", "/root", "PATH", "/usr/bin:/bin",
            "A", "a", "LONG", "x".repeat(300)));
    private static final List<String> PATHS = List.of("a", "a/b", "a/b/c.go", ".git/config", "docs/README.md",
            "node_modules/x/y", "src/main/java/A.java", "dir/.dockerignore", "x.tmp", "deep/a/b/c/d/e/f/g");

    @Test
    void everyTargetHasACorpus() throws Exception {
        List<String> targets = Fuzzing.targets(BuilderFuzzTest.class);
        assertThat(targets).isNotEmpty();
        for (String t : targets) {
            assertThat(Fuzzing.corpus(BuilderFuzzTest.class, t)).as("corpus of " + t).isNotEmpty();
        }
    }

    /**
     * A Dockerfile as a build reads it: parsed, split into stages, planned, and each stage's instructions
     * expanded in order with the stage's scope, as the builder runs them (RUN mounts and --chmod too).
     */
    @FuzzTest(maxDuration = "10m")
    void dockerfile(byte[] input) throws Exception {
        if (input.length > MAX_INPUT) {
            return;
        }
        Fuzzing.expect(BuildException.class, BOUND, () -> {
            Dockerfile df = Dockerfile.parse("Dockerfile", input);
            df.dump();
            Stages stages = df.stages();
            BuildPlan plan = stages.plan(Optional.empty(), ARGS);
            for (BuildPlan.PlannedStage ps : plan.stages()) {
                StageScope scope = StageScope.start(plan.globals(), ARGS, IMAGE_ENV, df.lexer());
                List<Instruction> run = new ArrayList<>(ps.triggers());
                run.addAll(ps.stage().instructions());
                for (Instruction i : run) {
                    scope = step(df, stages, scope, i);
                }
            }
        });
    }

    private static StageScope step(Dockerfile df, Stages stages, StageScope scope, Instruction i) {
        Expander words = new Expander(df.lexer(), scope.environment());
        switch (i) {
            case Instruction.Arg a -> {
                return scope.declare(a);
            }
            case Instruction.Env e -> {
                return scope.setEnv(Expander.expand(e, df.lexer(), scope.environment()).instruction().pairs());
            }
            case Instruction.Copy c -> {
                stages.copySource(c);
                Instruction.Copy x = Expander.expand(c, df.lexer(), scope.environment()).instruction();
                x.chmod().ifPresent(Chmod::parse);
            }
            case Instruction.Add a -> Expander.expand(a, df.lexer(), scope.environment()).instruction().chmod()
                    .ifPresent(Chmod::parse);
            case Instruction.Run r -> {
                stages.mountSources(r);
                for (int m = 0; m < r.mounts().size(); m++) {
                    RunMount.parse(r.mounts().get(m), words, "/work", m);
                }
            }
            case Instruction.Onbuild o -> o.trigger(i.location());
            case Instruction.Expandable x -> Expander.expand(x, df.lexer(), scope.environment());
            default -> {
                // CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER: nothing to expand
            }
        }
        return scope;
    }

    /**
     * One word expanded as buildkit's lexer does. The first byte picks the escape character (bit 0) and the
     * lexer's options (bits 1 to 4); the rest is the word.
     */
    @FuzzTest(maxDuration = "10m")
    void shellLexer(byte[] input) throws Exception {
        if (input.length == 0 || input.length > MAX_INPUT) {
            return;
        }
        char escape = (input[0] & 1) == 0 ? '\\' : '`';
        Set<ShellLexer.Option> options = EnumSet.noneOf(ShellLexer.Option.class);
        for (ShellLexer.Option o : ShellLexer.Option.values()) {
            if ((input[0] & (2 << o.ordinal())) != 0) {
                options.add(o);
            }
        }
        String word = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        ShellLexer lexer = new ShellLexer(escape, options);
        Fuzzing.expect(BuildException.class, BOUND, () -> {
            ShellLexer.Result r = lexer.process(word, IMAGE_ENV.with("SPACES", " a  b ").with("EMPTY", ""));
            assertThat(r.value()).isNotNull();
            new Expander(lexer, IMAGE_ENV).heredoc(word);
        });
    }

    /**
     * A {@code .dockerignore} and the paths it is asked about: the bytes before the first NUL are the file,
     * the lines after it the paths (a fixed list when there is no NUL). Matching stays well under a second
     * while fuzzing (not checked when the suite replays the corpus: no timed assertions there).
     */
    @FuzzTest(maxDuration = "10m")
    void dockerignore(byte[] input) throws Exception {
        if (input.length > MAX_IGNORE) {
            return;
        }
        int nul = indexOf(input, (byte) 0);
        byte[] file = nul < 0 ? input : Arrays.copyOf(input, nul);
        List<String> paths = nul < 0 ? PATHS
                : List.of(new String(input, nul + 1, input.length - nul - 1, StandardCharsets.UTF_8).split("\n"));
        long start = System.nanoTime();
        Fuzzing.expect(BuildException.class, BOUND, () -> {
            DockerIgnore ignore = DockerIgnore.parse(".dockerignore", file);
            for (String p : paths) {
                ignore.excludes(p);
                ignore.canSkip(p);
            }
        });
        long took = System.nanoTime() - start;
        if (Fuzzing.fuzzing() && took > IGNORE_NANOS) {
            throw new AssertionError(".dockerignore matching took " + took / 1_000_000 + " ms for " + input.length
                    + " bytes");
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
