package dev.ignis.worker;

import dev.ignis.runtimes.RuntimeDefinition;
import dev.ignis.worker.runtimeapi.RuntimeEvent;
import java.io.InputStream;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * How a worker gets sandboxes: the {@code process} driver ({@link BubblewrapDriver}: bubblewrap, cgroups, a network
 * namespace) today, gVisor and microVM drivers next. The {@link SandboxWorker} keeps everything that is the same for
 * every driver — admission, the sandbox table, the Runtime API server and its state machine, invoke, deadlines,
 * outcomes, logs; a driver only makes an isolated place where the runtime runs, connects that place's
 * {@code 127.0.0.1:9001} to the worker's Runtime API, and takes it apart again.
 *
 * <h2>The contract</h2>
 * <ul>
 *   <li><b>{@link #start}</b> runs on a worker thread (one at a time per driver is not promised: starts may overlap).
 *       Before it returns, the runtime's command has been started with exactly {@link Start#environment()} (no
 *       variable of the host's) inside the isolation, with {@link Start#spec()}'s code read-only at
 *       {@code /var/task}, {@code MemorySize} as its memory limit (including the page cache it makes), an
 *       {@code /tmp} of {@code EphemeralStorage} MB, no network but its own loopback, and no uid or capability of
 *       the host's. Its {@code 127.0.0.1:9001} reaches {@link Start#runtimeApi()}: the driver calls
 *       {@link RuntimeApiEndpoint#listen} before the runtime can connect (the worker then owns that listener and
 *       closes it). {@code start} does not wait for init: the worker does, through the Runtime API.
 *       If {@code start} throws, the driver has given back everything it took for this start (the worker closes
 *       the Runtime API it listened on).</li>
 *   <li><b>Death.</b> {@link Sandbox#exit()} completes once, when the last process of the sandbox is gone,
 *       whatever the cause (the runtime exited, crashed, was OOM-killed — say so in
 *       {@link RuntimeEvent.Exited#outOfMemory()} — or was stopped). That is the only way the worker learns a
 *       sandbox died; it fails the invoke in flight with it. A driver must complete it even when nothing ever
 *       calls {@link Sandbox#stop()}.</li>
 *   <li><b>Stop and close.</b> The worker calls {@link Sandbox#stop()} (kill everything, return once
 *       {@link Sandbox#exit()} is complete or a bounded wait ran out; idempotent), then closes the Runtime API,
 *       then {@link Sandbox#close()} (give back every host resource: cgroup, namespace, uid, mounts, files;
 *       idempotent). A driver must not free a resource the Runtime API's listener lives in (a network namespace)
 *       before {@code close()}.</li>
 *   <li><b>Output.</b> {@link Sandbox#output()} is the runtime's stdout and stderr as one stream; the worker reads it
 *       until end of stream (bounded, as hostile input) and writes the function's log. It must end once the
 *       sandbox is stopped.</li>
 *   <li><b>{@link #close()}</b> comes after every sandbox was closed: give back what the driver holds on the host
 *       (warm pools, claims). A driver also cleans, when it opens, what a crashed earlier run of it left.</li>
 * </ul>
 * Nothing tenant-controlled reaches the host side of a start but the code directory (already checked by the worker to
 * be reachable by sandbox uids) and the environment (checked for NULs and '='): build the launcher's own arguments
 * and environment from a fixed template.
 */
public interface SandboxDriver extends AutoCloseable {

    /** The driver's name in configuration and logs: {@code process}, {@code gvisor}, {@code microvm}. */
    String name();

    /** Whether this host can run this driver's sandboxes now, and why not (no side effects; health probes call it). */
    Availability probe();

    /**
     * Whether {@link Sandbox}es of this driver can be snapshotted and restored (docs/snapshots.md): then the worker
     * starts a function's first sandbox with {@link #startSnapshottable}, calls {@link #snapshot} once its init is
     * done, and starts later sandboxes of the same function configuration with {@link #restore}.
     */
    boolean canSnapshot();

    /** Whether this driver holds a snapshot under {@code key} (the worker's key of one function configuration). */
    default boolean hasSnapshot(String key) {
        return false;
    }

    /** As {@link #start}, in a form {@link #snapshot} can save (the same contract otherwise). */
    default Sandbox startSnapshottable(Start start) {
        throw new UnsupportedOperationException(name() + " cannot snapshot");
    }

    /**
     * Saves {@code sandbox} (started by {@link #startSnapshottable}, its init done: its runtime's first {@code /next}
     * is waiting) under {@code key}; the sandbox then runs on and serves its invoke. A driver may decline quietly for
     * a sandbox it could not start snapshottable (it said why when it started it); {@link #hasSnapshot} then stays
     * false and a later cold start tries again.
     *
     * @throws IllegalStateException when no snapshot could be saved (the sandbox runs on if it still can)
     */
    default void snapshot(Sandbox sandbox, String key) {
        throw new UnsupportedOperationException(name() + " cannot snapshot");
    }

    /**
     * Starts a sandbox by restoring the snapshot {@code key} (the same contract as {@link #start}: the Runtime API is
     * listened on before the runtime runs on; the runtime's pending {@code /next} arrives anew once it is restored).
     *
     * @throws IllegalStateException when the restore failed; everything it took is given back
     */
    default Sandbox restore(Start start, String key) {
        throw new UnsupportedOperationException(name() + " cannot snapshot");
    }

    /** Drops the snapshot {@code key} (a restore of it failed, or it is no longer wanted). */
    default void dropSnapshot(String key) {
    }

    /**
     * Processes and threads of all this driver's sandboxes now, kept ones included: the worker's admission refuses a
     * start that would pass {@link WorkerCapacity#pids()}.
     */
    long pidsInUse();

    /**
     * Starts a sandbox and its runtime (see the class comment for what must hold when this returns).
     *
     * @throws WorkerAtCapacityException when the driver is out of something a sandbox needs (uids, slots): retryable
     * @throws IllegalStateException     when the start failed; everything it took is given back
     */
    Sandbox start(Start start);

    /** Gives back the driver's host resources; every sandbox was closed before. */
    @Override
    void close();

    /**
     * What the worker hands a driver for one start.
     *
     * @param spec        the function version (code directory, memory, ephemeral storage, runtime id)
     * @param runtime     the runtime's definition: its command, and what it needs of the host's file system
     * @param environment the runtime's whole environment ({@link SandboxEnvironment}); {@code AWS_LAMBDA_RUNTIME_API}
     *                    in it is {@code 127.0.0.1:9001}, which the driver must connect to {@code runtimeApi}
     * @param runtimeApi  where the runtime's Runtime API connections go
     */
    record Start(SandboxSpec spec, RuntimeDefinition runtime, Map<String, String> environment,
                 RuntimeApiEndpoint runtimeApi) {
        public Start {
            environment = Map.copyOf(environment);
        }

        /** The sandbox's memory limit in bytes ({@code MemorySize}). */
        public long memoryBytes() {
            return spec.memoryMb() * 1024L * 1024L;
        }

        /** The size of the sandbox's {@code /tmp} in bytes ({@code EphemeralStorage}). */
        public long ephemeralStorageBytes() {
            return spec.ephemeralStorageMb() * 1024L * 1024L;
        }
    }

    /**
     * The worker's side of one sandbox's Runtime API. The worker owns the server (the HTTP parser, the state
     * machine, the bounds against a hostile runtime); the driver owns the way there. The process driver opens a
     * TCP listener on {@code 127.0.0.1:9001} inside the sandbox's network namespace and hands it over; a driver
     * whose guest has its own network stack (gVisor's netstack, a VM) forwards the guest's 127.0.0.1:9001 to a
     * listener of its own on the host and hands that one over.
     */
    interface RuntimeApiEndpoint {
        /**
         * Serves the runtime's connections accepted on {@code listener} (a bound TCP listener; the server sets a
         * read timeout on each connection). Call at most once per start, before the runtime runs; from then on the
         * worker owns the listener and closes it before {@link Sandbox#close()}.
         */
        void listen(ServerSocketChannel listener);

        /**
         * Closes the server, its listener and every connection; returns once nothing holds the listener (so the
         * namespace it lives in can go to another sandbox). The worker calls it after {@link Sandbox#stop()}; a
         * driver whose start fails after {@link #listen} calls it before giving back that namespace. Idempotent.
         */
        void close();
    }

    /** One started sandbox, as its driver holds it: one {@link AutoCloseable} set of host resources. */
    interface Sandbox extends AutoCloseable {
        /** Unique on this worker's host while it lives ({@code sb-} and hex); the worker's sandbox id. */
        String id();

        /** {@link System#nanoTime()} when the runtime's own start began: Init Duration counts from here. */
        long runtimeStartedNanos();

        /** The runtime's stdout and stderr, one stream; ends when the sandbox's processes are gone. */
        InputStream output();

        /** Completes once, when the sandbox's last process is gone (see the class comment). */
        CompletableFuture<RuntimeEvent.Exited> exit();

        /** What the sandbox used; read after every invoke (REPORT's Max Memory Used), so keep it to one cheap read. */
        Stats stats();

        /** Kills every process of the sandbox; returns once {@link #exit()} is complete or a bounded wait ran out. */
        void stop();

        /** Gives back every host resource of the sandbox (after {@link #stop()} and the Runtime API's close). */
        @Override
        void close();
    }

    /**
     * A sandbox's use of its limits; a value the driver cannot tell is 0. The worker reads this after every invoke (the
     * REPORT line's Max Memory Used), so a count that costs more than one cheap read, such as {@code oomKills}, may stay
     * 0 while the sandbox lives: an OOM kill that ends the sandbox is said by {@link Sandbox#exit()}.
     */
    record Stats(long peakMemoryBytes, long oomKills) {}

    /** Whether a driver can run here. */
    sealed interface Availability {
        record Available() implements Availability {}

        /** @param why what is missing, said so an operator can fix it ("/usr/bin/bwrap is not installed") */
        record Unavailable(String why) implements Availability {}
    }
}
