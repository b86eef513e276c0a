package dev.ignis.cluster;

import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.LongSupplier;

/**
 * The sandboxes a frontend owns between invokes: leases it got from the assignment leader and keeps,
 * idle, for its next invokes of the same key instead of releasing them after each one.
 *
 * <p>Design note (issue 19). A lease on the log is the right to send invokes to one sandbox; nothing
 * in that right says "one invoke". So the log records leases at the granularity of <em>ownership</em>:
 * the leader appends {@code Leased} when a frontend takes a sandbox and {@code Released} when the
 * frontend hands it back, and a warm invoke in between costs the frontend no call to the leader and
 * the journal no commit. The busy/idle truth stays safe: the sandbox is BUSY on the log for as long as
 * a frontend owns it, so the leader never leases it to anyone else (whichever member leads: the lease
 * is on the log and survives failover); inside the frontend an owned lease is handed to one invoke at a
 * time (taken from the deque atomically, put back when the invoke ends); and the worker refuses a
 * second concurrent invoke into one sandbox as a last guard.
 *
 * <p>What bounds the ownership: a lease idle here longer than {@code idleReturn} goes back to the
 * leader (so other frontends, keep-alive and capacity eviction see the sandbox idle again), and one
 * owned longer than {@code maxHold} is returned at its next release (or found by the next invoke) rather than reused, so a lease's
 * age on the log stays below the leader's orphan bound ({@code maxLease}, 960 s) by that margin plus
 * the longest invoke.
 */
final class OwnedLeases {
    /** One owned, idle lease. */
    private record Owned(Lease lease, long ownedSince, long idleSince) {}

    private final Duration idleReturn;
    private final Duration maxHold;
    private final LongSupplier nanos;
    private final Map<SandboxKey, Deque<Owned>> idle = new ConcurrentHashMap<>();
    /** When each lease this frontend holds (idle here or running an invoke) was leased by the leader. */
    private final Map<Long, Long> ownedSince = new ConcurrentHashMap<>();
    /** Owned too long, taken out of the idle deques by {@link #take}: to hand back at the next {@link #expired}. */
    private final java.util.Queue<Lease> due = new java.util.concurrent.ConcurrentLinkedQueue<>();

    OwnedLeases(Duration idleReturn, Duration maxHold, LongSupplier nanos) {
        this.idleReturn = Objects.requireNonNull(idleReturn, "idleReturn");
        this.maxHold = Objects.requireNonNull(maxHold, "maxHold");
        this.nanos = Objects.requireNonNull(nanos, "nanos");
        if (idleReturn.isNegative() || maxHold.isNegative()) {
            throw new IllegalArgumentException("idleReturn and maxHold must not be negative");
        }
    }

    /** Whether leases are kept at all (a zero hold turns ownership off: every invoke goes to the leader). */
    boolean enabled() {
        return !maxHold.isZero() && !idleReturn.isZero();
    }

    /** A lease the leader just granted: owned from now. */
    void granted(Lease lease) {
        if (enabled()) {
            ownedSince.put(lease.leaseId(), nanos.getAsLong());
        }
    }

    /**
     * An owned idle lease of the key for one invoke (warm: no init duration), or null. Each lease goes
     * to one caller: the deque hands it out once.
     */
    Lease take(SandboxKey key) {
        Deque<Owned> d = idle.get(key);
        if (d == null) {
            return null;
        }
        Owned o;
        while ((o = d.pollFirst()) != null && nanos.getAsLong() - o.ownedSince() >= maxHold.toNanos()) {
            due.add(o.lease()); // owned too long to start another invoke on: the returner hands it back
        }
        if (o == null) {
            return null;
        }
        Lease l = o.lease();
        return l.cold() ? new Lease(l.leaseId(), l.sandboxId(), l.worker(), l.key(), null) : l;
    }

    /**
     * The invoke on this lease ended and the sandbox is reusable: keep it (true), or false when it has
     * been owned for {@code maxHold} (or is unknown here) and must go back to the leader now.
     */
    boolean keep(Lease lease) {
        Long since = ownedSince.get(lease.leaseId());
        long now = nanos.getAsLong();
        if (!enabled() || since == null || now - since >= maxHold.toNanos()) {
            ownedSince.remove(lease.leaseId());
            return false;
        }
        // most recently used first, so the extra sandboxes of a burst go idle and back to the leader
        Owned o = new Owned(lease, since, now);
        idle.compute(lease.key(), (k, d) -> { // atomic with the removal of an empty deque in expired()
            Deque<Owned> q = d != null ? d : new ConcurrentLinkedDeque<>();
            q.addFirst(o);
            return q;
        });
        return true;
    }

    /** The lease leaves this frontend (released to the leader, or its sandbox gone): no longer owned. */
    void forget(Lease lease) {
        ownedSince.remove(lease.leaseId());
    }

    /**
     * Removes and returns the idle leases to hand back to the leader: idle for {@code idleReturn}, or owned
     * for {@code maxHold}; every one when {@code all}.
     */
    List<Lease> expired(boolean all) {
        long now = nanos.getAsLong();
        List<Lease> out = new ArrayList<>();
        for (Lease l; (l = due.poll()) != null; ) {
            ownedSince.remove(l.leaseId());
            out.add(l);
        }
        for (Deque<Owned> d : idle.values()) {
            for (Owned o : d) {
                boolean due = all || now - o.idleSince() >= idleReturn.toNanos() || now - o.ownedSince() >= maxHold.toNanos();
                if (due && d.removeFirstOccurrence(o)) { // an invoke may have taken it meanwhile: then it is not ours to return
                    ownedSince.remove(o.lease().leaseId());
                    out.add(o.lease());
                }
            }
        }
        for (SandboxKey k : List.copyOf(idle.keySet())) {
            idle.computeIfPresent(k, (key, d) -> d.isEmpty() ? null : d);
        }
        return out;
    }

    /** The idle leases owned here now, changing nothing (for the simulation and metrics). */
    List<Lease> idleSnapshot() {
        List<Lease> out = new ArrayList<>(due);
        idle.values().forEach(d -> d.forEach(o -> out.add(o.lease())));
        return out;
    }

    /** Idle leases owned here now (for tests and metrics). */
    int idleCount() {
        return idle.values().stream().mapToInt(Deque::size).sum();
    }
}
