package dev.berth.builder.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.builder.BuildException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * buildkit's own parser and lexer test data (copied to {@code shared/conformance/dockerfile}, see its
 * README), every case of every table. The folder comes from the {@code berth.conformance} system property;
 * when it is missing the tests are skipped with a message, except in CI ({@code CI=true}) where that is a
 * failure: CI must never pass by not running them.
 */
class DockerfileConformanceTest {
    // The case counts of buildkit commit 73ed6825; a mismatch means the data changed or was not fully read.
    private static final int POSITIVE_CASES = 33;
    private static final int NEGATIVE_CASES = 4;
    private static final int ENV_VAR_CASES = 230;
    private static final int WORDS_CASES = 24;

    private static Path data() {
        String base = System.getProperty("berth.conformance");
        Path dir = base == null ? null : Path.of(base, "dockerfile");
        if (dir == null || !Files.isDirectory(dir)) {
            String why = "Dockerfile conformance data not found at " + dir
                    + " (system property berth.conformance + /dockerfile)";
            if ("true".equals(System.getenv("CI"))) {
                fail(why + "; in CI the conformance tests must run");
            }
            Assumptions.abort(why + "; skipping the conformance tests");
        }
        return dir;
    }

    private static List<Path> caseDirs(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> positiveCasesDumpExactlyAsBuildkit() throws IOException {
        List<Path> dirs = caseDirs(data().resolve("positive"));
        assertThat(dirs).hasSize(POSITIVE_CASES);
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Dockerfile d = Dockerfile.parse("Dockerfile", Files.readAllBytes(dir.resolve("Dockerfile")));
            String expected = new String(Files.readAllBytes(dir.resolve("result")), StandardCharsets.UTF_8);
            assertThat(d.dump() + "\n").isEqualTo(expected);
        }));
    }

    @TestFactory
    Stream<DynamicTest> negativeCasesFail() throws IOException {
        List<Path> dirs = caseDirs(data().resolve("negative"));
        assertThat(dirs).hasSize(NEGATIVE_CASES);
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            byte[] content = Files.readAllBytes(dir.resolve("Dockerfile"));
            assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", content))
                    .isInstanceOf(BuildException.class)
                    .hasMessageMatching("Dockerfile:\\d+: .+");
        }));
    }

    /** buildkit's TestParseIncludesLineNumbers: the three instructions span 5-5, 11-12 and 17-31. */
    @Test
    void lineNumbersMatchBuildkit() throws IOException {
        Dockerfile d = Dockerfile.parse("Dockerfile", Files.readAllBytes(data().resolve("line/Dockerfile")));
        assertThat(d.nodes()).extracting(n -> List.of(n.startLine(), n.endLine()))
                .containsExactly(List.of(5, 5), List.of(11, 12), List.of(17, 31));
        assertThat(d.directives()).containsEntry("escape", "\\");
    }

    /**
     * {@code PLATFORM|input|expected} in the environment PWD=/home, SHELL=bash, KOREAN=한국어, NULL= (set,
     * empty). U rows are run with Unix semantics; W rows with Windows' case-insensitive variable names, so
     * every row runs.
     */
    @TestFactory
    Stream<DynamicTest> envVarTable() throws IOException {
        List<String> lines = Files.readAllLines(data().resolve("shell/envVarTest"), StandardCharsets.UTF_8);
        Environment env = Environment.of(Map.of("PWD", "/home", "SHELL", "bash", "KOREAN", "한국어", "NULL", ""));
        Variables windows = name -> env.names().stream()
                .filter(k -> k.toUpperCase(Locale.ROOT).equals(name.toUpperCase(Locale.ROOT)))
                .findFirst().flatMap(env::get);
        ShellLexer lexer = new ShellLexer('\\');
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#") || line.trim().isEmpty()) {
                continue;
            }
            String[] f = line.trim().split("\\|", -1);
            assertThat(f).as("line %d", i + 1).hasSize(3);
            String platform = f[0].trim();
            String input = f[1].trim();
            String expected = f[2].trim();
            assertThat(platform).isIn("A", "U", "W");
            Variables vars = platform.equals("W") ? windows : env;
            tests.add(DynamicTest.dynamicTest("line " + (i + 1) + " " + platform + "|" + input, () -> {
                if (expected.equals("error")) {
                    assertThatThrownBy(() -> lexer.processWord(input, vars)).isInstanceOf(BuildException.class);
                } else {
                    assertThat(lexer.processWord(input, vars)).isEqualTo(expected);
                }
            }));
        }
        assertThat(tests).hasSize(ENV_VAR_CASES);
        return tests.stream();
    }

    /** {@code ENV name=value} lines accumulate an environment; {@code input|word,word} rows split words. */
    @TestFactory
    Stream<DynamicTest> wordsTable() throws IOException {
        List<String> lines = Files.readAllLines(data().resolve("shell/wordsTest"), StandardCharsets.UTF_8);
        ShellLexer lexer = new ShellLexer('\\');
        List<String> envs = new ArrayList<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("ENV ")) {
                envs.add(line.substring(3).replaceFirst("^ +", "")); // trailing spaces are part of the value
                continue;
            }
            String[] f = line.split("\\|", -1);
            assertThat(f).as("line %d", i + 1).hasSize(2);
            String input = f[0].trim();
            List<String> expected = Arrays.asList(f[1].replaceFirst("^ +", "").split(",", -1));
            Environment env = Environment.parse(List.copyOf(envs));
            tests.add(DynamicTest.dynamicTest("line " + (i + 1) + " " + input, () -> {
                List<String> words;
                try {
                    words = lexer.processWords(input, env);
                } catch (BuildException e) {
                    words = List.of("error");
                }
                assertThat(words).isEqualTo(expected);
            }));
        }
        assertThat(tests).hasSize(WORDS_CASES);
        return tests.stream();
    }
}
