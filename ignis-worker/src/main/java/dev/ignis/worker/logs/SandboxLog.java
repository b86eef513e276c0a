package dev.ignis.worker.logs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.Base64;

/**
 * The log of one sandbox: pumps the runtime's output line by line into the function's log file,
 * frames each invoke with START / END / REPORT like CloudWatch, and keeps this invoke's lines for
 * {@code LogType=Tail} (the last 4 KB, base64).
 *
 * <p>The runtime's stdout and stderr are one pipe (as on Lambda, both are the function's log, in the
 * order they were written): asking a pipe whether it holds output costs two system calls, and
 * {@link #end} asks once per invoke.
 *
 * <p>Design note: a runtime typically prints and then posts its /response, so the lines can still be
 * in the pipe when the response arrives. {@link #end} therefore waits (bounded, normally a few
 * microseconds) until the pipe is drained before writing END, so the lines land inside the frame.
 */
public final class SandboxLog {
    public static final int TAIL_BYTES = 4096;
    private static final int MAX_LINE = 256 * 1024;

    private final FunctionLogFile file;
    private final String stream;
    private final InstantSource clock;
    private final StringBuilder invokeText = new StringBuilder(8192);
    private final Pump pump;

    /** {@code output}: the runtime's stdout and stderr together. */
    public SandboxLog(FunctionLogFile file, String logStream, InstantSource clock, InputStream output) {
        this.file = file;
        this.stream = logStream;
        this.clock = clock;
        this.pump = new Pump(output);
        Thread.ofVirtual().name("sandbox-log-" + logStream).start(pump);
    }

    /** Writes a platform line (START, END, REPORT, errors) to the file and the invoke's tail. */
    public void platform(String line) {
        emit(line);
    }

    /** Begins an invoke's frame. */
    public void start(String requestId, String version) {
        synchronized (invokeText) {
            invokeText.setLength(0);
        }
        emit("START RequestId: " + requestId + " Version: " + version);
    }

    /** Ends the frame: drains the pipe, writes END and REPORT; returns base64 of the last 4 KB, or null. */
    public String end(String requestId, String report, boolean wantTail) {
        drain();
        emit("END RequestId: " + requestId);
        emit(report);
        if (!wantTail) {
            return null;
        }
        byte[] all;
        synchronized (invokeText) {
            all = invokeText.toString().getBytes(StandardCharsets.UTF_8);
        }
        int from = Math.max(0, all.length - TAIL_BYTES);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(all, from, all.length));
    }

    /**
     * Processes every byte the pipe holds right now, on the calling thread. A runtime writes its
     * lines before it posts /response, so after this they are all inside the invoke's frame.
     */
    public void drain() {
        pump.pumpAvailable();
    }

    /** The process is gone: read the pipe to its end (bounded by what the pipe holds). */
    public void finish() {
        pump.pumpToEnd();
    }

    private void emit(String line) {
        synchronized (invokeText) {
            invokeText.append(line).append('\n');
            if (invokeText.length() > 4 * TAIL_BYTES) {
                invokeText.delete(0, invokeText.length() - 2 * TAIL_BYTES);
            }
        }
        file.append(clock.instant(), stream, line);
    }

    /**
     * Reads one pipe, splitting on '\n'; overlong lines are cut at {@link #MAX_LINE} bytes.
     *
     * <p>Design note: the JDK's process pipe stream holds its lock while blocked in read(), so nobody
     * else could ask it how much is buffered. The pump therefore never blocks in read(): it polls
     * {@code available()} with a backoff (1 ms while output flows, up to 100 ms when quiet) and reads
     * only what is there; {@link #drain} does the same synchronously, under the same lock.
     */
    private final class Pump implements Runnable {
        private final InputStream in;
        private final byte[] buf = new byte[8192];
        private final byte[] line = new byte[MAX_LINE];
        private int n;
        private boolean partialFlushed;
        private volatile boolean eof;

        Pump(InputStream in) {
            this.in = in;
        }

        /** Reads what is available without blocking; returns the number of bytes consumed. */
        synchronized int pumpAvailable() {
            if (eof) {
                return 0;
            }
            int total = 0;
            try {
                int avail;
                while ((avail = in.available()) > 0) {
                    int r = in.read(buf, 0, Math.min(avail, buf.length));
                    if (r < 0) {
                        end();
                        break;
                    }
                    consume(r);
                    total += r;
                }
            } catch (IOException e) {
                end();
            }
            flushPartial();
            return total;
        }

        synchronized void pumpToEnd() {
            if (eof) {
                return;
            }
            try {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    consume(r);
                }
            } catch (IOException ignored) {
                // closed
            }
            end();
        }

        private void consume(int r) {
            for (int i = 0; i < r; i++) {
                byte b = buf[i];
                if (b == '\n' || n == MAX_LINE) {
                    // unbuffered writers often send a text and its newline in two writes: the newline
                    // right after a flushed partial line does not make an extra empty line
                    if (!(b == '\n' && n == 0 && partialFlushed)) {
                        emit(new String(line, 0, n, StandardCharsets.UTF_8));
                    }
                    n = 0;
                    partialFlushed = false;
                    if (b == '\n') {
                        continue;
                    }
                }
                partialFlushed = false;
                line[n++] = b;
            }
        }

        private void flushPartial() {
            if (n > 0) {
                emit(new String(line, 0, n, StandardCharsets.UTF_8));
                n = 0;
                partialFlushed = true;
            }
        }

        private void end() {
            flushPartial();
            eof = true;
            try {
                in.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        @Override
        public void run() {
            long sleepMs = 1;
            while (!eof) {
                int got = pumpAvailable();
                sleepMs = got > 0 ? 1 : Math.min(100, sleepMs * 2);
                try {
                    Thread.sleep(sleepMs);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
