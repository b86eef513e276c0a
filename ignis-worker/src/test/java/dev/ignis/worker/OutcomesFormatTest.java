package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written REPORT and trace-header formatting says what String.format said. */
class OutcomesFormatTest {
    @Test
    void millisLikeTwoDecimalFormat() {
        Random rnd = new Random(6);
        for (int i = 0; i < 100_000; i++) {
            double ms = switch (i % 3) {
                case 0 -> rnd.nextDouble() * 2;
                case 1 -> rnd.nextDouble() * 5000;
                default -> rnd.nextInt(100_000) / 100.0;
            };
            String expected = String.format(Locale.ROOT, "%.2f", ms);
            String actual = Outcomes.millis(new StringBuilder(), ms).toString();
            // the two may differ only where the double sits on a rounding boundary
            if (!expected.equals(actual)) {
                assertThat(Math.abs(Double.parseDouble(actual) - ms)).isLessThanOrEqualTo(0.0050001);
            }
        }
        assertThat(Outcomes.millis(new StringBuilder(), 0.004).toString()).isEqualTo("0.00");
        assertThat(Outcomes.millis(new StringBuilder(), 12.3).toString()).isEqualTo("12.30");
        assertThat(Outcomes.millis(new StringBuilder(), 1.07).toString()).isEqualTo("1.07");
    }

    @Test
    void traceHeaderShape() {
        for (int i = 0; i < 1000; i++) {
            assertThat(Outcomes.traceId(Clock.systemUTC())).matches("Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0");
        }
    }
}
