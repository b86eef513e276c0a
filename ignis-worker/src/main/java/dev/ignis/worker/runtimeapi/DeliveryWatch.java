package dev.ignis.worker.runtimeapi;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the writes of /next answers made by invoking threads. An honest runtime parked on /next
 * reads its answer at once; a hostile one can stop reading with the socket's buffers nearly full,
 * and the write would then block its invoking thread for ever — past the invocation's timeout,
 * which that same thread enforces. Once a second this closes the connection of any write still
 * going past its bound, which ends the write with an error; the invoke then ends by its timeout.
 */
final class DeliveryWatch {
    static final DeliveryWatch INSTANCE = new DeliveryWatch(TimeUnit.SECONDS.toMillis(1));

    private final Set<Entry> writing = ConcurrentHashMap.newKeySet();

    DeliveryWatch(long periodMs) {
        Thread.ofVirtual().name("runtime-api-delivery-watch").start(() -> {
            while (true) {
                try {
                    Thread.sleep(periodMs);
                } catch (InterruptedException e) {
                    return;
                }
                sweep(System.nanoTime());
            }
        });
    }

    /** One write in progress; {@link #done} when it returned. */
    final class Entry {
        private final SocketChannel channel;
        private final long deadlineNanos;

        private Entry(SocketChannel channel, long deadlineNanos) {
            this.channel = channel;
            this.deadlineNanos = deadlineNanos;
        }

        void done() {
            writing.remove(this);
        }
    }

    Entry watch(SocketChannel channel, long deadlineNanos) {
        Entry e = new Entry(channel, deadlineNanos);
        writing.add(e);
        return e;
    }

    /** Closes the connections of writes past their deadline; returns how many. */
    int sweep(long nowNanos) {
        int closed = 0;
        for (Entry e : writing) {
            if (nowNanos - e.deadlineNanos > 0) {
                writing.remove(e);
                try {
                    e.channel.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                closed++;
            }
        }
        return closed;
    }
}
