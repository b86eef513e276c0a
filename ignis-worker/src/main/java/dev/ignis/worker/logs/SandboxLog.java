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
 * in the pipe when the response arrives. {@link #end} therefore reads what the pipe holds at that moment
 * (normally nothing, or a few lines) before writing END, so the lines land inside the frame — and no more:
 * a function that never stops printing must not hold its invoke's answer (issue #14, finding 4).
 *
 * <p>Design note (hostile output): the pump reads at most {@link #CHUNK} bytes per turn and then sleeps, so
 * a flood costs one virtual thread a bounded share of a carrier, never the whole carrier, and a writer faster
 * than that blocks on the full pipe (its own time). What is read is held to a {@link Budget} per invoke and
 * per second: lines over it are dropped (never formatted) and counted, and one {@code LOGS_DROPPED} line says
 * how many, before the next line that fits or before END — what Lambda's log throttle and the Telemetry API's
 * {@code platform.logsDropped} do. The counters are plain longs under the pump's lock: nothing on the warm path.
 */
public final class SandboxLog {
    public static final int TAIL_BYTES = 4096;
    private static final int MAX_LINE = 256 * 1024;
    /** The most the pump reads per turn (it then sleeps 1 ms): at most ~64 MB/s of a flood is read at all. */
    static final int CHUNK = 64 * 1024;
    /** The most {@link #end} reads before END: a pipe holds 64 KB, 1 MB if its writer raised it (pipe-max-size). */
    static final int DRAIN_MAX = 1 << 20;

    /**
     * How much of a sandbox's output reaches its log: bytes of function lines per invoke (counted from START)
     * and per second. Platform lines (START, END, REPORT, errors) never count and are never dropped.
     */
    public record Budget(long bytesPerInvoke, long bytesPerSecond) {
        /** 10 MB per invoke (one log file), 2 MB per second. */
        public static final Budget DEFAULT = new Budget(10L << 20, 2L << 20);

        public Budget {
            if (bytesPerInvoke < 1 || bytesPerSecond < 1) {
                throw new IllegalArgumentException("log budgets must be positive");
            }
        }
    }

    private final FunctionLogFile file;
    private final String stream;
    private final InstantSource clock;
    private final StringBuilder invokeText = new StringBuilder(8192);
    private final Budget budget;
    private final Pump pump;

    /** {@code output}: the runtime's stdout and stderr together; {@link Budget#DEFAULT}. */
    public SandboxLog(FunctionLogFile file, String logStream, InstantSource clock, InputStream output) {
        this(file, logStream, clock, output, Budget.DEFAULT);
    }

    public SandboxLog(FunctionLogFile file, String logStream, InstantSource clock, InputStream output, Budget budget) {
        this.file = file;
        this.stream = logStream;
        this.clock = clock;
        this.budget = budget;
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
        pump.newInvoke();
        emit("START RequestId: " + requestId + " Version: " + version);
    }

    /** Ends the frame: drains the pipe, writes END and REPORT; returns base64 of the last 4 KB, or null. */
    public String end(String requestId, String report, boolean wantTail) {
        drain();
        pump.reportDropped();
        emit("END RequestId: " + requestId, report);
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
     * Processes the bytes the pipe holds right now (at most {@link #DRAIN_MAX}), on the calling thread. A
     * runtime writes its lines before it posts /response, so after this they are all inside the invoke's
     * frame; what a function writes meanwhile is the next turn's, so this ends however fast it prints.
     */
    public void drain() {
        pump.pumpAvailable(DRAIN_MAX, true);
    }

    /** The process is gone: read the pipe to its end (bounded by what the pipe holds). */
    public void finish() {
        pump.pumpToEnd();
        pump.reportDropped();
    }

    /** Bytes of function output dropped over the budget since this sandbox started. */
    public long droppedBytes() {
        return pump.droppedBytesTotal();
    }

    /** Two lines in one append (END and REPORT). */
    private void emit(String line, String line2) {
        synchronized (invokeText) {
            invokeText.append(line).append('\n').append(line2).append('\n');
            if (invokeText.length() > 4 * TAIL_BYTES) {
                invokeText.delete(0, invokeText.length() - 2 * TAIL_BYTES);
            }
        }
        try {
            file.append(clock.instant(), stream, line, line2);
        } catch (InternalError lateFault) {
            // a fault of a log file cut under its mapping, surfacing after the append (FunctionLogFile's class comment)
        }
    }

    private void emit(String line) {
        synchronized (invokeText) {
            invokeText.append(line).append('\n');
            if (invokeText.length() > 4 * TAIL_BYTES) {
                invokeText.delete(0, invokeText.length() - 2 * TAIL_BYTES);
            }
        }
        try {
            file.append(clock.instant(), stream, line);
        } catch (InternalError lateFault) {
            // as above
        }
    }

    /**
     * Reads one pipe, splitting on '\n'; overlong lines are cut at {@link #MAX_LINE} bytes.
     *
     * <p>Design note: the JDK's process pipe stream holds its lock while blocked in read(), so nobody
     * else could ask it how much is buffered. The pump therefore never blocks in read(): it polls
     * {@code available()} with a backoff (1 ms while output flows, up to 100 ms when quiet) and reads
     * only what is there, at most {@link #CHUNK} per turn; {@link #drain} does the same synchronously,
     * under the same lock, so it waits at most for one turn.
     */
    private final class Pump implements Runnable {
        private final InputStream in;
        private final byte[] buf = new byte[CHUNK];
        private final byte[] line = new byte[MAX_LINE];
        private int n;
        private boolean partialFlushed;
        private volatile boolean eof;
        /** Function-output bytes let through since START, and in the second that began at {@link #secondStart}. */
        private long invokeBytes;
        private long secondBytes;
        private long secondStart = System.nanoTime();
        /** Dropped since the last LOGS_DROPPED line, and in all. */
        private long droppedLines;
        private long droppedBytes;
        private volatile long droppedBytesTotal;

        Pump(InputStream in) {
            this.in = in;
        }

        synchronized void newInvoke() {
            invokeBytes = 0;
        }

        long droppedBytesTotal() {
            return droppedBytesTotal;
        }

        /**
         * Reads what the pipe holds now, at most {@code limit} bytes, without blocking; returns the number of
         * bytes consumed. What arrives meanwhile waits for the next call. {@code endOfTurn}: a line still open
         * is written as it is (the invoke's frame ends); otherwise it waits for its newline, because an
         * unbuffered writer sends one line in several writes ({@code print("handling", event)} is three) and a
         * turn of the pump between them must not cut it in two.
         */
        synchronized int pumpAvailable(int limit, boolean endOfTurn) {
            if (eof) {
                return 0;
            }
            int total = 0;
            try {
                int want = Math.min(in.available(), limit);
                if (want > 0) {
                    newSecond();
                }
                while (total < want) {
                    int r = in.read(buf, 0, Math.min(want - total, buf.length));
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
            if (endOfTurn) {
                flushPartial();
            }
            return total;
        }

        private void newSecond() {
            long now = System.nanoTime();
            if (now - secondStart >= 1_000_000_000L) {
                secondStart = now;
                secondBytes = 0;
            }
        }

        /** Whether a line of {@code bytes} fits the budget (and takes its share), else counts it dropped. */
        private boolean admit(int bytes) {
            if (invokeBytes + bytes > budget.bytesPerInvoke() || secondBytes + bytes > budget.bytesPerSecond()) {
                droppedLines++;
                droppedBytes += bytes;
                droppedBytesTotal += bytes;
                return false;
            }
            invokeBytes += bytes;
            secondBytes += bytes;
            reportDropped();
            return true;
        }

        /** Writes one LOGS_DROPPED line for what was dropped since the last one, if anything was. */
        synchronized void reportDropped() {
            if (droppedLines > 0) {
                emit("LOGS_DROPPED Lines: " + droppedLines + "\tBytes: " + droppedBytes + "\tReason: over the sandbox's log budget ("
                        + budget.bytesPerSecond() + " bytes per second, " + budget.bytesPerInvoke() + " bytes per invoke)");
                droppedLines = 0;
                droppedBytes = 0;
            }
        }

        synchronized void pumpToEnd() {
            if (eof) {
                return;
            }
            try {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    newSecond();
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
                    if (!(b == '\n' && n == 0 && partialFlushed) && admit(n + 1)) {
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
                if (admit(n + 1)) {
                    emit(new String(line, 0, n, StandardCharsets.UTF_8));
                }
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
                int got;
                try {
                    got = pumpAvailable(CHUNK, false);
                } catch (InternalError lateFault) {
                    got = 1; // a late fault of a cut log file (FunctionLogFile): the pump must go on, or the runtime blocks
                }
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
