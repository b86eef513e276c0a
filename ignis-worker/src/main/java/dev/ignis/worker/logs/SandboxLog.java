package dev.ignis.worker.logs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;

/**
 * The log of one sandbox: pumps the runtime's stdout and stderr line by line into the function's
 * log file, frames each invoke with START / END / REPORT like CloudWatch, and keeps this invoke's
 * lines for {@code LogType=Tail} (the last 4 KB, base64).
 *
 * <p>Design note: a runtime typically prints and then posts its /response, so the lines can still be
 * in the pipe when the response arrives. {@link #end} therefore waits (bounded, normally a few
 * microseconds) until both pipes are drained before writing END, so the lines land inside the frame.
 */
public final class SandboxLog {
    public static final int TAIL_BYTES = 4096;
    private static final int MAX_LINE = 256 * 1024;

    private final FunctionLogFile file;
    private final String stream;
    private final InstantSource clock;
    private final StringBuilder invokeText = new StringBuilder(8192);
    private final List<Pump> pumps;

    public SandboxLog(FunctionLogFile file, String logStream, InstantSource clock, InputStream stdout, InputStream stderr) {
        this.file = file;
        this.stream = logStream;
        this.clock = clock;
        this.pumps = List.of(new Pump(stdout), new Pump(stderr));
        for (Pump p : pumps) {
            Thread.ofVirtual().name("sandbox-log-" + logStream).start(p);
        }
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

    /** Ends the frame: drains the pipes, writes END and REPORT; returns base64 of the last 4 KB, or null. */
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

    /** Waits until both pipes hold no unread bytes (bounded to 50 ms; a dead process never blocks this). */
    public void drain() {
        long deadline = System.nanoTime() + 50_000_000L;
        for (Pump p : pumps) {
            while (!p.drained() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.yield();
            }
        }
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

    /** Reads one pipe; splits on '\n'; overlong lines are cut at {@link #MAX_LINE} bytes. */
    private final class Pump implements Runnable {
        private final InputStream in;
        private volatile boolean busy;
        private volatile boolean eof;

        Pump(InputStream in) {
            this.in = in;
        }

        boolean drained() {
            if (eof) {
                return true;
            }
            try {
                return !busy && in.available() == 0;
            } catch (IOException e) {
                return true;
            }
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            byte[] line = new byte[MAX_LINE];
            int n = 0;
            boolean partialFlushed = false;
            try (in) {
                while (true) {
                    int r = in.read(buf);
                    if (r < 0) {
                        break;
                    }
                    busy = true;
                    for (int i = 0; i < r; i++) {
                        byte b = buf[i];
                        if (b == '\n' || n == MAX_LINE) {
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
                    if (n > 0 && in.available() == 0) {
                        // a partial line with nothing behind it: flush it so it lands in this invoke's frame
                        // (unbuffered writers often send the text and its newline in two writes; the
                        // newline that follows a flushed partial does not make an extra empty line)
                        emit(new String(line, 0, n, StandardCharsets.UTF_8));
                        n = 0;
                        partialFlushed = true;
                    }
                    busy = false;
                }
            } catch (IOException e) {
                // the process is gone
            } finally {
                if (n > 0) {
                    emit(new String(line, 0, n, StandardCharsets.UTF_8));
                }
                busy = false;
                eof = true;
            }
        }
    }
}
