package dev.ignis.frontend;

import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time limits for reading a request's headers and its body, so that a client that sends a byte
 * now and then (slowloris) cannot hold a connection, and with it one of the listener's limited
 * connections, for as long as it likes.
 *
 * <p>Design note: Helidon SE 4 has no such limit of its own (its socket read timeout is not applied
 * to accepted connections, and its idle-connection check interrupts only a connection that is still
 * reading a request line). Each HTTP/1 connection is served by one virtual thread, and interrupting a
 * virtual thread blocked in a socket read closes the socket. So each connection thread carries one
 * {@link Watch} (created and registered once per connection): arming and clearing a deadline is one
 * volatile write and one compare-and-set on the request path, without allocation or lock. One sweeper
 * thread looks at every watch a few times a second and interrupts a thread whose deadline has passed;
 * a watch whose thread has ended is dropped. Whichever of the sweeper and the reader marks the watch
 * first wins: a reader that finds its deadline fired gives up the connection itself, so an interrupt
 * never reaches code past the read.
 */
final class ReadDeadlines implements AutoCloseable {
    private static final long NONE = Long.MIN_VALUE;
    private static final long FIRED = Long.MIN_VALUE + 1;

    /** One connection thread's deadline ({@link System#nanoTime()}), or NONE, or FIRED. */
    static final class Watch extends AtomicLong {
        private final transient Thread thread = Thread.currentThread();

        Watch() {
            super(NONE);
        }
    }

    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Watch> current = ThreadLocal.withInitial(this::register);
    private final Thread sweeper;
    private final long tickMillis;
    private volatile boolean closed;

    ReadDeadlines(Duration tick) {
        this.tickMillis = Math.max(10, tick.toMillis());
        this.sweeper = Thread.ofPlatform().daemon().name("ignis-frontend-read-deadlines").start(this::sweep);
    }

    private Watch register() {
        var w = new Watch();
        watches.add(w);
        return w;
    }

    /** Starts a deadline on the calling (connection) thread. */
    void arm(long timeoutNanos) {
        Watch w = current.get();
        long d = w.get();
        if (d == FIRED) {
            throw timedOut();
        }
        long deadline = System.nanoTime() + timeoutNanos;
        w.compareAndSet(d, deadline == NONE || deadline == FIRED ? deadline + 2 : deadline);
    }

    /** Ends the calling thread's deadline; throws when it had already passed (the connection is being closed). */
    void clear() {
        Watch w = current.get();
        long d = w.get();
        if (d == FIRED || !w.compareAndSet(d, NONE)) {
            throw timedOut();
        }
    }

    private void sweep() {
        while (!closed) {
            try {
                Thread.sleep(tickMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Watch w : watches) {
                if (!w.thread.isAlive()) {
                    watches.remove(w);
                    continue;
                }
                long d = w.get();
                if (d != NONE && d != FIRED && now - d > 0 && w.compareAndSet(d, FIRED)) {
                    w.thread.interrupt(); // closes the socket the virtual thread is blocked on
                }
            }
        }
    }

    private static UncheckedIOException timedOut() {
        return new UncheckedIOException(new InterruptedIOException("request not received in time; connection closed"));
    }

    @Override
    public void close() {
        closed = true;
        sweeper.interrupt();
    }
}
