package dev.berth.builder.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Go's filepath.Match behaviour, case by case (the cases of Go's own match_test.go plus ours). */
class WildcardTest {
    static Stream<Arguments> matches() {
        return Stream.of(
                Arguments.of("abc", "abc", true),
                Arguments.of("*", "abc", true),
                Arguments.of("*c", "abc", true),
                Arguments.of("a*", "a", true),
                Arguments.of("a*", "abc", true),
                Arguments.of("a*", "ab/c", false),
                Arguments.of("a*/b", "abc/b", true),
                Arguments.of("a*/b", "a/c/b", false),
                Arguments.of("a*b*c*d*e*/f", "axbxcxdxe/f", true),
                Arguments.of("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
                Arguments.of("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
                Arguments.of("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
                Arguments.of("a*b?c*x", "abxbbxdbxebxczzx", true),
                Arguments.of("a*b?c*x", "abxbbxdbxebxczzy", false),
                Arguments.of("ab[c]", "abc", true),
                Arguments.of("ab[b-d]", "abc", true),
                Arguments.of("ab[e-g]", "abc", false),
                Arguments.of("ab[^c]", "abc", false),
                Arguments.of("ab[^b-d]", "abc", false),
                Arguments.of("ab[^e-g]", "abc", true),
                Arguments.of("a\\*b", "a*b", true),
                Arguments.of("a\\*b", "ab", false),
                Arguments.of("a?b", "a☺b", true),
                Arguments.of("a[^a]b", "a☺b", true),
                Arguments.of("a???b", "a☺b", false),
                Arguments.of("a[^a][^a][^a]b", "a☺b", false),
                Arguments.of("[a-ζ]*", "α", true),
                Arguments.of("*[a-ζ]", "A", false),
                Arguments.of("a?b", "a/b", false),
                Arguments.of("a*b", "a/b", false),
                Arguments.of("[\\]a]", "]", true),
                Arguments.of("[\\-]", "-", true),
                Arguments.of("[x\\-]", "x", true),
                Arguments.of("[x\\-]", "-", true),
                Arguments.of("[x\\-]", "z", false),
                Arguments.of("[\\-x]", "x", true),
                Arguments.of("[\\-x]", "-", true),
                Arguments.of("[\\-x]", "a", false),
                Arguments.of("*x", "xxx", true),
                // ours
                Arguments.of("*.go", "main.go", true),
                Arguments.of("*.go", "cmd/main.go", false),
                Arguments.of("arr[[]0].txt", "arr[0].txt", true),
                Arguments.of("[!a]", "!", true),
                Arguments.of("[!a]", "b", false),
                Arguments.of("[z-a]", "m", false),
                Arguments.of("😀?", "😀x", true),
                Arguments.of("?", "😀", true),
                Arguments.of("", "", true),
                Arguments.of("", "a", false),
                Arguments.of("**", "a", true),
                Arguments.of("a*", "", false));
    }

    @ParameterizedTest(name = "[{index}] match({0}, {1}) = {2}")
    @MethodSource("matches")
    void matchesLikeGo(String pattern, String name, boolean expected) {
        assertThat(Wildcard.match(pattern, name)).isEqualTo(expected);
    }

    /** Malformed patterns, rejected whatever the name (Go checks the whole pattern). */
    static Stream<String> bad() {
        return Stream.of("[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "a/b[", "*[", "x*\\",
                "[a", "[\\", "a*b[c", "abc[d-");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("bad")
    void rejectsMalformedPatterns(String pattern) {
        assertThatThrownBy(() -> Wildcard.compile(pattern))
                .isInstanceOf(BuildException.class)
                .hasMessageStartingWith(Wildcard.BAD_PATTERN);
        assertThatThrownBy(() -> Wildcard.match(pattern, "x")).isInstanceOf(BuildException.class);
    }

    @Test
    void compiledPatternsAreReusable() {
        Wildcard w = Wildcard.compile("file-[0-9]?.txt");
        assertThat(w.matches("file-1a.txt")).isTrue();
        assertThat(w.matches("file-a1.txt")).isFalse();
        assertThat(w.pattern()).isEqualTo("file-[0-9]?.txt");
        assertThat(w).isEqualTo(Wildcard.compile("file-[0-9]?.txt"));
    }

    @Test
    void metaCharacters() {
        assertThat(Wildcard.hasMeta("src/*.go")).isTrue();
        assertThat(Wildcard.hasMeta("a?")).isTrue();
        assertThat(Wildcard.hasMeta("a[b]")).isTrue();
        assertThat(Wildcard.hasMeta("a\\b")).isTrue();
        assertThat(Wildcard.hasMeta("plain/path.txt")).isFalse();
    }
}
