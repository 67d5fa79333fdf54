package dev.berth.builder.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.BuildException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class InstructionsTest {
    private static List<Instruction> parse(String text) {
        return Dockerfile.parse("Dockerfile", text).instructions();
    }

    private static Instruction one(String text) {
        List<Instruction> all = parse(text);
        assertThat(all).hasSize(1);
        return all.getFirst();
    }

    private static Location at(int start, int end) {
        return new Location("Dockerfile", start, end);
    }

    @Test
    void from() {
        assertThat(one("FROM alpine:3.20")).isEqualTo(
                new Instruction.From(at(1, 1), "FROM alpine:3.20", "alpine:3.20", Optional.empty(), Optional.empty()));
        assertThat(one("from --platform=$BUILDPLATFORM golang:1.23 as Build")).isEqualTo(new Instruction.From(at(1, 1),
                "from --platform=$BUILDPLATFORM golang:1.23 as Build", "golang:1.23", Optional.of("build"),
                Optional.of("$BUILDPLATFORM")));
    }

    @Test
    void copyWithEveryFlag() {
        Instruction.Copy c = (Instruction.Copy) one(
                "COPY --from=build --chown=app:app --chmod=0755 --link --exclude=*.md --exclude=tmp --parents a b/ /dst/");
        assertThat(c.sources()).containsExactly(new CopySource.PathSource("a"), new CopySource.PathSource("b/"));
        assertThat(c.paths()).containsExactly("a", "b/");
        assertThat(c.destination()).isEqualTo("/dst/");
        assertThat(c.from()).contains("build");
        assertThat(c.chown()).contains("app:app");
        assertThat(c.chmod()).contains("0755");
        assertThat(c.link()).isTrue();
        assertThat(c.excludes()).containsExactly("*.md", "tmp");
        assertThat(c.parents()).isTrue();
        Instruction.Copy plain = (Instruction.Copy) one("COPY [\"my file\", \"/my dir/\"]");
        assertThat(plain.paths()).containsExactly("my file");
        assertThat(plain.from()).isEmpty();
        assertThat(plain.link()).isFalse();
        assertThat(((Instruction.Copy) one("COPY --link=FALSE a b")).link()).isFalse();
    }

    @Test
    void copyHeredocSources() {
        Instruction.Copy c = (Instruction.Copy) one("COPY <<A x <<-'B' /dst/\none $X\nA\n\ttwo\nB\n");
        assertThat(c.sources()).containsExactly(
                new CopySource.HeredocSource("A", "one $X\n", true),
                new CopySource.PathSource("x"),
                new CopySource.HeredocSource("B", "two\n", false));
        assertThat(c.location()).isEqualTo(at(1, 5));
        assertThat(c.text()).isEqualTo("COPY <<A x <<-'B' /dst/");
    }

    @Test
    void add() {
        Instruction.Add a = (Instruction.Add) one(
                "ADD --checksum=sha256:abc --keep-git-dir --unpack=false --chown=1 https://x/y.tgz git@h:r.git /d/");
        assertThat(a.paths()).containsExactly("https://x/y.tgz", "git@h:r.git");
        assertThat(a.checksum()).contains("sha256:abc");
        assertThat(a.keepGitDir()).contains(true);
        assertThat(a.unpack()).contains(false);
        assertThat(a.chown()).contains("1");
        Instruction.Add plain = (Instruction.Add) one("ADD a b");
        assertThat(plain.unpack()).isEmpty();
        assertThat(plain.keepGitDir()).isEmpty();
    }

    @Test
    void run() {
        Instruction.Run r = (Instruction.Run) one(
                "RUN --mount=type=cache,target=/c --mount=type=secret,id=s --network=none --security=insecure make all");
        assertThat(r.command()).isEqualTo(new CommandLine.ShellForm("make all"));
        assertThat(r.mounts()).containsExactly("type=cache,target=/c", "type=secret,id=s");
        assertThat(r.network()).contains("none");
        assertThat(r.security()).contains("insecure");
        Instruction.Run exec = (Instruction.Run) one("RUN [\"ls\", \"-l\"]");
        assertThat(exec.command()).isEqualTo(new CommandLine.Exec(List.of("ls", "-l")));
        assertThat(exec.network()).isEmpty();
        Instruction.Run doc = (Instruction.Run) one("RUN <<EOF\necho hi\nEOF");
        assertThat(doc.heredocs()).containsExactly(new Heredoc("EOF", 0, true, false, "echo hi\n"));
        assertThat(doc.command()).isEqualTo(new CommandLine.ShellForm("<<EOF"));
    }

    @Test
    void commandForms() {
        assertThat(((Instruction.Cmd) one("CMD [\"a\", \"b\"]")).command()).isEqualTo(new CommandLine.Exec(List.of("a", "b")));
        assertThat(((Instruction.Cmd) one("CMD echo $HOME")).command()).isEqualTo(new CommandLine.ShellForm("echo $HOME"));
        assertThat(((Instruction.Cmd) one("CMD")).command()).isEqualTo(new CommandLine.ShellForm(""));
        assertThat(((Instruction.Entrypoint) one("ENTRYPOINT []")).command()).isEqualTo(new CommandLine.Exec(List.of()));
        assertThat(new CommandLine.ShellForm("echo hi").argv(List.of("/bin/sh", "-c"))).containsExactly("/bin/sh", "-c", "echo hi");
        assertThat(new CommandLine.Exec(List.of("a")).argv(List.of("/bin/sh", "-c"))).containsExactly("a");
        assertThat(((Instruction.Shell) one("SHELL [\"bash\", \"-eo\", \"pipefail\", \"-c\"]")).shell())
                .containsExactly("bash", "-eo", "pipefail", "-c");
    }

    @Test
    void keyValues() {
        assertThat(((Instruction.Env) one("ENV A=1 B=\"two words\"")).pairs())
                .containsExactly(new KeyValue("A", "1"), new KeyValue("B", "\"two words\""));
        assertThat(((Instruction.Env) one("ENV A the rest")).pairs()).containsExactly(new KeyValue("A", "the rest"));
        assertThat(((Instruction.Label) one("LABEL a.b=c \"d e\"=f")).pairs())
                .containsExactly(new KeyValue("a.b", "c"), new KeyValue("\"d e\"", "f"));
        assertThat(((Instruction.Arg) one("ARG A B=2 C= D=\"x y\"")).args()).containsExactly(
                new ArgDeclaration("A", Optional.empty()), new ArgDeclaration("B", Optional.of("2")),
                new ArgDeclaration("C", Optional.of("")), new ArgDeclaration("D", Optional.of("\"x y\"")));
    }

    @Test
    void singleValueInstructions() {
        assertThat(one("WORKDIR /app")).isEqualTo(new Instruction.Workdir(at(1, 1), "WORKDIR /app", "/app"));
        assertThat(one("USER 1000:1000")).isEqualTo(new Instruction.User(at(1, 1), "USER 1000:1000", "1000:1000"));
        assertThat(one("STOPSIGNAL SIGINT")).isEqualTo(new Instruction.StopSignal(at(1, 1), "STOPSIGNAL SIGINT", "SIGINT"));
        assertThat(one("MAINTAINER me")).isEqualTo(new Instruction.Maintainer(at(1, 1), "MAINTAINER me", "me"));
        assertThat(((Instruction.Expose) one("EXPOSE 8080 443/tcp 80")).ports()).containsExactly("443/tcp", "80", "8080");
        assertThat(((Instruction.Volume) one("VOLUME [\"/a\", \" /b \"]")).paths()).containsExactly("/a", "/b");
        assertThat(((Instruction.Volume) one("VOLUME /a /b")).paths()).containsExactly("/a", "/b");
    }

    @Test
    void healthcheck() {
        Instruction.Healthcheck h = (Instruction.Healthcheck) one(
                "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0s --start-interval=1.5s --retries=3 \\\n  CMD curl -f http://localhost/");
        assertThat(h.interval()).contains(Duration.ofSeconds(90));
        assertThat(h.timeout()).contains(Duration.ofMillis(500));
        assertThat(h.startPeriod()).as("zero means unset").isEmpty();
        assertThat(h.startInterval()).contains(Duration.ofMillis(1500));
        assertThat(h.retries()).isEqualTo(OptionalInt.of(3));
        assertThat(h.test()).containsExactly("CMD-SHELL", "curl -f http://localhost/");
        assertThat(h.location()).isEqualTo(at(1, 2));
        assertThat(((Instruction.Healthcheck) one("HEALTHCHECK CMD [\"/check\", \"-q\"]")).test()).containsExactly("CMD", "/check", "-q");
        Instruction.Healthcheck none = (Instruction.Healthcheck) one("healthcheck none");
        assertThat(none.command()).isEmpty();
        assertThat(none.test()).containsExactly("NONE");
    }

    @Test
    void onbuild() {
        Instruction.Onbuild o = (Instruction.Onbuild) one("ONBUILD   RUN echo \"$HOME\"");
        assertThat(o.expression()).isEqualTo("RUN echo \"$HOME\"");
        Location child = new Location("Dockerfile", 7, 7);
        assertThat(o.trigger(child)).isEqualTo(new Instruction.Run(child, "RUN echo \"$HOME\"",
                new CommandLine.ShellForm("echo \"$HOME\""), List.of(), List.of(), Optional.empty(), Optional.empty(), List.of()));
        Instruction.Onbuild doc = (Instruction.Onbuild) one("onbuild COPY <<EOF /x\nhello\nEOF\n");
        assertThat(doc.expression()).isEqualTo("COPY <<EOF /x\nhello\nEOF");
        Instruction fired = doc.trigger(child);
        assertThat(fired).isInstanceOf(Instruction.Copy.class);
        assertThat(((Instruction.Copy) fired).sources()).containsExactly(new CopySource.HeredocSource("EOF", "hello\n", true));
        assertThat(Dockerfile.parseTrigger("COPY --from=build /app /app", child)).isInstanceOf(Instruction.Copy.class);
        assertThatThrownBy(() -> new Instruction.Onbuild(child, "ONBUILD FOO x", "FOO x").trigger(child))
                .hasMessage("Dockerfile:7: unknown instruction: FOO (did you mean FROM?)");
        assertThatThrownBy(() -> Dockerfile.parseTrigger("ENV X", child))
                .hasMessage("Dockerfile:7: ONBUILD trigger \"ENV X\": ENV must have two arguments");
        assertThatThrownBy(() -> Dockerfile.parseTrigger("RUN a\nRUN b", child))
                .hasMessage("Dockerfile:7: onbuild trigger should be a single expression");
    }

    @Test
    void keywordsAndTextOfEveryKind() {
        List<Instruction> all = parse("""
                ARG V=1
                FROM a AS b
                RUN x
                CMD x
                ENTRYPOINT x
                SHELL ["sh", "-c"]
                COPY a b
                ADD a b
                ENV A=1
                LABEL a=1
                WORKDIR /
                USER u
                EXPOSE 1
                VOLUME /v
                STOPSIGNAL 9
                HEALTHCHECK NONE
                ONBUILD RUN x
                MAINTAINER m
                """);
        assertThat(all).extracting(Instruction::keyword).containsExactly("ARG", "FROM", "RUN", "CMD", "ENTRYPOINT",
                "SHELL", "COPY", "ADD", "ENV", "LABEL", "WORKDIR", "USER", "EXPOSE", "VOLUME", "STOPSIGNAL",
                "HEALTHCHECK", "ONBUILD", "MAINTAINER");
        assertThat(all).extracting(i -> i.location().startLine()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                13, 14, 15, 16, 17, 18);
        assertThat(all.get(1).text()).isEqualTo("FROM a AS b");
    }

    /** Dockerfile -> the exact error. */
    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("FROM", "Dockerfile:1: FROM requires either one or three arguments"),
                Arguments.of("FROM a b", "Dockerfile:1: FROM requires either one or three arguments"),
                Arguments.of("FROM a AS 1st", "Dockerfile:1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols"),
                Arguments.of("FROM a AS b$c", "Dockerfile:1: invalid name for build stage: \"b$c\", name can't start with a number or contain symbols"),
                Arguments.of("FROM --platfrom=linux/arm64 a", "Dockerfile:1: unknown flag: --platfrom (did you mean --platform?)"),
                Arguments.of("COPY a", "Dockerfile:1: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
                Arguments.of("COPY\t\n\t\tquux \\\n      bar", "Dockerfile:1: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
                Arguments.of("ADD a", "Dockerfile:1: ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
                Arguments.of("COPY /foo <<EOF\nEOF", "Dockerfile:1: COPY cannot accept a heredoc as a destination"),
                Arguments.of("COPY --boo a b", "Dockerfile:1: unknown flag: --boo"),
                Arguments.of("COPY --chown a b", "Dockerfile:1: missing a value on flag: --chown"),
                Arguments.of("COPY --from=a --from=b a b", "Dockerfile:1: duplicate flag specified: --from"),
                Arguments.of("COPY --link= a b", "Dockerfile:1: missing a value on flag: --link"),
                Arguments.of("COPY --link=maybe a b", "Dockerfile:1: expecting boolean value for flag --link, not: maybe"),
                Arguments.of("COPY --exclude a b", "Dockerfile:1: missing a value on flag: --exclude"),
                Arguments.of("ADD --from=x a b", "Dockerfile:1: unknown flag: --from"),
                Arguments.of("COPY --checksum=x a b", "Dockerfile:1: unknown flag: --checksum"),
                Arguments.of("RUN --network=bridge x", "Dockerfile:1: invalid network mode \"bridge\""),
                Arguments.of("RUN --security=root x", "Dockerfile:1: security \"root\" is not valid"),
                Arguments.of("RUN --mount x", "Dockerfile:1: missing a value on flag: --mount"),
                Arguments.of("CMD --x=1 y", "Dockerfile:1: unknown flag: --x"),
                Arguments.of("SHELL", "Dockerfile:1: SHELL requires at least one argument"),
                Arguments.of("SHELL []", "Dockerfile:1: SHELL requires at least one argument"),
                Arguments.of("SHELL bash -c", "Dockerfile:1: SHELL requires the arguments to be in JSON form"),
                Arguments.of("ENV", "Dockerfile:1: ENV requires at least one argument"),
                Arguments.of("ENV =x", "Dockerfile:1: ENV names can not be blank"),
                Arguments.of("LABEL", "Dockerfile:1: LABEL requires at least one argument"),
                Arguments.of("LABEL =x", "Dockerfile:1: LABEL names can not be blank"),
                Arguments.of("ARG", "Dockerfile:1: ARG requires at least one argument"),
                Arguments.of("ARG =x", "Dockerfile:1: ARG names can not be blank"),
                Arguments.of("ARG --x A", "Dockerfile:1: unknown flag: --x"),
                Arguments.of("MAINTAINER", "Dockerfile:1: MAINTAINER requires exactly one argument"),
                Arguments.of("WORKDIR", "Dockerfile:1: WORKDIR requires exactly one argument"),
                Arguments.of("USER", "Dockerfile:1: USER requires exactly one argument"),
                Arguments.of("STOPSIGNAL", "Dockerfile:1: STOPSIGNAL requires exactly one argument"),
                Arguments.of("MAINTAINER --boo joe@example.com", "Dockerfile:1: unknown flag: --boo"),
                Arguments.of("WORKDIR --x=1 /a", "Dockerfile:1: unknown flag: --x"),
                Arguments.of("EXPOSE", "Dockerfile:1: EXPOSE requires at least one argument"),
                Arguments.of("VOLUME", "Dockerfile:1: VOLUME requires at least one argument"),
                Arguments.of("VOLUME [\"\"]", "Dockerfile:1: VOLUME specified can not be an empty string"),
                Arguments.of("HEALTHCHECK", "Dockerfile:1: HEALTHCHECK requires at least one argument"),
                Arguments.of("HEALTHCHECK NONE x", "Dockerfile:1: HEALTHCHECK NONE takes no arguments"),
                Arguments.of("HEALTHCHECK CMD", "Dockerfile:1: Missing command after HEALTHCHECK CMD"),
                Arguments.of("HEALTHCHECK CONNECT TCP 7000", "Dockerfile:1: Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)"),
                Arguments.of("HEALTHCHECK --interval=50ns CMD x", "Dockerfile:1: Interval \"interval\" cannot be less than 1ms"),
                Arguments.of("HEALTHCHECK --timeout=-1s CMD x", "Dockerfile:1: Interval \"timeout\" cannot be less than 1ms"),
                Arguments.of("HEALTHCHECK --interval=5 CMD x", "Dockerfile:1: --interval: time: missing unit in duration \"5\""),
                Arguments.of("HEALTHCHECK --interval=5d CMD x", "Dockerfile:1: --interval: time: unknown unit \"d\" in duration \"5d\""),
                Arguments.of("HEALTHCHECK --retries=-1 CMD x", "Dockerfile:1: --retries cannot be negative (-1)"),
                Arguments.of("HEALTHCHECK --retries=x CMD x", "Dockerfile:1: invalid --retries value \"x\": not a number"),
                Arguments.of("ONBUILD", "Dockerfile:1: ONBUILD requires at least one argument"),
                Arguments.of("ONBUILD ONBUILD RUN touch foobar", "Dockerfile:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
                Arguments.of("ONBUILD FROM scratch", "Dockerfile:1: FROM isn't allowed as an ONBUILD trigger"),
                Arguments.of("ONBUILD maintainer me", "Dockerfile:1: MAINTAINER isn't allowed as an ONBUILD trigger"),
                Arguments.of("FOO bar", "Dockerfile:1: unknown instruction: FOO (did you mean FROM?)"),
                Arguments.of("copyy a b", "Dockerfile:1: unknown instruction: copyy (did you mean copy?)"),
                Arguments.of("Frobnicate x", "Dockerfile:1: unknown instruction: Frobnicate"),
                Arguments.of("FROM a\nRUN x \\\n y\nENV A=1 \\\n  B", "Dockerfile:4: Syntax error - can't find = in \"B\". Must be of the form: name=value"));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("errors")
    void errors(String dockerfile, String message) {
        assertThatThrownBy(() -> parse(dockerfile)).isInstanceOf(BuildException.class).hasMessage(message);
    }

    @Test
    void durationsParseLikeGo() {
        assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("1h2m3.5s")).isEqualTo(Duration.ofSeconds(3723, 500_000_000));
        assertThat(GoDuration.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDuration.parse(".5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(GoDuration.parse("1µs")).isEqualTo(Duration.ofNanos(1000));
        assertThat(GoDuration.parse("1μs1us1ns")).isEqualTo(Duration.ofNanos(2001));
        assertThat(GoDuration.parse("-2m")).isEqualTo(Duration.ofMinutes(-2));
        assertThat(GoDuration.parse("+300ms")).isEqualTo(Duration.ofMillis(300));
        assertThat(GoDuration.parse("9223372036854775807ns")).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
        for (String bad : List.of("", "-", "s", ".s", "1", "1x", "1.2.3s", "9223372036854775808ns", "3000000h", "1e3s")) {
            assertThatThrownBy(() -> GoDuration.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("time: ");
        }
    }

    @Test
    void stopSignalsLikeDocker() {
        for (String ok : List.of("SIGTERM", "term", "9", "SIGRTMIN+3", "RTMAX-1", "sigusr1")) {
            assertThat(Signals.isValid(ok)).as(ok).isTrue();
        }
        for (String bad : List.of("0", "SIGFOO", "", "RTMIN+16", "TERM ")) {
            assertThat(Signals.isValid(bad)).as(bad).isFalse();
        }
    }

    @Test
    void suggestions() {
        assertThat(Suggest.closest("COPPY", Instructions.NAMES, false)).contains("COPY");
        assertThat(Suggest.closest("Wrkdir", Instructions.NAMES, false)).contains("workdir");
        assertThat(Suggest.closest("COPY", Instructions.NAMES, false)).isEmpty();
        assertThat(Suggest.closest("xyzzy", Instructions.NAMES, false)).isEmpty();
        assertThat(Suggest.distance("kitten", "sitting")).isEqualTo(3);
    }
}
