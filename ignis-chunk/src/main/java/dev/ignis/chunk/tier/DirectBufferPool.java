package dev.ignis.chunk.tier;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small pool of direct buffers that chunk-sized file reads land in before they are copied into
 * the caller's array.
 *
 * <p>Design note: {@code FileChannel.read} into a heap buffer goes through the JDK's per-thread
 * temporary direct buffer. A prefetch runs each chunk on a fresh virtual thread, so that
 * per-thread cache is empty every time and each read mallocs (and frees) half a megabyte of native
 * memory. Reading into a pooled direct buffer costs the same copies without that allocation, on any
 * thread. At most {@code maxPooled} buffers are kept; a burst beyond that allocates and lets the
 * garbage collector free the surplus.
 */
final class DirectBufferPool {
    private static final int GRANULE = 64 * 1024;

    private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pooled = new AtomicInteger();
    private final int maxPooled;

    DirectBufferPool(int maxPooled) {
        this.maxPooled = maxPooled;
    }

    /** A buffer with position 0 and limit {@code size}; hand it back with {@link #release}. */
    ByteBuffer acquire(int size) {
        ByteBuffer b = free.poll();
        if (b != null) {
            pooled.decrementAndGet();
            if (b.capacity() < size) {
                b = null; // too small for this chunk: let it go, allocate a fitting one
            }
        }
        if (b == null) {
            b = ByteBuffer.allocateDirect((size + GRANULE - 1) / GRANULE * GRANULE);
        }
        return b.clear().limit(size);
    }

    void release(ByteBuffer b) {
        if (pooled.incrementAndGet() <= maxPooled) {
            free.offer(b);
        } else {
            pooled.decrementAndGet();
        }
    }

    /** Buffers currently waiting in the pool (tests). */
    int pooled() {
        return pooled.get();
    }
}
