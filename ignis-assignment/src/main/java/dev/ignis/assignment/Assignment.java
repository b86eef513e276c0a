package dev.ignis.assignment;

import dev.ignis.worker.SandboxSpec;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The talk's assignment service: the table of sandboxes (idle, busy, creating) and leases on them.
 * A warm invoke leases an idle sandbox; with none idle, the assignment asks placement for a new one.
 * Each sandbox runs one invoke at a time.
 */
public interface Assignment extends AutoCloseable {

    /**
     * Leases an idle sandbox for the key, or creates one (cold start) from the spec.
     *
     * @param spec built only on the cold path (it unpacks code, resolves the runtime)
     */
    Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec);

    /**
     * As {@link #acquire(SandboxKey, Supplier)}, for one invoke's request id: an assignment that can
     * lose an answer (a leader dying after the lease committed) hands the same lease to a retry with
     * the same id instead of orphaning it.
     */
    default Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec, String requestId) {
        return acquire(key, spec);
    }

    /** Returns the sandbox to idle, or retires it when it cannot be reused (timeout, crash, OOM). */
    void release(Lease lease, boolean reusable);

    /** Retires idle sandboxes whose key matches (e.g. of a revision that is no longer current); busy ones are retired on release. */
    void retireWhere(Predicate<SandboxKey> stale);

    /** Counts for metrics and tests. */
    Stats stats();

    record Stats(int idle, int busy, long coldStarts, long warmStarts, long retired) {}

    /** Why sandboxes are retired, as metrics name it: a closed set, so the series stay bounded. */
    enum RetireCause {
        KEEP_ALIVE("keep-alive"), STALE_REVISION("stale-revision"), NOT_REUSABLE("not-reusable"), WORKER_LOST("worker-lost"),
        LEASE_EXPIRED("lease-expired"), CREATE_FAILED("create-failed"), SHUTDOWN("shutdown"),
        /** Idle, retired to make room on a worker that refused a new sandbox for capacity. */
        EVICTED("evicted"), OTHER("other");

        private final String label;

        RetireCause(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Live sandboxes (creating, idle, busy) per worker id and state, for metrics; read when scraped, not per invoke. */
    default java.util.Map<String, java.util.Map<String, Integer>> sandboxesByWorker() {
        return java.util.Map.of();
    }

    /** Sandboxes retired so far, by cause, for metrics. */
    default java.util.Map<RetireCause, Long> retirementsByCause() {
        return java.util.Map.of();
    }

    @Override
    void close();
}
