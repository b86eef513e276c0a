package dev.ignis.journal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Child JVM for {@link CrashRecoveryTest}: opens a single-peer journal in {@code args[0]} and appends
 * {@code crash-<n>} records forever, a few in flight at a time, printing {@code ACK <n> <index>} on
 * stdout once each append future completes. The parent kills it with SIGKILL mid-stream.
 */
public final class CrashChild {

    static final int IN_FLIGHT = 8;

    public static void main(String[] args) throws Exception {
        final RatisJournal journal = RatisJournal.single("crash", Path.of(args[0]), new RecordingStateMachine());
        System.out.println("READY");
        System.out.flush();
        final Semaphore window = new Semaphore(IN_FLIGHT);
        for (long n = 0; ; n++) {
            window.acquire();
            final long record = n;
            final CompletableFuture<Long> f = journal.append(("crash-" + n).getBytes(StandardCharsets.UTF_8));
            f.whenComplete((index, error) -> {
                if (error == null) {
                    // One println per line under System.out's lock: the parent never sees half a line
                    // for an acknowledged record.
                    System.out.println("ACK " + record + " " + index);
                    System.out.flush();
                } else {
                    System.out.println("FAIL " + record + " " + error);
                    System.out.flush();
                }
                window.release();
            });
        }
    }

    private CrashChild() {}
}
