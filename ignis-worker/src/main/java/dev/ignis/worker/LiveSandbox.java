package dev.ignis.worker;

import dev.ignis.worker.logs.SandboxLog;
import dev.ignis.worker.runtimeapi.BodyBudget;
import dev.ignis.worker.runtimeapi.Invocation;
import dev.ignis.worker.runtimeapi.RuntimeApi;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One live sandbox as the worker tracks it: what its driver started, its Runtime API and its log.
 * State changes come from three threads (the invoking caller, the Runtime API, the driver's exit
 * callback); each field below says who writes it.
 */
final class LiveSandbox {
    final SandboxSpec spec;
    final String logStream;
    final Endpoint runtimeApi;
    /** set once after start (creator thread) */
    volatile String id;
    volatile SandboxDriver.Sandbox started;
    volatile SandboxLog log;
    volatile SandboxHandle handle;
    /** init error body (creator thread), null when init succeeded */
    volatile byte[] initError;
    volatile String initErrorType;
    /** restored from a snapshot: its first REPORT says Restore Duration, not Init Duration (creator thread) */
    volatile boolean restored;
    /** true until the first invoke reported Init Duration (invoking thread) */
    volatile boolean firstInvoke = true;
    /** the exit, once the process tree ended (exit callback) */
    final AtomicReference<RuntimeEvent.Exited> exit = new AtomicReference<>();
    /** one invoke at a time (invoking thread) */
    final AtomicBoolean busy = new AtomicBoolean();
    /** the invocation in flight (invoking thread) */
    final AtomicReference<Invocation> inFlight = new AtomicReference<>();

    LiveSandbox(SandboxSpec spec, String logStream, Endpoint runtimeApi) {
        this.spec = spec;
        this.logStream = logStream;
        this.runtimeApi = runtimeApi;
    }

    RuntimeApi api() {
        return runtimeApi.api;
    }

    /** Called once when the sandbox's last process ended: records how, fails whatever was waiting on the runtime. */
    void exited(RuntimeEvent.Exited e) {
        if (!exit.compareAndSet(null, e)) {
            return;
        }
        api().close(new IllegalStateException("runtime exited: " + describeExit(e)));
        Invocation inv = inFlight.get();
        if (inv != null) {
            inv.result().complete(e);
        }
    }

    boolean dead() {
        return exit.get() != null;
    }

    /** AWS's error type for a runtime that exited: Runtime.OutOfMemory when its memory limit killed it, else Runtime.ExitError. */
    static String exitErrorType(RuntimeEvent.Exited e) {
        return e.outOfMemory() ? "Runtime.OutOfMemory" : "Runtime.ExitError";
    }

    /** Go-style wording AWS uses: "exit status 1", "signal: killed". */
    static String describeExit(RuntimeEvent.Exited e) {
        int v = e.exitValue();
        String how;
        if (v > 128 && v < 128 + 65) {
            how = "signal: " + switch (v - 128) {
                case 9 -> "killed";
                case 11 -> "segmentation fault";
                case 6 -> "aborted";
                case 15 -> "terminated";
                case 2 -> "interrupt";
                case 7 -> "bus error";
                default -> "signal " + (v - 128);
            };
        } else {
            how = "exit status " + v;
        }
        return e.outOfMemory() ? how + " (out of memory: the function exceeded its MemorySize)" : how;
    }

    /** The worker's side of this sandbox's Runtime API: the state machine now, the server once the driver listens. */
    static final class Endpoint implements SandboxDriver.RuntimeApiEndpoint {
        private final RuntimeApi api = new RuntimeApi();
        private final String name;
        private final BodyBudget budget;
        private final Duration readTimeout;
        private volatile RuntimeApiServer server;
        private boolean closed;

        Endpoint(String name, BodyBudget budget, Duration readTimeout) {
            this.name = name;
            this.budget = budget;
            this.readTimeout = readTimeout;
        }

        @Override
        public synchronized void listen(ServerSocketChannel listener) {
            if (server != null || closed) {
                try {
                    listener.close();
                } catch (java.io.IOException ignored) {
                    // refused anyway
                }
                throw new IllegalStateException(closed ? "the sandbox's Runtime API is closed" : "the Runtime API already listens");
            }
            server = new RuntimeApiServer(listener, api, name, budget, readTimeout);
        }

        /** The server, once listening (null before: a driver that never called listen). */
        RuntimeApiServer server() {
            return server;
        }

        @Override
        public synchronized void close() {
            closed = true;
            if (server != null) {
                server.close();
            }
        }
    }
}
