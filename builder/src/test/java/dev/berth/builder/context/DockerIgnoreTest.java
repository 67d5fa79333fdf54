package dev.berth.builder.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DockerIgnoreTest {
    /**
     * Runs of ** and * against a deep tree: what backtracking matchers take minutes over (one such pattern
     * against a 25-deep path is 2^25 ways to split it). The automaton answers each at once; the timeout is a
     * guard against a hang, not a speed figure.
     */
    @Test
    @org.junit.jupiter.api.Timeout(30)
    void hostilePatternsMatchInLinearTime() {
        DockerIgnore ignore = DockerIgnore.of(List.of("**/**/**/**/**/*a", "*/*/*/*/*/*/*/*/*/*/*/*b", "**/x*y*z*w*v*u"));
        String deep = String.join("/", java.util.Collections.nCopies(25, "d")) + "/";
        for (int i = 0; i < 200; i++) {
            assertThat(ignore.excludes(deep + "f" + i)).isFalse();
            assertThat(ignore.excludes(deep + "f" + i + "a")).isTrue();
        }
        String longName = "x".repeat(5000) + "y";
        assertThat(ignore.excludes("dir/" + longName)).isFalse();
        assertThat(ignore.excludes("dir/" + longName + "zwvu")).isTrue();
        assertThat(DockerIgnore.of(List.of("*/*/*/*/*/*/*/*/*/*/*/*b")).excludes("a/b/c/d/e/f/g/h/i/j/k/lb")).isTrue();
    }

    /** One pattern, one path, excluded or not (moby/patternmatcher's TestMatches cases plus ours). */
    static Stream<Arguments> single() {
        return Stream.of(
                Arguments.of("**", "file", true),
                Arguments.of("**", "file/", true),
                Arguments.of("**/", "file", true),
                Arguments.of("**/", "file/", true),
                Arguments.of("**", "/", true),
                Arguments.of("**/", "/", true),
                Arguments.of("**", "dir/file", true),
                Arguments.of("**/", "dir/file", true),
                Arguments.of("**", "dir/file/", true),
                Arguments.of("**/", "dir/file/", true),
                Arguments.of("**/**", "dir/file", true),
                Arguments.of("**/**", "dir/file/", true),
                Arguments.of("dir/**", "dir/file", true),
                Arguments.of("dir/**", "dir/file/", true),
                Arguments.of("dir/**", "dir/dir2/file", true),
                Arguments.of("dir/**", "dir/dir2/file/", true),
                Arguments.of("**/dir", "dir", true),
                Arguments.of("**/dir", "dir/file", true),
                Arguments.of("**/dir2/*", "dir/dir2/file", true),
                Arguments.of("**/dir2/*", "dir/dir2/file/", true),
                Arguments.of("**/dir2/**", "dir/dir2/dir3/file", true),
                Arguments.of("**/dir2/**", "dir/dir2/dir3/file/", true),
                Arguments.of("**file", "file", true),
                Arguments.of("**file", "dir/file", true),
                Arguments.of("**/file", "dir/file", true),
                Arguments.of("**file", "dir/dir/file", true),
                Arguments.of("**/file", "dir/dir/file", true),
                Arguments.of("**/file*", "dir/dir/file", true),
                Arguments.of("**/file*", "dir/dir/file.txt", true),
                Arguments.of("**/file*txt", "dir/dir/file.txt", true),
                Arguments.of("**/file*.txt", "dir/dir/file.txt", true),
                Arguments.of("**/file*.txt*", "dir/dir/file.txt", true),
                Arguments.of("**/**/*.txt", "dir/dir/file.txt", true),
                Arguments.of("**/**/*.txt2", "dir/dir/file.txt", false),
                Arguments.of("**/*.txt", "file.txt", true),
                Arguments.of("**/**/*.txt", "file.txt", true),
                Arguments.of("a**/*.txt", "a/file.txt", true),
                Arguments.of("a**/*.txt", "a/dir/file.txt", true),
                Arguments.of("a**/*.txt", "a/dir/dir/file.txt", true),
                Arguments.of("a/*.txt", "a/dir/file.txt", false),
                Arguments.of("a/*.txt", "a/file.txt", true),
                Arguments.of("a/*.txt**", "a/file.txt", true),
                Arguments.of("a[b-d]e", "ae", false),
                Arguments.of("a[b-d]e", "ace", true),
                Arguments.of("a[b-d]e", "aae", false),
                Arguments.of("a[^b-d]e", "aze", true),
                Arguments.of(".*", ".foo", true),
                Arguments.of(".*", "foo", false),
                Arguments.of("abc.def", "abcdef", false),
                Arguments.of("abc.def", "abc.def", true),
                Arguments.of("abc.def", "abcZdef", false),
                Arguments.of("abc?def", "abcZdef", true),
                Arguments.of("abc?def", "abcdef", false),
                Arguments.of("a\\\\", "a\\", true),
                Arguments.of("**/foo/bar", "foo/bar", true),
                Arguments.of("**/foo/bar", "dir/foo/bar", true),
                Arguments.of("**/foo/bar", "dir/dir2/foo/bar", true),
                Arguments.of("abc/**", "abc", false),
                Arguments.of("abc/**", "abc/def", true),
                Arguments.of("abc/**", "abc/def/ghi", true),
                Arguments.of("**/.foo", ".foo", true),
                Arguments.of("**/.foo", "bar.foo", false),
                Arguments.of("a(b)c/def", "a(b)c/def", true),
                Arguments.of("a(b)c/def", "a(b)c/xyz", false),
                Arguments.of("a.|)$(}+{bc", "a.|)$(}+{bc", true),
                Arguments.of("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
                Arguments.of("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
                Arguments.of("a\\*b", "a*b", true),
                // filepath.Match's table, run through a matcher (a matching parent directory excludes too)
                Arguments.of("*", "abc", true),
                Arguments.of("a*", "ab/c", true),
                Arguments.of("a*/b", "abc/b", true),
                Arguments.of("a*/b", "a/c/b", false),
                Arguments.of("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
                Arguments.of("ab[^e-g]", "abc", true),
                Arguments.of("a?b", "a☺b", true),
                Arguments.of("[\\]a]", "]", true),
                Arguments.of("*x", "xxx", true),
                // ours
                Arguments.of("docs", "docs/a/b.md", true),
                Arguments.of("/docs", "docs/a.md", true),
                Arguments.of("./docs/", "docs", true),
                Arguments.of("docs/../src", "src/main.c", true),
                Arguments.of("*.md", "sub/x.md", false),
                Arguments.of("*/*.md", "sub/x.md", true),
                Arguments.of("node_modules", "node_modules", true),
                Arguments.of("file[0-9].txt", "file7.txt", true),
                Arguments.of("file[!0-9].txt", "file!.txt", true));
    }

    @ParameterizedTest(name = "[{index}] {0} excludes {1}: {2}")
    @MethodSource("single")
    void onePattern(String pattern, String path, boolean excluded) {
        assertThat(DockerIgnore.of(List.of(pattern)).excludes(path)).isEqualTo(excluded);
    }

    /** Several patterns: the last match wins; exceptions re-include. */
    static Stream<Arguments> multiple() {
        return Stream.of(
                Arguments.of(List.of("**", "!util/docker/web"), "util/docker/web/foo", false),
                Arguments.of(List.of("**", "!util/docker/web", "util/docker/web/foo"), "util/docker/web/foo", true),
                Arguments.of(List.of("**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"),
                        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
                Arguments.of(List.of("**", "!dist/*.whl"), "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
                Arguments.of(List.of("*.go"), "fileutils.go", true),
                Arguments.of(List.of("!fileutils.go", "*.go"), "fileutils.go", true),
                Arguments.of(List.of("*.go", "!fileutils.go"), "fileutils.go", false),
                Arguments.of(List.of("docs", "!docs/README.md"), "docs/README.md", false),
                Arguments.of(List.of("docs/", "!docs/README.md"), "docs/README.md", false),
                Arguments.of(List.of("docs/*", "!docs/README.md"), "docs/README.md", false),
                Arguments.of(List.of("docs", "!docs/README.md"), "docs/other.md", true),
                Arguments.of(List.of("*.md", "!README*.md", "README-secret.md"), "README-secret.md", true),
                Arguments.of(List.of("*.md", "!README*.md", "README-secret.md"), "README.md", false),
                Arguments.of(List.of("*.md", "!README*.md", "README-secret.md"), "CHANGES.md", true),
                Arguments.of(List.of(), "anything", false));
    }

    @ParameterizedTest(name = "[{index}] {0} excludes {1}: {2}")
    @MethodSource("multiple")
    void severalPatterns(List<String> patterns, String path, boolean excluded) {
        assertThat(DockerIgnore.of(patterns).excludes(path)).isEqualTo(excluded);
    }

    @Test
    void theRootIsNeverExcluded() {
        assertThat(DockerIgnore.of(List.of("**")).excludes(".")).isFalse();
        assertThat(DockerIgnore.of(List.of("*")).excludes("")).isFalse();
    }

    @Test
    void readsTheFileFormat() {
        DockerIgnore d = DockerIgnore.parse(".dockerignore", "\uFEFFtest1\n/test2\r\n/a/file/here\n\nlastfile\n"
                + "# this is a comment\n  # not a comment\n! /inverted/abs/path\n  ./spaced//path/  \n");
        assertThat(d.rules()).extracting(DockerIgnore.Rule::toString).containsExactly(
                "test1", "test2", "a/file/here", "lastfile", "# not a comment", "!inverted/abs/path", "spaced/path");
        assertThat(d.rules()).extracting(DockerIgnore.Rule::line).containsExactly(1, 2, 3, 5, 7, 8, 9);
        assertThat(d.rules().get(5).exception()).isTrue();
        assertThat(d.isEmpty()).isFalse();
        assertThat(DockerIgnore.parse(".dockerignore", "# only a comment\n\n").isEmpty()).isTrue();
    }

    @Test
    void errorsNameTheFileAndLine() {
        assertThatThrownBy(() -> DockerIgnore.parse("ctx/.dockerignore", "ok\n!\n"))
                .isInstanceOf(BuildException.class).hasMessage("ctx/.dockerignore:2: illegal exclusion pattern: \"!\"");
        assertThatThrownBy(() -> DockerIgnore.parse(".dockerignore", "a\nb\n[\n"))
                .hasMessage(".dockerignore:3: syntax error in pattern \"[\"");
        assertThatThrownBy(() -> DockerIgnore.parse(".dockerignore", "a[\n"))
                .hasMessage(".dockerignore:1: syntax error in pattern \"a[\"");
        // passes filepath.Match's check but is a reversed range, which patternmatcher's regexp rejects
        assertThatThrownBy(() -> DockerIgnore.parse(".dockerignore", "[Local-Only]/\n"))
                .hasMessage(".dockerignore:1: syntax error in pattern \"[Local-Only]\"");
        assertThatThrownBy(() -> DockerIgnore.of(List.of("ok", "! ")))
                .hasMessage(".dockerignore pattern 2: illegal exclusion pattern: \"!\"");
    }

    @Test
    void tellsWhenAnExcludedDirectoryMustStillBeWalked() {
        DockerIgnore none = DockerIgnore.of(List.of("build", "docs"));
        assertThat(none.canSkip("build")).isTrue();
        assertThat(none.mayReinclude("build")).isFalse();

        DockerIgnore exact = DockerIgnore.of(List.of("docs", "!docs/README.md", "vendor"));
        assertThat(exact.mayReinclude("docs")).isTrue();
        assertThat(exact.canSkip("docs")).isFalse();
        assertThat(exact.mayReinclude("vendor")).isFalse();
        assertThat(exact.canSkip("vendor")).isTrue();
        assertThat(exact.canSkip("src")).as("not excluded").isFalse();
        assertThat(exact.mayReinclude("doc")).as("a prefix of a name is not a parent").isFalse();

        DockerIgnore trailing = DockerIgnore.of(List.of("*", "!keep/**"));
        assertThat(trailing.mayReinclude("keep")).isTrue();
        assertThat(trailing.mayReinclude("other")).isFalse();

        DockerIgnore wild = DockerIgnore.of(List.of("vendor", "!**/*.go"));
        assertThat(wild.mayReinclude("vendor")).as("a wildcard exception can reach anywhere").isTrue();
        assertThat(wild.excludes("vendor/a/b.go")).isFalse();
        assertThat(wild.excludes("vendor/a/b.c")).isTrue();
    }

    @Test
    void locatesTheIgnoreFile(@TempDir Path ctx) throws IOException {
        Path dockerfile = ctx.resolve("sub/app.Dockerfile");
        Files.createDirectories(dockerfile.getParent());
        Files.writeString(dockerfile, "FROM scratch\n");
        assertThat(DockerIgnore.locate(ctx, dockerfile)).isEmpty();
        assertThat(DockerIgnore.load(ctx, dockerfile).isEmpty()).isTrue();

        Files.writeString(ctx.resolve(".dockerignore"), "*.log\n");
        assertThat(DockerIgnore.locate(ctx, dockerfile)).contains(ctx.resolve(".dockerignore"));
        assertThat(DockerIgnore.load(ctx, dockerfile).excludes("a.log")).isTrue();

        Files.writeString(ctx.resolve("sub/app.Dockerfile.dockerignore"), "*.tmp\n");
        assertThat(DockerIgnore.locate(ctx, dockerfile)).contains(ctx.resolve("sub/app.Dockerfile.dockerignore"));
        DockerIgnore beside = DockerIgnore.load(ctx, dockerfile);
        assertThat(beside.excludes("a.tmp")).isTrue();
        assertThat(beside.excludes("a.log")).as("the file beside the Dockerfile replaces the root one").isFalse();

        Path plain = ctx.resolve("Dockerfile");
        Files.writeString(plain, "FROM scratch\n");
        Files.writeString(ctx.resolve("Dockerfile.dockerignore"), "secret\n");
        assertThat(DockerIgnore.locate(ctx, plain)).contains(ctx.resolve("Dockerfile.dockerignore"));
    }
}
