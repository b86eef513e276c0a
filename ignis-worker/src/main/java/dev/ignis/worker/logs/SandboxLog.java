package dev.ignis.worker.logs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.Base64;

/**
 * The log of one sandbox: pumps the runtime's output line by line into the function's log file,
 * frames each invoke with START / END / REPORT like CloudWatch, and keeps this invoke's lines for
 * {@code LogType=Tail} (the last 4 KB, base64).
 *
 * <p>The runtime's stdout and stderr are one pipe (as on Lambda, both are the function's log, in the
 * order they were written): {@link #end} asks it once per invoke whether it holds output, one
 * {@code read(2)} on the non-blocking pipe the worker owns ({@code OutputPipe}).
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

    /** {@code output}: the runtime's stdout and stderr together; closed by this log once it ends. */
    public SandboxLog(FunctionLogFile file, String logStream, InstantSource clock, RuntimeOutput output) {
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

    /** The process is gone: read the pipe to its end (bounded: ≤ 2 s for a writer that lingers). */
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
     * <p>Design note: the pump never blocks in read(): the output is read only for what is there
     * ({@link RuntimeOutput}: a non-blocking pipe), polled with a backoff (1 ms while output flows, up
     * to 100 ms when quiet); {@link #drain} reads the same way synchronously, under the same lock, so
     * asking whether the runtime printed anything costs one {@code read(2)}.
     */
    private final class Pump implements Runnable {
        /** How long {@link #pumpToEnd} waits for the end of output once the process tree is gone. */
        private static final long TO_END_NANOS = 2_000_000_000L;
        private final RuntimeOutput in;
        private final byte[] buf = new byte[8192];
        private final byte[] line = new byte[MAX_LINE];
        private int n;
        private boolean partialFlushed;
        private volatile boolean eof;

        Pump(RuntimeOutput in) {
            this.in = in;
        }

        /** Reads what is there without blocking; returns the number of bytes consumed. */
        synchronized int pumpAvailable() {
            if (eof) {
                return 0;
            }
            int total = 0;
            try {
                int r;
                while ((r = in.read(buf, 0, buf.length)) > 0) {
                    consume(r);
                    total += r;
                }
                if (r < 0) {
                    end();
                }
            } catch (IOException e) {
                end();
            }
            flushPartial();
            return total;
        }

        /** The process tree is gone: reads until the output ends (bounded: a writer that lingers is cut off). */
        synchronized void pumpToEnd() {
            long deadline = System.nanoTime() + TO_END_NANOS;
            while (!eof) {
                if (pumpAvailable() == 0 && !eof) {
                    if (System.nanoTime() > deadline) {
                        end();
                        return;
                    }
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        end();
                        return;
                    }
                }
            }
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
            in.close();
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
