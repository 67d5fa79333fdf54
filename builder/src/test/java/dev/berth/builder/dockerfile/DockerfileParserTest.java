package dev.berth.builder.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DockerfileParserTest {
    private static Dockerfile parse(String text) {
        return Dockerfile.parse("Dockerfile", text);
    }

    private static String dump(String text) {
        return parse(text).dump();
    }

    /** Dockerfile text -> buildkit's dump, one rule per row. */
    static Stream<Arguments> dumps() {
        return Stream.of(
                // instruction names in any case; dumped lower case
                Arguments.of("from alpine\nRun ls\nCOPY a b", "(from \"alpine\")\n(run \"ls\")\n(copy \"a\" \"b\")"),
                // FROM and EXPOSE split on blanks
                Arguments.of("FROM --platform=$BUILDPLATFORM golang:1 AS build",
                        "(from [\"--platform=$BUILDPLATFORM\"] \"golang:1\" \"AS\" \"build\")"),
                Arguments.of("EXPOSE 80/tcp\t443", "(expose \"80/tcp\" \"443\")"),
                // exec form vs shell form
                Arguments.of("RUN [\"ls\", \"-la\"]", "(run \"ls\" \"-la\")"),
                Arguments.of("RUN ls -la", "(run \"ls -la\")"),
                Arguments.of("CMD []", "(cmd)"),
                Arguments.of("CMD", "(cmd)"),
                Arguments.of("ENTRYPOINT [\"a\\u00e9\\ud83d\\ude00\"]", "(entrypoint \"aé😀\")"),
                Arguments.of("ENTRYPOINT [\"\\ud83d\"]", "(entrypoint \"\uFFFD\")"),
                // invalid JSON falls back to the shell form
                Arguments.of("CMD ['a', 'b']", "(cmd \"['a', 'b']\")"),
                Arguments.of("CMD [\"a\", \"b\"] trailing", "(cmd \"[\\\"a\\\", \\\"b\\\"] trailing\")"),
                Arguments.of("CMD [\"a\tb\"]", "(cmd \"[\\\"a\\tb\\\"]\")"),
                Arguments.of("CMD [\"a\", 01]", "(cmd \"[\\\"a\\\", 01]\")"),
                Arguments.of("COPY [\"a b\" c]", "(copy \"[\\\"a\" \"b\\\"\" \"c]\")"),
                Arguments.of("COPY [\"a b\", \"/c d/\"]", "(copy \"a b\" \"/c d/\")"),
                Arguments.of("VOLUME /a /b", "(volume \"/a\" \"/b\")"),
                // flags on any instruction; quotes removed inside flags; -- ends them
                Arguments.of("COPY --from=build --chown=\"a b\" x y", "(copy [\"--from=build\" \"--chown=a b\"] \"x\" \"y\")"),
                Arguments.of("RUN --network=none -- --not-a-flag", "(run [\"--network=none\"] \"--not-a-flag\")"),
                Arguments.of("RUN -x --y", "(run \"-x --y\")"),
                Arguments.of("RUN --mount=type=cache,target=/root/.cache make", "(run [\"--mount=type=cache,target=/root/.cache\"] \"make\")"),
                // ENV and LABEL: old form and k=v pairs with quotes kept
                Arguments.of("ENV A 1 2", "(env \"A\" \"1 2\" \"\")"),
                Arguments.of("ENV A=1 B=\"2 3\" C=a\\ b", "(env \"A\" \"1\" \"=\" \"B\" \"\\\"2 3\\\"\" \"=\" \"C\" \"a\\\\ b\" \"=\")"),
                Arguments.of("LABEL \"com.example.key\"=v", "(label \"\\\"com.example.key\\\"\" \"v\" \"=\")"),
                Arguments.of("ENV A=", "(env \"A\" \"\" \"=\")"),
                // ARG keeps words whole
                Arguments.of("ARG a b=\"1 2\" c=", "(arg \"a\" \"b=\\\"1 2\\\"\" \"c=\")"),
                // rest-of-line instructions
                Arguments.of("USER  app:app ", "(user \"app:app\")"),
                Arguments.of("WORKDIR /my dir", "(workdir \"/my dir\")"),
                Arguments.of("MAINTAINER Jane <j@example.com>", "(maintainer \"Jane <j@example.com>\")"),
                Arguments.of("STOPSIGNAL SIGKILL", "(stopsignal \"SIGKILL\")"),
                Arguments.of("SHELL [\"/bin/bash\", \"-c\"]", "(shell \"/bin/bash\" \"-c\")"),
                // HEALTHCHECK: type word then a command in either form
                Arguments.of("HEALTHCHECK --interval=5s CMD curl -f http://x/", "(healthcheck [\"--interval=5s\"] \"CMD\" \"curl -f http://x/\")"),
                Arguments.of("HEALTHCHECK NONE", "(healthcheck \"NONE\")"),
                // ONBUILD nests its instruction, flags included
                Arguments.of("ONBUILD COPY --from=x . /", "(onbuild (copy [\"--from=x\"] \".\" \"/\"))"),
                Arguments.of("onbuild run [\"a\"]", "(onbuild (run \"a\"))"),
                Arguments.of("ONBUILD", "(onbuild)"),
                // unknown instructions parse; they fail as instructions
                Arguments.of("FOO bar", "(foo \"\")"),
                // continuations: joined without separator, indentation kept
                Arguments.of("RUN a\\\n  b", "(run \"a  b\")"),
                Arguments.of("RUN a \\  \t\nb", "(run \"a b\")"),
                Arguments.of("RUN a\\\n# comment\n\n  b", "(run \"a  b\")"),
                Arguments.of("RUN a \\\n", "(run \"a\")"),
                Arguments.of("ENV A=x\\\\\nENV B=y", "(env \"A\" \"x\\\\\\\\\" \"=\")\n(env \"B\" \"y\" \"=\")"),
                Arguments.of("RUN a\\\n\\\nb", "(run \"ab\")"),
                // comments are whole lines only; a comment never continues
                Arguments.of("# c \\\nRUN echo # not a comment", "(run \"echo # not a comment\")"),
                Arguments.of("   # indented comment\nRUN x", "(run \"x\")"),
                // CRLF and a byte-order mark
                Arguments.of("\uFEFFFROM a\r\nRUN b \\\r\n c\r\n", "(from \"a\")\n(run \"b  c\")"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("dumps")
    void dumps(String dockerfile, String expected) {
        assertThat(dump(dockerfile)).isEqualTo(expected);
    }

    @Test
    void keepsLineNumbersAndOriginalText() {
        Dockerfile d = parse("\n# comment\nFROM a\n\nRUN one \\\n  two \\\n\n  three\nCOPY <<EOF /x\nbody\nEOF\nCMD x");
        assertThat(d.nodes()).extracting(Node::startLine).containsExactly(3, 5, 9, 12);
        assertThat(d.nodes()).extracting(Node::endLine).containsExactly(3, 8, 11, 12);
        assertThat(d.nodes().get(1).original()).isEqualTo("RUN one   two   three");
        assertThat(d.nodes().get(1).keyword()).isEqualTo("RUN");
    }

    @Test
    void warnsAboutEmptyContinuationLines() {
        Dockerfile d = parse("FROM a\nRUN x \\\n\n  y\nRUN ok \\\n# comment\n  fine");
        assertThat(d.warnings()).hasSize(1);
        assertThat(d.warnings().getFirst().location().startLine()).isEqualTo(4);
        assertThat(d.warnings().getFirst().message()).contains("Empty continuation line found in: RUN x   y");
    }

    @Test
    void directivesAtTheTopAreCaseInsensitive() {
        Dockerfile d = parse("# syntax=docker/dockerfile:1\n#  ESCAPE = `\n# check=skip=all\nFROM a\nRUN a `\n b");
        assertThat(d.syntax()).contains("docker/dockerfile:1");
        assertThat(d.check()).contains("skip=all");
        assertThat(d.escape()).isEqualTo('`');
        assertThat(d.dump()).isEqualTo("(from \"a\")\n(run \"a  b\")");
        assertThat(d.lexer().escape()).isEqualTo('`');
    }

    @Test
    void directivesEndAtTheFirstOtherLine() {
        assertThat(parse("# comment\n# escape=`\nFROM a").escape()).isEqualTo('\\');
        assertThat(parse("\n# escape=`\nFROM a").escape()).isEqualTo('\\');
        assertThat(parse("# unknown=x\n# escape=`\nFROM a").escape()).isEqualTo('\\');
        assertThat(parse("FROM a\n# escape=`").escape()).isEqualTo('\\');
        assertThat(parse("# escape=`\n\nFROM a").directives()).containsOnlyKeys("escape");
    }

    @Test
    void directiveErrors() {
        assertThatThrownBy(() -> parse("# escape=`\n# Escape=\\\nFROM a"))
                .hasMessage("Dockerfile:2: only one escape parser directive can be used");
        assertThatThrownBy(() -> parse("# escape=x\nFROM a"))
                .hasMessage("Dockerfile:1: invalid escape token 'x' does not match ` or \\");
    }

    @Test
    void backtickEscapeKeepsBackslashesLiteral() {
        Dockerfile d = parse("# escape=`\nFROM windows\nRUN dir C:\\ `\n  /b\nCOPY a\\ C:\\x\\");
        assertThat(d.dump()).isEqualTo("(from \"windows\")\n(run \"dir C:\\\\   /b\")\n(copy \"a\\\\\" \"C:\\\\x\\\\\")");
    }

    @Test
    void heredocs() {
        Dockerfile d = parse("""
                FROM a
                RUN <<EOF
                echo $HOME
                EOF
                RUN 3<<-'QUOTED' python3
                \tprint('x')
                \tQUOTED
                COPY <<FILE1 <<"FILE2" /dest/
                one
                FILE1
                two $X
                FILE2
                RUN ["<<EOF"]
                USER <<NOT
                RUN echo "<<NOHEREDOC"
                RUN <<eo'f' <<e\\'g
                x
                eof
                y
                e'g
                """);
        List<Node> n = d.nodes();
        assertThat(n.get(1).heredocs()).containsExactly(new Heredoc("EOF", 0, true, false, "echo $HOME\n"));
        Heredoc q = n.get(2).heredocs().getFirst();
        assertThat(q).isEqualTo(new Heredoc("QUOTED", 3, false, true, "\tprint('x')\n"));
        assertThat(q.body()).isEqualTo("print('x')\n");
        assertThat(n.get(3).heredocs()).containsExactly(
                new Heredoc("FILE1", 0, true, false, "one\n"),
                new Heredoc("FILE2", 0, false, false, "two $X\n"));
        assertThat(n.get(3).args()).containsExactly("<<FILE1", "<<\"FILE2\"", "/dest/");
        assertThat(n.get(4).heredocs()).as("JSON form has no heredocs").isEmpty();
        assertThat(n.get(5).heredocs()).as("USER takes no heredocs").isEmpty();
        assertThat(n.get(6).heredocs()).as("quoted marker").isEmpty();
        assertThat(n.get(7).heredocs()).containsExactly(
                new Heredoc("eof", 0, false, false, "x\n"),
                new Heredoc("e'g", 0, true, false, "y\n"));
        assertThat(n).extracting(Node::startLine).containsExactly(1, 2, 5, 8, 13, 14, 15, 16);
        assertThat(n.get(3).endLine()).isEqualTo(12);
    }

    @Test
    void heredocMarkers() {
        for (String valid : List.of("<<EOF", "<<'EOF'", "<<\"EOF\"", "<<-EOF", "<<-'EOF'", "<<EO\"F\"", "<< EOF", "<<- EOF")) {
            assertThat(Parser.heredocMarker(valid)).as(valid).hasValueSatisfying(h -> assertThat(h.name()).isEqualTo("EOF"));
        }
        for (String not : List.of("", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh")) {
            assertThat(Parser.heredocMarker(not)).as(not).isEmpty();
        }
        for (String invalid : List.of("<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\"")) {
            assertThatThrownBy(() -> Parser.heredocMarker(invalid)).as(invalid).isInstanceOf(BuildException.class);
        }
    }

    @Test
    void heredocInsideOnbuildAndWithSpacesAndVariables() {
        Dockerfile d = parse("ONBUILD RUN <<EOF\nx\nEOF\nRUN <<  EOF  > foo\nEOF\nRUN <<$EOF\n$EOF\n");
        assertThat(d.nodes().get(0).heredocs()).containsExactly(new Heredoc("EOF", 0, true, false, "x\n"));
        assertThat(d.nodes().get(1).heredocs()).extracting(Heredoc::name).containsExactly("EOF");
        assertThat(d.nodes().get(2).heredocs()).extracting(Heredoc::name).containsExactly("$EOF");
    }

    @Test
    void unterminatedHeredoc() {
        assertThatThrownBy(() -> parse("FROM a\nRUN <<EOF\nline\n"))
                .isInstanceOf(BuildException.class)
                .hasMessage("Dockerfile:2: unterminated heredoc");
    }

    /** Dockerfile text -> the exact error. */
    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("", "Dockerfile:1: file with no instructions"),
                Arguments.of("# only\n\n# comments\n", "Dockerfile:3: file with no instructions"),
                Arguments.of("FROM a\n\nENV PATH", "Dockerfile:3: ENV must have two arguments"),
                Arguments.of("LABEL x", "Dockerfile:1: LABEL must have two arguments"),
                Arguments.of("ENV a=b c", "Dockerfile:1: Syntax error - can't find = in \"c\". Must be of the form: name=value"),
                Arguments.of("FROM a\nCMD [\"a\", [\"b\"]]", "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"),
                Arguments.of("COPY [\"a\", 1]", "Dockerfile:1: when using JSON array syntax, arrays must be comprised of strings only"),
                Arguments.of("FROM a\nRUN x \\\n  && y \\\n  && [1]\nRUN [true]", "Dockerfile:5: when using JSON array syntax, arrays must be comprised of strings only"));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("errors")
    void errors(String dockerfile, String message) {
        assertThatThrownBy(() -> parse(dockerfile)).isInstanceOf(BuildException.class).hasMessage(message);
    }

    @Test
    void errorsNameTheFileAsGiven() {
        assertThatThrownBy(() -> Dockerfile.parse("sub/Dockerfile.dev", "FROM a\n\n\n\n\n\nENV X"))
                .hasMessage("sub/Dockerfile.dev:7: ENV must have two arguments");
    }

    @Test
    void rejectsOverlongLines() {
        String ok = "RUN " + "a".repeat(Parser.MAX_LINE_BYTES - 4);
        assertThat(parse(ok).nodes()).hasSize(1);
        String tooLong = "FROM a\nRUN " + "a".repeat(Parser.MAX_LINE_BYTES - 3) + "\n";
        assertThatThrownBy(() -> parse(tooLong)).hasMessage("Dockerfile:2: dockerfile line greater than max allowed size of 65535");
    }

    @Test
    void malformedUtf8IsReplacedNotFatal() {
        byte[] bytes = "FROM a\nLABEL x=\u0000\n".getBytes(StandardCharsets.UTF_8);
        bytes[bytes.length - 2] = (byte) 0xFF;
        assertThat(Dockerfile.parse("Dockerfile", bytes).dump()).isEqualTo("(from \"a\")\n(label \"x\" \"\uFFFD\" \"=\")");
    }

    @Test
    void dumpQuotesLikeGo() {
        assertThat(GoStrings.quote("a\"b\\c\u0000\u007f\u00a0\u2028é☃\t\u0007")).isEqualTo("\"a\\\"b\\\\c\\x00\\x7f\\u00a0\\u2028é☃\\t\\a\"");
        assertThat(GoStrings.quote("\uD83D\uDE00\uDB40\uDC01")).isEqualTo("\"😀\\U000e0001\"");
        assertThat(GoStrings.quoteList(List.of("a", "b c"))).isEqualTo("[\"a\" \"b c\"]");
    }

    @Test
    void execFormIsStrictJson() {
        assertThat(JsonArray.parse("[]")).isEqualTo(new JsonArray.Strings(List.of()));
        assertThat(JsonArray.parse("\t[\t\"a\",\t\"b\"\t]\t")).isEqualTo(new JsonArray.Strings(List.of("a", "b")));
        assertThat(JsonArray.parse("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000 \\u00E9\"]"))
                .isEqualTo(new JsonArray.Strings(List.of("\" \\ / \b \f \n \r \t \u0000 \u00e9")));
        for (String notStrings : List.of("[\"a\",42,\"b\"]", "[\"a\",123.456,\"b\"]", "[\"a\",{},\"b\"]",
                "[\"a\",{\"c\": \"d\"},\"b\"]", "[\"a\",[\"c\"],\"b\"]", "[\"a\",true,\"b\"]", "[\"a\",false,\"b\"]",
                "[\"a\",null,\"b\"]", "[-0.5e+3]")) {
            assertThat(JsonArray.parse(notStrings)).as(notStrings).isEqualTo(new JsonArray.NotStrings());
        }
        for (String notJson : List.of("", "a", "['a']", "[\"a\"", "[\"a\",]", "[\"a\" \"b\"]", "[\"\\x\"]", "[\"\\u12\"]",
                "[01]", "[1.]", "[.5]", "[tru]", "[\"a\"] x", "[{\"a\"}]", "[\"a\u0001\"]", "{\"a\": 1}")) {
            assertThat(JsonArray.parse(notJson)).as(notJson).isEqualTo(new JsonArray.NotJson());
        }
    }

    @Test
    void readsFilesByPath(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        java.nio.file.Path file = dir.resolve("Dockerfile.dev");
        java.nio.file.Files.writeString(file, "FROM a\nENV X\n");
        assertThatThrownBy(() -> Dockerfile.read(file)).hasMessage(file + ":2: ENV must have two arguments");
        java.nio.file.Files.writeString(file, "FROM a\n");
        assertThat(Dockerfile.read(file).name()).isEqualTo(file.toString());
        assertThatThrownBy(() -> Dockerfile.read(dir.resolve("missing")))
                .isInstanceOf(BuildException.class).hasMessage("cannot read " + dir.resolve("missing") + ": no such file");
    }
}
