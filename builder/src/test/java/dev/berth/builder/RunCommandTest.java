package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.builder.dockerfile.BuildArgs;
import dev.berth.builder.dockerfile.Dockerfile;
import dev.berth.builder.dockerfile.Environment;
import dev.berth.builder.dockerfile.Heredoc;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.StageScope;
import dev.berth.layers.Platform;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The process a RUN runs and the history entry it gets, as BuildKit's {@code dispatchRun} makes them. */
class RunCommandTest {
    private static final List<String> SH = List.of("/bin/sh", "-c");

    private static Instruction.Run run(String text) {
        return (Instruction.Run) Dockerfile.parse("Dockerfile", "FROM scratch\n" + text).instructions().get(1);
    }

    @Test
    void shellAndExecForms() {
        assertThat(RunStep.command(run("RUN echo $HOME"), SH).args()).containsExactly("/bin/sh", "-c", "echo $HOME");
        assertThat(RunStep.command(run("RUN [\"/bin/echo\", \"a b\"]"), SH).args()).containsExactly("/bin/echo", "a b");
        assertThat(RunStep.command(run("RUN echo a \\\n  b"), List.of("/bin/bash", "-eux", "-c")).args())
                .containsExactly("/bin/bash", "-eux", "-c", "echo a   b");
    }

    @Test
    void aHeredocThatIsTheWholeCommandIsTheScript() {
        RunStep.Command c = RunStep.command(run("RUN <<EOF\necho one\necho two\nEOF"), SH);
        assertThat(c.args()).containsExactly("/bin/sh", "-c", "echo one\necho two\n");
        assertThat(c.script()).isEmpty();
        RunStep.Command chomped = RunStep.command(run("RUN <<-EOF\n\techo tab\n\tEOF"), SH);
        assertThat(chomped.args()).containsExactly("/bin/sh", "-c", "echo tab\n");
    }

    @Test
    void aHeredocWithAShebangRunsAsAFile() {
        RunStep.Command c = RunStep.command(run("RUN <<SCRIPT\n#!/usr/bin/env python3\nprint(1)\nSCRIPT"), SH);
        assertThat(c.args()).containsExactly("/bin/sh", "-c", "/dev/pipes/SCRIPT");
        assertThat(c.script()).map(Heredoc::body).contains("#!/usr/bin/env python3\nprint(1)\n");
    }

    @Test
    void otherHeredocsFollowTheCommandForTheShell() {
        RunStep.Command c = RunStep.command(run("RUN python3 <<EOF > /out\nprint(1)\nEOF"), SH);
        assertThat(c.args()).containsExactly("/bin/sh", "-c", "python3 <<EOF > /out\nprint(1)\nEOF");
        RunStep.Command two = RunStep.command(run("RUN cat <<A - <<-B\na\nA\n\tb\n\tB"), SH);
        assertThat(two.args().get(2)).as("bodies as written: the shell removes the tabs of <<-")
                .isEqualTo("cat <<A - <<-B\na\nA\n\tb\nB");
    }

    @Test
    void historyListsTheArgsInScopeWithTheValuesTheCommandSees() {
        Instruction.Run r = run("RUN make");
        StageState s = new StageState(null);
        s.scope = StageScope.start(Environment.empty(), new BuildArgs(Map.of("B", "given"), Platform.host(),
                Platform.host()), Environment.empty(), Dockerfile.parse("Dockerfile", "FROM scratch").lexer());
        assertThat(RunStep.createdBy(RunStep.command(r, SH).args(), s)).isEqualTo("RUN /bin/sh -c make");
        Dockerfile df = Dockerfile.parse("Dockerfile", "FROM scratch\nARG A=1 B C\nENV A=from-env\n");
        s.scope = s.scope.declare((Instruction.Arg) df.instructions().get(1));
        s.scope = s.scope.setEnv(((Instruction.Env) df.instructions().get(2)).pairs());
        assertThat(RunStep.createdBy(RunStep.command(r, SH).args(), s))
                .isEqualTo("RUN |3 A=from-env B=given C= /bin/sh -c make");
        assertThat(s.scope.declaredArgs()).containsEntry("C", Optional.empty());
    }
}
