package dev.ignis.worker.logs;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the worker's function logs to disk a little after their lines arrive, so that the invokes
 * of a busy function share one write(2) instead of one each (a system call costs several µs under
 * this machine's hypervisor, and a warm invoke makes about twenty). A line reaches the file within
 * {@link #DELAY_MS} ms (or sooner, when its file's 16 KB buffer fills); {@code ignis logs} and
 * {@code LogType=Tail} are unaffected in substance ({@code Tail} is kept in memory). When nothing is
 * waiting, the flusher's thread sleeps without waking.
 */
public final class LogFlusher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogFlusher.class);
    public static final long DELAY_MS = 50;

    private final Set<FunctionLogFile> dirty = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean idle;
    private volatile boolean closed;

    public LogFlusher(String name) {
        thread = Thread.ofVirtual().name("log-flusher-" + name).start(this::run);
    }

    /** The file has lines that belong on disk: written within {@link #DELAY_MS} ms. */
    void soon(FunctionLogFile file) {
        if (dirty.add(file) && idle) {
            idle = false;
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        while (!closed) {
            if (dirty.isEmpty()) {
                idle = true;
                if (dirty.isEmpty() && !closed) { // soon() after this sees idle and unparks
                    LockSupport.park(this);
                }
                idle = false;
                continue;
            }
            try {
                Thread.sleep(DELAY_MS); // gather: under load many invokes' lines go out in one write
            } catch (InterruptedException e) {
                break;
            }
            flushAll();
        }
        flushAll();
    }

    private void flushAll() {
        for (FunctionLogFile f : dirty) {
            dirty.remove(f); // before the flush: lines appended during it mark the file again
            try {
                f.flush();
            } catch (RuntimeException e) {
                LOG.warn("could not write function log: {}", e.getMessage());
            }
        }
    }

    /** Writes everything still waiting and stops the thread. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flushAll();
    }
}
