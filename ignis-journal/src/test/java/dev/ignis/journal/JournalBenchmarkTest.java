package dev.ignis.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Single-peer figures for docs/journal.md. Tagged "bench" and excluded from the default build; run with
 * {@code ./mvnw -q -pl ignis-journal test -Djournal.excludedGroups=none -Dgroups=bench}.
 */
@Tag("bench")
class JournalBenchmarkTest {

    @TempDir Path dir;

    private static final byte[] RECORD = "{\"op\":\"lease\",\"sandbox\":\"sb-0123456789\",\"fn\":\"f\"}"
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void startupOpenToLeaderAndClose() {
        final List<Long> openMicros = new ArrayList<>();
        final List<Long> closeMicros = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            final long t0 = System.nanoTime();
            final RatisJournal j = RatisJournal.single("start" + i, dir.resolve("s" + i), new RecordingStateMachine());
            final long t1 = System.nanoTime();
            j.close();
            final long t2 = System.nanoTime();
            if (i > 0) { // the first one pays class loading; reported separately
                openMicros.add((t1 - t0) / 1000);
                closeMicros.add((t2 - t1) / 1000);
            } else {
                System.out.printf("BENCH first open-to-leader (cold JVM) %.1f ms%n", (t1 - t0) / 1e6);
            }
        }
        System.out.printf("BENCH open-to-leader p50 %.1f ms (n=%d), close p50 %.1f ms%n",
                pct(openMicros, 50) / 1000.0, openMicros.size(), pct(closeMicros, 50) / 1000.0);
    }

    @Test
    void appendLatencyAndThroughput() throws Exception {
        try (RatisJournal j = RatisJournal.single("bench", dir, new CountingStateMachine())) {
            for (int i = 0; i < 2000; i++) { // warm-up: JIT, log segment preallocation
                j.append(RECORD).get(10, TimeUnit.SECONDS);
            }
            final List<Long> micros = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                final long t0 = System.nanoTime();
                j.append(RECORD).get(10, TimeUnit.SECONDS);
                micros.add((System.nanoTime() - t0) / 1000);
            }
            System.out.printf("BENCH sequential append (1 in flight): p50 %d us, p99 %d us, %.0f appends/s%n",
                    pct(micros, 50), pct(micros, 99), 1e6 / (micros.stream().mapToLong(Long::longValue).sum() / 3000.0));
            for (int appenders : new int[] {4, 16, 64}) {
                concurrent(j, appenders);
            }
        }
    }

    private static void concurrent(RatisJournal j, int appenders) throws Exception {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong done = new AtomicLong();
        final List<Long> micros = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < appenders; t++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (!stop.get()) {
                    final long t0 = System.nanoTime();
                    j.append(RECORD).join();
                    micros.add((System.nanoTime() - t0) / 1000);
                    done.incrementAndGet();
                }
            }));
        }
        Thread.sleep(500);
        micros.clear();
        final long start = done.get();
        final long t0 = System.nanoTime();
        Thread.sleep(3000);
        final long n = done.get() - start;
        final double secs = (System.nanoTime() - t0) / 1e9;
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(n).isPositive();
        System.out.printf("BENCH %d concurrent appenders: %.0f appends/s, p50 %d us, p99 %d us%n",
                appenders, n / secs, pct(micros, 50), pct(micros, 99));
    }

    static long pct(List<Long> values, int p) {
        final List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    /** Keeps no records, so the benchmark measures the journal and not a growing list. */
    static final class CountingStateMachine implements JournalStateMachine {
        private long applied;

        @Override public synchronized void apply(long index, byte[] record) { applied++; }
        @Override public synchronized byte[] takeSnapshot() { return Long.toString(applied).getBytes(StandardCharsets.UTF_8); }
        @Override public synchronized void restoreSnapshot(byte[] snapshot) {
            applied = Long.parseLong(new String(snapshot, StandardCharsets.UTF_8));
        }
    }
}
