package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InvokeDeadlinesTest {
    private static final long MS = 1_000_000L;

    @Test
    void aLateInvokeIsCompletedWithTimedOutAtItsDeadlineNotBefore() throws Exception {
        try (var deadlines = new InvokeDeadlines("t")) {
            var result = new CompletableFuture<RuntimeEvent>();
            long start = System.nanoTime();
            deadlines.watch(result, start + 300 * MS);
            RuntimeEvent ev = result.get(20, TimeUnit.SECONDS);
            assertThat(ev).isInstanceOf(RuntimeEvent.TimedOut.class);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(300 * MS);
        }
    }

    @Test
    void anInvokeThatFinishedIsLeftAlone() throws Exception {
        try (var deadlines = new InvokeDeadlines("t")) {
            var result = new CompletableFuture<RuntimeEvent>();
            var entry = deadlines.watch(result, System.nanoTime() + 200 * MS);
            result.complete(new RuntimeEvent.Response(new byte[0]));
            deadlines.unwatch(entry);
            var other = new CompletableFuture<RuntimeEvent>();
            deadlines.watch(other, System.nanoTime() + 400 * MS);
            assertThat(other.get(20, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.TimedOut.class);
            assertThat(result.get()).isInstanceOf(RuntimeEvent.Response.class);
        }
    }

    /** Waits until the watch's thread is parked in its sleep (state, not time). */
    private static void awaitAsleep(InvokeDeadlines deadlines, String threadName) throws InterruptedException {
        Thread watch = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(threadName)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + threadName));
        while (java.util.concurrent.locks.LockSupport.getBlocker(watch) != deadlines) {
            Thread.sleep(1);
        }
    }

    @Test
    void anEarlierDeadlineWakesAWatchSleepingTowardsALaterOne() throws Exception {
        // the watch would otherwise sleep a minute: only the wakeup on watch() can end the short one in time
        try (var deadlines = new InvokeDeadlines("wake", TimeUnit.MINUTES.toNanos(1))) {
            var longOne = new CompletableFuture<RuntimeEvent>();
            deadlines.watch(longOne, System.nanoTime() + TimeUnit.MINUTES.toNanos(10));
            awaitAsleep(deadlines, "ignis-invoke-deadlines-wake"); // the watch has looked and sleeps towards the long deadline
            var shortOne = new CompletableFuture<RuntimeEvent>();
            deadlines.watch(shortOne, System.nanoTime() + 50 * MS);
            assertThat(shortOne.get(30, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.TimedOut.class);
            assertThat(longOne).isNotDone();
        }
    }

    @Test
    void manyConcurrentWatchersEachTimeOutOnce() throws Exception {
        try (var deadlines = new InvokeDeadlines("t", TimeUnit.MINUTES.toNanos(1))) {
            List<CompletableFuture<RuntimeEvent>> late = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int n = i;
                var f = new CompletableFuture<RuntimeEvent>();
                late.add(f);
                threads.add(Thread.ofVirtual().start(() -> deadlines.watch(f, System.nanoTime() + (20 + n % 7 * 30) * MS)));
            }
            for (Thread t : threads) {
                t.join();
            }
            for (var f : late) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isInstanceOf(RuntimeEvent.TimedOut.class);
            }
        }
    }
}
