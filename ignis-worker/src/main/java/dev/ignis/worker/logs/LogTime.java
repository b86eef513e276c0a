package dev.ignis.worker.logs;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The timestamp at the head of every log line: ISO-8601 in UTC with microseconds, e.g.
 * {@code 2026-11-28T07:07:15.123456Z} ({@link Instant#parse} reads it back).
 *
 * <p>Design note: three lines per warm invoke carry one; {@code Instant.toString()} runs a
 * DateTimeFormatter each time. Here the date and time up to the second are formatted once per second
 * and shared, so a line pays for six digits.
 */
final class LogTime {
    private record Second(long epochSecond, String prefix) {}

    private static volatile Second last = new Second(Long.MIN_VALUE, "");

    private LogTime() {}

    static StringBuilder appendIso(StringBuilder sb, Instant at) {
        long second = at.getEpochSecond();
        Second s = last;
        if (s.epochSecond() != second) {
            LocalDateTime t = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
            // LocalDateTime prints 07:07 for a whole minute; the seconds are always written here
            String prefix = String.format(java.util.Locale.ROOT, "%04d-%02d-%02dT%02d:%02d:%02d.", t.getYear(), t.getMonthValue(),
                    t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond());
            s = new Second(second, prefix);
            last = s;
        }
        int micros = at.getNano() / 1000;
        sb.append(s.prefix());
        for (int div = 100_000; div > 0; div /= 10) {
            sb.append((char) ('0' + micros / div % 10));
        }
        return sb.append('Z');
    }
}
