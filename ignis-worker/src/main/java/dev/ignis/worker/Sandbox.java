package dev.ignis.worker;

import dev.ignis.worker.logs.SandboxLog;
import dev.ignis.worker.runtimeapi.Invocation;
import dev.ignis.worker.runtimeapi.RuntimeApiServer;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import dev.ignis.worker.sandbox.Cgroups;
import dev.ignis.worker.sandbox.NetNamespaces;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One live sandbox as the worker tracks it: its process, cgroup, namespace, Runtime API and log.
 * State changes come from three threads (the invoking caller, the Runtime API, the process-exit
 * callback); each field below says who writes it.
 */
final class Sandbox {
    final String id;
    final SandboxSpec spec;
    final NetNamespaces.Netns netns;
    final RuntimeApiServer server;
    final Cgroups.Group cgroup;
    final int uid;
    final String logStream;
    /** set once after start (creator thread) */
    volatile Process process;
    /** the ready shell's slot this sandbox started in (its code is mounted there), or null */
    volatile java.nio.file.Path slot;
    volatile SandboxLog log;
    volatile SandboxHandle handle;
    /** init error body (creator thread), null when init succeeded */
    volatile byte[] initError;
    volatile String initErrorType;
    /** true until the first invoke reported Init Duration (invoking thread) */
    volatile boolean firstInvoke = true;
    /** the exit, once the process tree ended (exit callback) */
    final AtomicReference<RuntimeEvent.Exited> exit = new AtomicReference<>();
    /** one invoke at a time (invoking thread) */
    final AtomicBoolean busy = new AtomicBoolean();
    /** the invocation in flight (invoking thread) */
    final AtomicReference<Invocation> inFlight = new AtomicReference<>();

    Sandbox(String id, SandboxSpec spec, NetNamespaces.Netns netns, RuntimeApiServer server, Cgroups.Group cgroup,
            int uid, String logStream) {
        this.id = id;
        this.spec = spec;
        this.netns = netns;
        this.server = server;
        this.cgroup = cgroup;
        this.uid = uid;
        this.logStream = logStream;
    }

    /** Called once when the bwrap process ends: records how, fails whatever was waiting on the runtime. */
    void exited(int exitValue) {
        RuntimeEvent.Exited e = new RuntimeEvent.Exited(exitValue, cgroup.oomKills() > 0);
        if (!exit.compareAndSet(null, e)) {
            return;
        }
        server.api().close(new IllegalStateException("runtime exited: " + describeExit(e)));
        Invocation inv = inFlight.get();
        if (inv != null) {
            inv.result().complete(e);
        }
    }

    boolean dead() {
        return exit.get() != null;
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
}
