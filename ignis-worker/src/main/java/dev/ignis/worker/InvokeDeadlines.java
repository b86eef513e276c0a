package dev.ignis.worker;

import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Ends invokes that pass their function's timeout: completes each late one's result with
 * {@link RuntimeEvent.TimedOut}, so the invoking thread can wait without a timeout of its own.
 *
 * <p>Design note: a virtual thread's timed wait schedules a task with the JDK's delay scheduler
 * and cancels it after, and each of the two wakes that scheduler's thread when it sleeps: up to two
 * thread wakeups per warm invoke for a timeout that almost never fires (measured on the python c=8
 * bench: 0.5–1 delay-scheduler wakeup per invoke). Here one platform thread sleeps until the earliest
 * deadline it knows (at most {@link #MAX_SLEEP_NANOS}), so adding an invoke wakes it only when that
 * invoke's deadline is earlier than the thread's next look — never for timeouts of a second or more.
 */
final class InvokeDeadlines implements AutoCloseable {
    /** The longest the watch sleeps: Lambda's shortest timeout, so a new invoke never needs to wake it. */
    static final long MAX_SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One watched invoke (identity: two invokes with the same deadline are two entries). */
    static final class Entry {
        private final long deadlineNanos;
        private final CompletableFuture<RuntimeEvent> result;

        private Entry(long deadlineNanos, CompletableFuture<RuntimeEvent> result) {
            this.deadlineNanos = deadlineNanos;
            this.result = result;
        }
    }

    private final Set<Entry> watched = ConcurrentHashMap.newKeySet();
    private final long maxSleepNanos;
    private final Thread thread;
    /** When the watch looks next (System.nanoTime); meaningless while {@link #scanning}. */
    private volatile long nextLook;
    /** True from the start of a look until its next sleep is decided: additions then always wake it. */
    private volatile boolean scanning = true;
    private volatile boolean closed;

    InvokeDeadlines(String name) {
        this(name, MAX_SLEEP_NANOS);
    }

    /** {@code maxSleepNanos}: tests make it long, to show that an earlier deadline wakes the watch. */
    InvokeDeadlines(String name, long maxSleepNanos) {
        this.maxSleepNanos = maxSleepNanos;
        this.thread = Thread.ofPlatform().daemon().name("ignis-invoke-deadlines-" + name).start(this::run);
    }

    /** Watches {@code result}: at {@code deadlineNanos} (System.nanoTime) it is completed with TimedOut unless done. */
    Entry watch(CompletableFuture<RuntimeEvent> result, long deadlineNanos) {
        Entry e = new Entry(deadlineNanos, result);
        watched.add(e);
        if (scanning || deadlineNanos - nextLook < 0) {
            LockSupport.unpark(thread);
        }
        return e;
    }

    void unwatch(Entry e) {
        watched.remove(e);
    }

    private void run() {
        while (!closed) {
            scanning = true;
            long now = System.nanoTime();
            long next = now + maxSleepNanos;
            for (Entry e : watched) {
                if (e.result.isDone()) {
                    watched.remove(e);
                } else if (e.deadlineNanos - now <= 0) {
                    watched.remove(e);
                    e.result.complete(new RuntimeEvent.TimedOut());
                } else if (e.deadlineNanos - next < 0) {
                    next = e.deadlineNanos;
                }
            }
            nextLook = next;
            scanning = false;
            // an invoke added during the look either was seen by it or saw scanning and unparked us
            LockSupport.parkNanos(this, next - System.nanoTime());
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
