package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

/** Berth.BY_NAME, the table berth finds a verb in without reading annotations, says what they say. */
class VerbTableTest {
    @Test
    void nameTableMatchesTheCommandAnnotations() {
        Map<String, Class<?>> fromAnnotations = new HashMap<>();
        for (Class<?> verb : Berth.VERBS) {
            Command c = verb.getAnnotation(Command.class);
            fromAnnotations.put(c.name(), verb);
            for (String alias : List.of(c.aliases())) {
                fromAnnotations.put(alias, verb);
            }
        }
        assertThat(Berth.BY_NAME).isEqualTo(fromAnnotations);
    }
}
