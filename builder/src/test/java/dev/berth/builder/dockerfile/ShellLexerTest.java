package dev.berth.builder.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ShellLexerTest {
    private static final ShellLexer LEX = new ShellLexer('\\');

    /** input, environment, expected expansion. */
    static Stream<Arguments> expansions() {
        Map<String, String> e = Map.of("FOO", "xxx", "BAR", "", "V", "1.2", "P", "/tmp/tmp/bar.txt");
        return Stream.of(
                Arguments.of("plain", e, "plain"),
                Arguments.of("$FOO", e, "xxx"),
                Arguments.of("${FOO}", e, "xxx"),
                Arguments.of("a$FOO.b", e, "axxx.b"),
                Arguments.of("$UNSET", e, ""),
                Arguments.of("$", e, "$"),
                Arguments.of("$.", e, "$."),
                Arguments.of("a$ b", e, "a$ b"),
                // unset vs empty
                Arguments.of("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", e, "xxx  ccc"),
                Arguments.of("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", e, "xxx bbb ccc"),
                Arguments.of("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", e, "aaa bbb "),
                Arguments.of("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", e, "aaa  "),
                Arguments.of("${FOO?aaa}", e, "xxx"),
                Arguments.of("${BAR?bbb}", e, ""),
                Arguments.of("${FOO:?aaa}", e, "xxx"),
                Arguments.of("${FOO:-}", e, "xxx"),
                Arguments.of("${UNSET:-}", e, ""),
                // nesting
                Arguments.of("${UNSET:-${FOO}}", e, "xxx"),
                Arguments.of("${UNSET:-${ALSO:-deep}}", e, "deep"),
                Arguments.of("${FOO:+${FOO}-${FOO}}", e, "xxx-xxx"),
                Arguments.of("v${V:+-${V}}", e, "v-1.2"),
                // prefix and suffix removal
                Arguments.of("${P#*/}", e, "tmp/tmp/bar.txt"),
                Arguments.of("${P##*/}", e, "bar.txt"),
                Arguments.of("${P%/*}", e, "/tmp/tmp"),
                Arguments.of("${P%%/*}", e, ""),
                Arguments.of("${P%.txt}", e, "/tmp/tmp/bar"),
                Arguments.of("${P#nomatch}", e, "/tmp/tmp/bar.txt"),
                Arguments.of("${P#}", e, "/tmp/tmp/bar.txt"),
                Arguments.of("${P##}", e, "/tmp/tmp/bar.txt"),
                Arguments.of("${P%}", e, "/tmp/tmp/bar.txt"),
                Arguments.of("${V%.*}", e, "1"),
                Arguments.of("${V#?.}", e, "2"),
                Arguments.of("${UNSET#x}", e, ""),
                // replacement
                Arguments.of("${P/tmp/x}", e, "/x/tmp/bar.txt"),
                Arguments.of("${P//tmp/x}", e, "/x/x/bar.txt"),
                Arguments.of("${P//\\//_}", e, "_tmp_tmp_bar.txt"),
                Arguments.of("${P/*\\//}", e, "bar.txt"),
                Arguments.of("${P//t?p/$FOO}", e, "/xxx/xxx/bar.txt"),
                Arguments.of("${FOO///}", e, "xxx"),
                Arguments.of("${BAR/$BAR/ww}", e, "ww"),
                Arguments.of("${UNSET/a/b}", e, ""),
                // quotes and escapes
                Arguments.of("'$FOO'", e, "$FOO"),
                Arguments.of("\"$FOO\"", e, "xxx"),
                Arguments.of("\"'$FOO'\"", e, "'xxx'"),
                Arguments.of("\\$FOO", e, "$FOO"),
                Arguments.of("\"\\$FOO\"", e, "$FOO"),
                Arguments.of("\"a\\tb\"", e, "a\\tb"),
                Arguments.of("a\\tb", e, "atb"),
                Arguments.of("'a\\tb'", e, "a\\tb"),
                Arguments.of("Rex\\ The\\ Dog", e, "Rex The Dog"),
                Arguments.of("trailing\\", e, "trailing"),
                // positional and special parameters are never set
                Arguments.of("$1$@$#$?$$$!$0$*$-", e, ""),
                Arguments.of("${10:-ten}", e, "ten"),
                Arguments.of("$12ab", e, "ab"),
                Arguments.of("\uFEFFbom", e, "bom"));
    }

    @ParameterizedTest(name = "[{index}] «{0}»")
    @MethodSource("expansions")
    void expands(String input, Map<String, String> env, String expected) {
        assertThat(LEX.processWord(input, Environment.of(env))).isEqualTo(expected);
    }

    /** input -> a fragment of the error. */
    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("${}", "bad substitution"),
                Arguments.of("${:}", "bad substitution"),
                Arguments.of("${{a}", "bad substitution"),
                Arguments.of("${a", "missing '}'"),
                Arguments.of("${a:-b", "missing '}'"),
                Arguments.of("${a:", "missing '}'"),
                Arguments.of("${a/b", "missing '/' in ${}"),
                Arguments.of("${a//b", "missing '/' in ${}"),
                Arguments.of("${a/b/c", "missing '}'"),
                Arguments.of("${a.}", "unsupported modifier (.) in substitution"),
                Arguments.of("${a:=x}", "unsupported modifier (:=) in substitution"),
                Arguments.of("${a=x}", "unsupported modifier (=) in substitution"),
                Arguments.of("${a:YYY}", "unsupported modifier (:Y) in substitution"),
                Arguments.of("${a:#x}", "unsupported modifier (:#) in substitution"),
                Arguments.of("${a:%x}", "unsupported modifier (:%) in substitution"),
                Arguments.of("${UNSET?}", "UNSET: is not allowed to be unset"),
                Arguments.of("${UNSET:?}", "UNSET: is not allowed to be unset"),
                Arguments.of("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
                Arguments.of("${UNSET:?need $FOO}", "UNSET: need xxx"),
                Arguments.of("'open", "matching single-quote"),
                Arguments.of("\"open", "matching double-quote"),
                Arguments.of("\"open\\\"", "matching double-quote"),
                Arguments.of("${FOO#a\\b}", "invalid escape '\\b'"));
    }

    @ParameterizedTest(name = "[{index}] «{0}»")
    @MethodSource("errors")
    void rejects(String input, String reason) {
        Environment env = Environment.of(Map.of("FOO", "xxx", "EMPTY", ""));
        assertThatThrownBy(() -> LEX.processWord(input, env))
                .isInstanceOf(BuildException.class)
                .hasMessageStartingWith("failed to process " + GoStrings.quote(input) + ": ")
                .hasMessageContaining(reason);
    }

    @Test
    void nestingIsBoundedWithAOneLineErrorNotAStackOverflow() {
        Environment env = Environment.of(Map.of("a", "1"));
        String deep = "${a:-".repeat(5000) + "x" + "}".repeat(5000);
        assertThatThrownBy(() -> LEX.processWord(deep, env)).isInstanceOf(BuildException.class)
                .hasMessageStartingWith("failed to process \"${a:-${a:-")
                .hasMessageEndingWith("… (30001 characters): ${...} nested more than 200 levels deep")
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
        String fine = "${a:-".repeat(ShellLexer.MAX_NESTING) + "x" + "}".repeat(ShellLexer.MAX_NESTING);
        assertThat(LEX.processWord(fine, env)).isEqualTo("1");
    }

    @Test
    void patternSpecialCharactersAreLiteral() {
        Environment env = Environment.of(Map.of("FOO", "()[]{}^$.*?|\\x", "S", "xx**", "A", "a***yy*"));
        assertThat(LEX.processWord("${FOO#()[]{\\}^$.\\*\\?|\\\\}", env)).isEqualTo("x");
        assertThat(LEX.processWord("${S%%\\**}", env)).isEqualTo("xx");
        assertThat(LEX.processWord("${A%%\\**\\*}", env)).isEqualTo("a");
    }

    @Test
    void replaceAllFollowsGoTemplateRules() {
        java.util.regex.Pattern b = java.util.regex.Pattern.compile("b");
        assertThat(ShellLexer.goReplaceAll(b, "abc", "[$0]")).isEqualTo("a[b]c");
        assertThat(ShellLexer.goReplaceAll(b, "abc", "[${0}]")).isEqualTo("a[b]c");
        assertThat(ShellLexer.goReplaceAll(b, "abc", "$$")).isEqualTo("a$c");
        assertThat(ShellLexer.goReplaceAll(b, "abc", "${1}x$name")).isEqualTo("axc");
        assertThat(ShellLexer.goReplaceAll(b, "abc", "$")).isEqualTo("a$c");
        // An empty match right after a match is not replaced again (Go), unlike java.util.regex.
        assertThat(ShellLexer.goReplaceAll(java.util.regex.Pattern.compile("a*"), "baaac", "-")).isEqualTo("-b-c-");
        // Through the lexer the replacement is expanded first, so the template needs an escaped dollar.
        Environment env = Environment.of(Map.of("FOO", "abc"));
        assertThat(LEX.processWord("${FOO//b/\\$0}", env)).isEqualTo("a\\bc");
        assertThat(LEX.processWord("${FOO/b/\\$0}", env)).as("a single replacement is literal").isEqualTo("a\\$0c");
    }

    @Test
    void reportsReferencedAndUndefinedVariables() {
        ShellLexer.Result r = LEX.process("${FOO:-a} $BAR ${BAZ-b} ${Q#$FOO}", Environment.of(Map.of("FOO", "1", "BAR", "")));
        assertThat(r.referenced()).containsExactlyInAnyOrder("FOO", "BAR");
        assertThat(r.undefined()).containsExactlyInAnyOrder("BAZ", "Q");
        assertThat(LEX.process("plain", Environment.empty()).referenced()).isEmpty();
    }

    /** input -> words after expansion, env: hi=hi, space="abc  def". */
    static Stream<Arguments> words() {
        return Stream.of(
                Arguments.of("hello world", List.of("hello", "world")),
                Arguments.of("  hello   world  ", List.of("hello", "world")),
                Arguments.of("a${space}b", List.of("aabc", "defb")),
                Arguments.of("a\"${space}\"b", List.of("aabc  defb")),
                Arguments.of("a'${space}'b", List.of("a${space}b")),
                Arguments.of("hello\\ there", List.of("hello there")),
                Arguments.of("x${hi:-no}y", List.of("xhiy")),
                Arguments.of("80 ${ports}", List.of("80", "443", "8080/udp")),
                Arguments.of("", List.of()),
                Arguments.of("\"\" x", List.of("x")));
    }

    @ParameterizedTest(name = "[{index}] «{0}»")
    @MethodSource("words")
    void splitsWords(String input, List<String> expected) {
        Environment env = Environment.of(Map.of("hi", "hi", "space", "abc  def", "ports", "443 8080/udp"));
        assertThat(LEX.processWords(input, env)).isEqualTo(expected);
    }

    @Test
    void backtickEscape() {
        ShellLexer lex = new ShellLexer('`');
        Environment env = Environment.of(Map.of("A", "x"));
        assertThat(lex.processWord("C:\\dir `$A $A", env)).isEqualTo("C:\\dir $A x");
        assertThat(lex.processWord("\"q`\"q\"", env)).isEqualTo("q\"q");
        assertThat(lex.processWords("a` b c", env)).containsExactly("a b", "c");
    }

    @Test
    void options() {
        Environment env = Environment.of(Map.of("A", "x"));
        assertThat(new ShellLexer('\\', Set.of(ShellLexer.Option.RAW_QUOTES)).processWord("'a' \"$A\"", env))
                .isEqualTo("'a' \"x\"");
        assertThat(new ShellLexer('\\', Set.of(ShellLexer.Option.RAW_ESCAPES)).processWord("a\\ b", env))
                .isEqualTo("a\\ b");
        assertThat(new ShellLexer('\\', Set.of(ShellLexer.Option.SKIP_PROCESS_QUOTES)).processWord("'$A' \"$A\"", env))
                .isEqualTo("'x' \"x\"");
        ShellLexer skip = new ShellLexer('\\', EnumSet.of(ShellLexer.Option.SKIP_UNSET));
        assertThat(skip.processWord("$A $B ${B} ${B:-d} ${B/x/y}", env)).isEqualTo("x $B ${B} ${B:-d} ${B/x/y}");
    }

    @Test
    void heredocMarkersStayOneWord() {
        assertThat(LEX.processWords("RUN <<  EOF > out", Environment.empty())).containsExactly("RUN", "<<  EOF", ">", "out");
    }

    @Test
    void rejectsOtherEscapeCharacters() {
        assertThatThrownBy(() -> new ShellLexer('x')).isInstanceOf(IllegalArgumentException.class);
    }
}
