package dev.ignis.worker.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogTimeTest {
    @Test
    void formatsIsoInstantsWithMicrosecondsThatParseBack() {
        SplittableRandom r = new SplittableRandom(42);
        Instant t = Instant.parse("2026-11-28T07:07:15Z");
        for (int i = 0; i < 20_000; i++) {
            // mostly small steps (the per-second cache), sometimes across days and years
            t = t.plusNanos(i % 100 == 0 ? r.nextLong(400L * 24 * 3600 * 1_000_000_000L) : r.nextLong(50_000_000L));
            String s = LogTime.appendIso(new StringBuilder(), t).toString();
            assertThat(Instant.parse(s)).isEqualTo(t.truncatedTo(ChronoUnit.MICROS));
            assertThat(s).hasSize(27).startsWith(t.toString().substring(0, 19)).endsWith("Z");
        }
    }

    @Test
    void wholeSecondsAndMinutesKeepEveryField() {
        assertThat(LogTime.appendIso(new StringBuilder(), Instant.parse("2026-01-02T03:04:00Z")).toString())
                .isEqualTo("2026-01-02T03:04:00.000000Z");
        assertThat(LogTime.appendIso(new StringBuilder(), Instant.parse("1970-01-01T00:00:00.000999Z")).toString())
                .isEqualTo("1970-01-01T00:00:00.000999Z");
    }
}
