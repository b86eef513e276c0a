package dev.ignis.worker.runtimeapi;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes that Runtime API request bodies may hold at once, across every sandbox of a worker.
 *
 * <p>Design note: a body's array is reserved here as it grows, never for what the request declares
 * (a header-only request with {@code Content-Length: 6291556} holds nothing), and released once the
 * request has been handled (a {@code /response} body then belongs to its invoke's result, one per
 * sandbox) or dropped. A body that would take the total over the limit is refused: the runtime gets
 * 413 and its connection is closed, and the invoke fails as a response that is too large — one
 * tenant cannot take the worker's heap. Each sandbox's server draws on a {@link #child} budget of
 * its own, so that one sandbox cannot hold all of the worker's either. Reserving costs one
 * compare-and-set per level per growth of a body (one growth for a small body), no allocation.
 */
public final class BodyBudget {
    private final long limit;
    private final BodyBudget parent;
    private final AtomicLong held = new AtomicLong();

    public BodyBudget(long limit) {
        this(limit, null);
    }

    private BodyBudget(long limit, BodyBudget parent) {
        if (limit <= 0) {
            throw new IllegalArgumentException("a body budget must be positive: " + limit);
        }
        this.limit = limit;
        this.parent = parent;
    }

    /** A budget of at most {@code limit} bytes whose reservations are also this one's. */
    BodyBudget child(long limit) {
        return new BodyBudget(limit, this);
    }

    /** Takes {@code n} bytes if the total (and every parent's) stays within the limit; false (nothing taken) otherwise. */
    boolean reserve(long n) {
        while (true) {
            long h = held.get();
            if (n > limit - h) {
                return false;
            }
            if (held.compareAndSet(h, h + n)) {
                break;
            }
        }
        if (parent != null && !parent.reserve(n)) {
            held.addAndGet(-n);
            return false;
        }
        return true;
    }

    void release(long n) {
        if (n != 0) {
            held.addAndGet(-n);
            if (parent != null) {
                parent.release(n);
            }
        }
    }

    /** Bytes held by bodies now. */
    public long held() {
        return held.get();
    }

    public long limit() {
        return limit;
    }
}
