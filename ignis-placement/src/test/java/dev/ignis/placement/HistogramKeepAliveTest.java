package dev.ignis.placement;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HistogramKeepAliveTest {
    final HistogramKeepAlive policy = new HistogramKeepAlive(Duration.ofMinutes(10));

    @Test
    void aFunctionSeenTooLittleKeepsTheDefault() {
        for (int i = 0; i < 9; i++) {
            policy.observeIdle("f", Duration.ofSeconds(30));
        }
        assertThat(policy.keepAlive("f")).isEqualTo(Duration.ofMinutes(10));
        assertThat(policy.keepAlive("never-seen")).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void theWindowCoversThe99thPercentileOfGapsPlusTenPercent() {
        for (int i = 0; i < 99; i++) {
            policy.observeIdle("f", Duration.ofSeconds(30)); // minute bin 0
        }
        policy.observeIdle("f", Duration.ofMinutes(3).plusSeconds(5)); // bin 3: the 100th sample, beyond p99
        assertThat(policy.keepAlive("f")).isEqualTo(Duration.ofSeconds(66)); // (0 + 1) min × 1.1
        for (int i = 0; i < 10; i++) {
            policy.observeIdle("f", Duration.ofMinutes(3).plusSeconds(5));
        }
        assertThat(policy.keepAlive("f")).isEqualTo(Duration.ofSeconds(264)); // (3 + 1) min × 1.1
    }

    @Test
    void gapsMostlyBeyondFourHoursFallBackToTheDefault() {
        for (int i = 0; i < 20; i++) {
            policy.observeIdle("f", Duration.ofHours(5));
        }
        for (int i = 0; i < 5; i++) {
            policy.observeIdle("f", Duration.ofMinutes(1));
        }
        assertThat(policy.keepAlive("f")).isEqualTo(Duration.ofMinutes(10));
    }
}
