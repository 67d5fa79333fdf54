package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.builder.dockerfile.Environment;
import dev.berth.builder.dockerfile.Expander;
import dev.berth.builder.dockerfile.ShellLexer;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code RUN --mount} values read as BuildKit reads them: defaults, expansion, errors. */
class RunMountTest {
    private static final Expander ENV = new Expander(new ShellLexer('\\'),
            Environment.of(Map.of("CACHE", "go-build", "DIR", "/root/.cache")));

    private static RunMount parse(String value) {
        return RunMount.parse(value, ENV, "/work", 0);
    }

    @Test
    void bindDefaultsToTheContextReadOnlyWithATargetRelativeToWorkdir() {
        assertThat(parse("target=src")).isEqualTo(new RunMount.Bind("/work/src", Optional.empty(), "/", false));
        assertThat(parse("type=bind,source=go.mod,target=/go.mod,rw"))
                .isEqualTo(new RunMount.Bind("/go.mod", Optional.empty(), "/go.mod", true));
        assertThat(parse("type=bind,from=build,src=/out,dst=/in,readwrite=true"))
                .isEqualTo(new RunMount.Bind("/in", Optional.of("build"), "/out", true));
    }

    @Test
    void cacheIsWritableAndNamedByItsTargetUnlessGivenAnId() {
        assertThat(parse("type=cache,target=$DIR")).isEqualTo(new RunMount.Cache("/root/.cache", "/root/.cache",
                RunMount.Sharing.SHARED, Optional.empty(), "/", 0755, 0, 0, false));
        assertThat(parse("type=cache,id=$CACHE,target=/c,sharing=LOCKED,mode=0700,uid=1000,gid=100,ro"))
                .isEqualTo(new RunMount.Cache("/c", "go-build", RunMount.Sharing.LOCKED, Optional.empty(), "/",
                        0700, 1000, 100, true));
        assertThat(parse("type=cache,target=rel")).extracting(RunMount::target).isEqualTo("/work/rel");
        assertThat(((RunMount.Cache) parse("type=cache,target=rel")).id()).as("the id is the target as written")
                .isEqualTo("rel");
    }

    @Test
    void tmpfsTakesASize() {
        assertThat(parse("type=tmpfs,target=/t,size=64m")).isEqualTo(new RunMount.Tmpfs("/t", OptionalLong.of(64L << 20)));
        assertThat(parse("type=tmpfs,target=/t")).isEqualTo(new RunMount.Tmpfs("/t", OptionalLong.empty()));
    }

    @Test
    void secretsDefaultToRunSecretsAndMode0400() {
        assertThat(parse("type=secret,id=tok")).isEqualTo(new RunMount.Secret("tok", "/run/secrets/tok",
                Optional.empty(), false, 0400, 0, 0));
        assertThat(parse("type=secret,id=tok,env=TOKEN")).as("a variable only: no file")
                .isEqualTo(new RunMount.Secret("tok", "", Optional.of("TOKEN"), false, 0400, 0, 0));
        assertThat(parse("type=secret,id=tok,env=TOKEN,target=/t,required,mode=0440,uid=1,gid=2"))
                .isEqualTo(new RunMount.Secret("tok", "/t", Optional.of("TOKEN"), true, 0440, 1, 2));
        assertThat(parse("type=secret,target=/etc/pw")).as("the id defaults to the target's name")
                .isEqualTo(new RunMount.Secret("pw", "/etc/pw", Optional.empty(), false, 0400, 0, 0));
        assertThat(parse("type=secret,source=aws")).isEqualTo(new RunMount.Secret("aws", "/run/secrets/aws",
                Optional.empty(), false, 0400, 0, 0));
    }

    @Test
    void sshDefaultsToTheDefaultAgentAndANumberedSocket() {
        assertThat(RunMount.parse("type=ssh", ENV, "/", 2))
                .isEqualTo(new RunMount.Ssh("default", "/run/buildkit/ssh_agent.2", false, 0600, 0, 0));
        assertThat(parse("type=ssh,id=gh,target=/agent,required=true"))
                .isEqualTo(new RunMount.Ssh("gh", "/agent", true, 0600, 0, 0));
    }

    @Test
    void quotedFieldsKeepTheirCommas() {
        assertThat(parse("type=bind,\"source=a,b\",target=/x"))
                .isEqualTo(new RunMount.Bind("/x", Optional.empty(), "/a,b", false));
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("type=volume,target=/x", "unsupported mount type \"volume\" (bind, cache, tmpfs, secret or ssh)"),
                Arguments.of("target=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
                Arguments.of("target=/x,exec", "invalid field 'exec' must be a key=value pair"),
                Arguments.of("type=bind,target=/x,size=1m", "unexpected key 'size' for mount type 'bind'"),
                Arguments.of("required,type=secret,id=x", "unexpected key 'required' for mount type 'bind'"),
                Arguments.of("type=bind,target=/x,mode=0755", "mode not allowed for \"bind\" type mounts"),
                Arguments.of("type=tmpfs,target=/x,uid=1", "uid not allowed for \"tmpfs\" type mounts"),
                Arguments.of("type=cache,target=/x,sharing=sometimes", "unsupported sharing value \"sometimes\" (shared, private or locked)"),
                Arguments.of("type=bind,target=/x,sharing=shared", "invalid cache sharing set for bind mount"),
                Arguments.of("type=secret,id=a,from=b", "secret mount should not have a from"),
                Arguments.of("type=secret", "invalid secret mount. one of source, target required"),
                Arguments.of("type=secret,id=a,source=b", "both source and id can't be set"),
                Arguments.of("type=ssh,source=x", "ssh does not support source"),
                Arguments.of("type=bind,target=/", "invalid mount target \"/\""),
                Arguments.of("type=cache,target=/x,mode=9", "invalid value 9 for mode"),
                Arguments.of("type=bind,target=/x,ro=maybe", "invalid value for ro: maybe"),
                Arguments.of("type=bind,from=$STAGE,target=/x", "'from' doesn't support variable expansion, define alias stage instead"),
                Arguments.of("type=bind,\"target=/x", "failed to parse csv mounts: extraneous or missing \" in quoted field: type=bind,\"target=/x"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void badMountsAreBuildKitsErrors(String value, String message) {
        assertThatThrownBy(() -> parse(value)).isInstanceOf(BuildException.class).hasMessage(message);
    }
}
