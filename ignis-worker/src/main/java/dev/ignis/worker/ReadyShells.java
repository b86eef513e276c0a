package dev.ignis.worker;

import dev.ignis.worker.sandbox.Cgroups;
import dev.ignis.worker.sandbox.NetNamespaces;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandboxes set up before a function is assigned to them ("ready shells"): bwrap has made every
 * namespace, mount and limit, the process waits, unprivileged and confined, for the runtime's command
 * on its standard input. A cold start that finds one skips bwrap's setup (15-20 ms here) and only
 * mounts the function's code over the shell's empty {@code /var/task} and starts the runtime.
 *
 * <p>One shell is kept per kind of sandbox that cold-started recently — a kind being the runtime, the
 * memory size (the cgroup's limits) and the ephemeral storage size (the {@code /tmp} tmpfs) — for at
 * most {@link #KINDS} kinds; the least recently wanted kind's shell is discarded first. Shells are
 * started on the worker's owner thread (bwrap's {@code --die-with-parent} is tied to the thread that
 * forked it). A shell holds one uid, one network namespace and one cgroup until used or discarded.
 */
final class ReadyShells implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReadyShells.class);
    static final int KINDS = 4;

    /** What makes two sandboxes interchangeable before their code is known. */
    record Kind(String runtime, int memoryMb, int ephemeralStorageMb) {}

    /** A started, waiting sandbox; {@code slot} holds its {@code task} (shared mount) and {@code stage} directories. */
    record Shell(String id, Kind kind, Process process, NetNamespaces.Netns netns, Cgroups.Group cgroup, int uid, Path slot) {}

    interface Factory {
        Shell start(Kind kind) throws Exception;

        void discard(Shell shell);
    }

    private final Factory factory;
    private final ExecutorService owner;
    private final Map<Kind, Shell> ready = new LinkedHashMap<>(8, 0.75f, true);
    private boolean closed;

    ReadyShells(Factory factory, ExecutorService owner) {
        this.factory = factory;
        this.owner = owner;
    }

    /** The ready shell of this kind, or null. */
    Shell take(Kind kind) {
        Shell s;
        synchronized (this) {
            s = ready.remove(kind);
        }
        if (s != null && !s.process().isAlive()) {
            factory.discard(s);
            s = null;
        }
        return s;
    }

    /** Starts a shell of this kind (on the owner thread, unless one is ready): for the next cold start like it. */
    void want(Kind kind) {
        try {
            owner.execute(() -> {
                synchronized (this) {
                    if (closed || ready.containsKey(kind)) {
                        return;
                    }
                }
                Shell s;
                try {
                    s = factory.start(kind);
                } catch (Exception e) {
                    LOG.warn("could not start a ready shell for {}: {}", kind, e.toString());
                    return;
                }
                List<Shell> evicted = new ArrayList<>();
                synchronized (this) {
                    if (closed) {
                        evicted.add(s);
                    } else {
                        ready.put(kind, s);
                        for (Iterator<Shell> it = ready.values().iterator(); ready.size() > KINDS && it.hasNext(); ) {
                            evicted.add(it.next());
                            it.remove();
                        }
                    }
                }
                evicted.forEach(factory::discard);
            });
        } catch (RejectedExecutionException closing) {
            // the worker is closing
        }
    }

    /** Shells waiting now (diagnostics and tests). */
    synchronized int size() {
        return ready.size();
    }

    @Override
    public void close() {
        List<Shell> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(ready.values());
            ready.clear();
        }
        all.forEach(factory::discard);
    }
}
