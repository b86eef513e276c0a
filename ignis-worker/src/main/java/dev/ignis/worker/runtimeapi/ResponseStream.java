package dev.ignis.worker.runtimeapi;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A streamed response on its way from the runtime to the caller: a bounded pipe between the thread that reads the
 * runtime's {@code POST /response} (the producer: {@link #write}) and the thread that sends the chunks on to the client
 * (the consumer: {@link #take}).
 *
 * <p>Design note: it holds at most {@link #capacity()} bytes. A producer that finds it full waits, so it stops reading
 * the runtime's socket and the runtime's own writes block in the kernel: a slow client slows the function, and nothing
 * between them holds more than this pipe, the socket buffers and one read buffer. The wait is bounded by the invoke:
 * {@link #abort} (the deadline, the runtime's exit) wakes a waiting producer with an IOException. A consumer that leaves
 * (the client hung up) {@link #cancel}s: from then on what the runtime writes is read and dropped, so the function runs
 * to its end and its sandbox stays usable. The worker {@link #close}s it once the invoke's outcome is known; the
 * consumer reads the chunks left, then {@code take} returns null.
 */
public final class ResponseStream {
    /** Bytes in flight between the runtime and the client by default: 256 KiB. */
    public static final int DEFAULT_CAPACITY = 256 * 1024;
    /** Lambda's documented bound on a streamed response: 20 MiB; the runtime's stream is cut past it. */
    public static final long DEFAULT_LIMIT = 20L * 1024 * 1024;

    private final int capacity;
    private final long limit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private int buffered;
    private int highWater;
    private String contentType;
    private boolean closed;
    private boolean aborted;
    private boolean cancelled;
    private boolean streamed;

    /**
     * @param capacity bytes the pipe holds at most
     * @param limit    bytes the runtime may stream in all; past them its request is cut and the invoke fails as a
     *                 response that is too large (Function.ResponseSizeTooLarge)
     */
    public ResponseStream(int capacity, long limit) {
        if (capacity < 1 || limit < 1) {
            throw new IllegalArgumentException("capacity and limit must be positive: " + capacity + ", " + limit);
        }
        this.capacity = capacity;
        this.limit = limit;
    }

    public ResponseStream() {
        this(DEFAULT_CAPACITY, DEFAULT_LIMIT);
    }

    public int capacity() {
        return capacity;
    }

    public long limit() {
        return limit;
    }

    /** The runtime's Content-Type for the stream (set before its first byte), or null when it sent none. */
    public String contentType() {
        lock.lock();
        try {
            return contentType;
        } finally {
            lock.unlock();
        }
    }

    /** The runtime began a streamed /response of this type (null: it sent none). */
    void begin(String type) {
        lock.lock();
        try {
            contentType = type;
            streamed = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * True once the runtime began a streamed /response; false while it has not, or when it answered with a whole body
     * (which the worker writes as one chunk). Read it after {@link #take} returned something, or null.
     */
    public boolean streamed() {
        lock.lock();
        try {
            return streamed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Copies {@code len} bytes in as one chunk, waiting while the pipe is full. A chunk larger than the capacity is
     * split. Throws once the invoke ended otherwise ({@link #abort}); drops the bytes once the consumer left.
     */
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, capacity);
            byte[] chunk = java.util.Arrays.copyOfRange(b, off, off + n);
            lock.lock();
            try {
                while (!cancelled && !aborted && !closed && buffered + n > capacity) {
                    changed.awaitUninterruptibly();
                }
                if (aborted || closed) {
                    throw new IOException("the invoke ended while its response was still streaming");
                }
                if (!cancelled) {
                    chunks.add(chunk);
                    buffered += n;
                    highWater = Math.max(highWater, buffered);
                    changed.signalAll();
                }
            } finally {
                lock.unlock();
            }
            off += n;
            len -= n;
        }
    }

    /** The next chunk, waiting for one; null once the stream is closed and empty. */
    public byte[] take() throws InterruptedException {
        lock.lock();
        try {
            while (chunks.isEmpty() && !closed) {
                changed.await();
            }
            byte[] c = chunks.poll();
            if (c != null) {
                buffered -= c.length;
                changed.signalAll();
            }
            return c;
        } finally {
            lock.unlock();
        }
    }

    /** The consumer is gone: what comes from now on is dropped (the producer is never held up again). */
    public void cancel() {
        lock.lock();
        try {
            cancelled = true;
            chunks.clear();
            buffered = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The invoke ended before the runtime finished its stream: a waiting or later producer fails. */
    public void abort() {
        lock.lock();
        try {
            aborted = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** No more chunks: the consumer reads what is left, then {@link #take} returns null. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The most bytes the pipe ever held at once (tests prove the bound with it). */
    public int highWater() {
        lock.lock();
        try {
            return highWater;
        } finally {
            lock.unlock();
        }
    }
}
