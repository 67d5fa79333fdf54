package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.ContainerConfig;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Signals as docker reads them in STOPSIGNAL and kill -s. */
class SignalNamesTest {
    @Test
    void namesNumbersAndRealTimeSignals() {
        assertThat(SignalNames.parse("SIGTERM")).isEqualTo(15);
        assertThat(SignalNames.parse("term")).isEqualTo(15);
        assertThat(SignalNames.parse("9")).isEqualTo(9);
        assertThat(SignalNames.parse("SIGUSR1")).isEqualTo(10);
        assertThat(SignalNames.parse("SIGWINCH")).isEqualTo(28);
        assertThat(SignalNames.parse("SIGRTMIN+3")).isEqualTo(37);
        assertThat(SignalNames.parse("RTMAX-1")).isEqualTo(63);
        assertThat(SignalNames.parse("SIGIOT")).isEqualTo(6);
        assertThat(SignalNames.name(15)).isEqualTo("SIGTERM");
        for (String bad : new String[] {"NOPE", "0", "65", "SIGRTMIN+40", ""}) {
            assertThatThrownBy(() -> SignalNames.parse(bad)).as(bad).hasMessage("invalid signal \"" + bad + "\"");
        }
    }

    @Test
    void theImagesStopSignalElseSigterm() {
        ContainerConfig.Builder b = ContainerConfig.EMPTY.toBuilder();
        assertThat(SignalNames.stopSignal(b.build())).isEqualTo(15);
        b.stopSignal = Optional.of("SIGQUIT");
        assertThat(SignalNames.stopSignal(b.build())).isEqualTo(3);
        b.stopSignal = Optional.of("SIGBOGUS");
        assertThat(SignalNames.stopSignal(b.build())).as("as docker, an invalid one falls back").isEqualTo(15);
    }
}
