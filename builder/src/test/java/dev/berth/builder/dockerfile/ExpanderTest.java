package dev.berth.builder.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExpanderTest {
    private static final Environment ENV = Environment.of(Map.of(
            "APP", "/srv/app", "USER", "app", "PORTS", "80 443/tcp", "SIG", "TERM", "MODE", "0644", "EMPTY", "",
            "NAME", "my image"));

    @SuppressWarnings("unchecked")
    private static <I extends Instruction.Expandable> Expanded<I> expand(String text) {
        Dockerfile d = Dockerfile.parse("Dockerfile", "FROM a\n" + text);
        I i = (I) d.instructions().getLast();
        return Expander.expand(i, d.lexer(), ENV);
    }

    @Test
    void copyExpandsSourcesDestinationOwnerAndMode() {
        Expanded<Instruction.Copy> e = expand("COPY --from=$X --chown=$USER:$USER --chmod=$MODE --exclude=$APP src/$NAME $APP/");
        Instruction.Copy c = e.instruction();
        assertThat(c.paths()).containsExactly("src/my image");
        assertThat(c.destination()).isEqualTo("/srv/app/");
        assertThat(c.chown()).contains("app:app");
        assertThat(c.chmod()).contains("0644");
        assertThat(c.from()).as("--from is never expanded").contains("$X");
        assertThat(c.excludes()).as("--exclude is not expanded").containsExactly("$APP");
        assertThat(e.referenced()).containsExactlyInAnyOrder("USER", "MODE", "NAME", "APP");
        assertThat(e.undefined()).isEmpty();
        assertThat(c.location()).isEqualTo(Location.line("Dockerfile", 2));
    }

    @Test
    void copyHeredocsExpandUnlessQuoted() {
        Expanded<Instruction.Copy> e = expand("COPY <<A <<'B' /dst/\n\"$USER\" \\$APP\nA\n$USER\nB\n");
        assertThat(e.instruction().sources()).containsExactly(
                new CopySource.HeredocSource("A", "\"app\" $APP\n", true),
                new CopySource.HeredocSource("B", "$USER\n", false));
    }

    @Test
    void addExpandsChecksumToo() {
        Instruction.Add a = ExpanderTest.<Instruction.Add>expand("ADD --checksum=$SIG https://x/$NAME.tgz /").instruction();
        assertThat(a.checksum()).contains("TERM");
        assertThat(a.paths()).containsExactly("https://x/my image.tgz");
    }

    @Test
    void envAndLabelExpandKeysAndValuesAndDropQuotes() {
        Instruction.Env env = ExpanderTest.<Instruction.Env>expand(
                "ENV HOME=$APP MY_DOG=Rex\\ The\\ Dog \"${USER}_X\"='$NOT' OLD=\"$EMPTY\"").instruction();
        assertThat(env.pairs()).containsExactly(new KeyValue("HOME", "/srv/app"), new KeyValue("MY_DOG", "Rex The Dog"),
                new KeyValue("app_X", "$NOT"), new KeyValue("OLD", ""));
        Instruction.Env legacy = ExpanderTest.<Instruction.Env>expand("ENV PATHS $APP:/bin \"quoted\"").instruction();
        assertThat(legacy.pairs()).containsExactly(new KeyValue("PATHS", "/srv/app:/bin quoted"));
        Instruction.Label label = ExpanderTest.<Instruction.Label>expand("LABEL org.opencontainers.image.title=\"$NAME\"").instruction();
        assertThat(label.pairs()).containsExactly(new KeyValue("org.opencontainers.image.title", "my image"));
    }

    @Test
    void singleWordInstructions() {
        assertThat(ExpanderTest.<Instruction.Workdir>expand("WORKDIR $APP/${SUB:-www}").instruction().path()).isEqualTo("/srv/app/www");
        assertThat(ExpanderTest.<Instruction.User>expand("USER ${USER}:${GROUP:-staff}").instruction().user()).isEqualTo("app:staff");
        assertThat(ExpanderTest.<Instruction.StopSignal>expand("STOPSIGNAL SIG$SIG").instruction().signal()).isEqualTo("SIGTERM");
        assertThat(ExpanderTest.<Instruction.Volume>expand("VOLUME [\"$APP/data\", \"/logs\"]").instruction().paths())
                .containsExactly("/srv/app/data", "/logs");
    }

    @Test
    void exposeSplitsExpandedValues() {
        Expanded<Instruction.Expose> e = expand("EXPOSE $PORTS 8080 ${MORE:-9090/udp}");
        // Sorted as written (as buildkit does), then expanded.
        assertThat(e.instruction().ports()).containsExactly("80", "443/tcp", "9090/udp", "8080");
        assertThat(e.undefined()).containsExactly("MORE");
    }

    @Test
    void expansionErrorsAreLocated() {
        assertThatThrownBy(() -> expand("WORKDIR ${APP"))
                .hasMessage("Dockerfile:2: failed to process \"${APP\": syntax error: missing '}'");
        assertThatThrownBy(() -> expand("VOLUME $EMPTY"))
                .hasMessage("Dockerfile:2: VOLUME specified can not be an empty string");
        assertThatThrownBy(() -> expand("STOPSIGNAL $NOPE"))
                .hasMessage("Dockerfile:2: Invalid signal: ");
        assertThatThrownBy(() -> expand("USER ${REQUIRED:?set it}"))
                .hasMessage("Dockerfile:2: failed to process \"${REQUIRED:?set it}\": REQUIRED: set it");
    }

    @Test
    void backtickFilesExpandWithTheirEscape() {
        Dockerfile d = Dockerfile.parse("Dockerfile", "# escape=`\nFROM a\nWORKDIR C:\\$USER\\`$HOME");
        Instruction.Workdir w = (Instruction.Workdir) d.instructions().getLast();
        assertThat(Expander.expand(w, d.lexer(), ENV).instruction().path()).isEqualTo("C:\\app\\$HOME");
    }

    @Test
    void onbuildTriggersExpandWhenTheyFire() {
        Dockerfile d = Dockerfile.parse("Dockerfile", "FROM a\nONBUILD COPY $APP /dst");
        Instruction.Onbuild o = (Instruction.Onbuild) d.instructions().getLast();
        assertThat(o.expression()).as("stored raw for the image config").isEqualTo("COPY $APP /dst");
        Instruction.Copy fired = (Instruction.Copy) o.trigger(Location.line("Child.Dockerfile", 1));
        assertThat(Expander.expand(fired, d.lexer(), ENV).instruction().paths()).containsExactly("/srv/app");
    }

    @Test
    void expanderRecordsWhatItRead() {
        Expander x = new Expander(new ShellLexer('\\'), ENV);
        assertThat(x.word("$USER-${NOPE}")).isEqualTo("app-");
        assertThat(x.words("$PORTS")).containsExactly("80", "443/tcp");
        // Quotes stay, but escapes are still processed, as buildkit does for heredoc bodies.
        assertThat(x.heredoc("'$USER' \"$APP\" \\$HOME \\n")).isEqualTo("'app' \"/srv/app\" $HOME n");
        assertThat(x.referenced()).containsExactlyInAnyOrder("USER", "PORTS", "APP");
        assertThat(x.undefined()).containsExactly("NOPE");
    }
}
