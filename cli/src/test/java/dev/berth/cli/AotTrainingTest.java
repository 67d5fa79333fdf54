package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

/**
 * The launcher's training run must go through every step it trains (a failed step would cache the error
 * path instead): as root, runs of real containers, a kept one listed and removed; and push, re-push,
 * pull, no-op pull and tags against the in-process training registry. The training throws when one of
 * these fails.
 */
class AotTrainingTest {
    @Test
    void everyTrainedCommandSucceeds() {
        assertThatCode(() -> AotTraining.trainAll(new String[0])).doesNotThrowAnyException();
        assertThat(System.getProperty("berth.home")).isNull();
    }
}
