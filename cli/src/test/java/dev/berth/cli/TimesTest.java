package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@code --since} as docker takes it. */
class TimesTest {
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    @Test
    void rfc3339UnixSecondsAndDurations() {
        assertThat(Times.parseSince("2026-01-02T15:04:05Z", NOW)).isEqualTo(Instant.parse("2026-01-02T15:04:05Z"));
        assertThat(Times.parseSince("2026-01-02T15:04:05.5+01:00", NOW)).isEqualTo(Instant.parse("2026-01-02T14:04:05.5Z"));
        assertThat(Times.parseSince("1700000000", NOW)).isEqualTo(Instant.ofEpochSecond(1700000000));
        assertThat(Times.parseSince("1700000000.25", NOW)).isEqualTo(Instant.ofEpochSecond(1700000000, 250_000_000));
        assertThat(Times.parseSince("10m", NOW)).isEqualTo(NOW.minusSeconds(600));
        assertThat(Times.parseSince("1h30m", NOW)).isEqualTo(NOW.minusSeconds(5400));
        assertThat(Times.parseSince("1.5s", NOW)).isEqualTo(NOW.minusMillis(1500));
        assertThatThrownBy(() -> Times.parseSince("yesterday", NOW)).hasMessageStartingWith("invalid --since \"yesterday\"");
        assertThatThrownBy(() -> Times.parseSince("10x", NOW)).hasMessageStartingWith("invalid --since \"10x\"");
    }
}
