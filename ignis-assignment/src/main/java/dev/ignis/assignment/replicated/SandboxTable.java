package dev.ignis.assignment.replicated;

import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.SandboxRecord.Leased;
import dev.ignis.assignment.replicated.SandboxRecord.Released;
import dev.ignis.assignment.replicated.SandboxRecord.Retired;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxCreateFailed;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxCreated;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxRequested;
import dev.ignis.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable image of one partition's sandbox table (KRaft's {@code MetadataImage}). The only way to
 * get a different table is {@link #replay(SandboxRecord)}, used alike by the leader, by followers, by
 * snapshot loading and by recovery, so all of them agree.
 *
 * <p>Invariants, kept by replay whatever records arrive (tested by {@code SandboxTableSimulationTest}):
 * a sandbox is leased to at most one lease at a time; a record that does not fit the sandbox's
 * current state is ignored (counted in {@link Counts#ignored()}), so duplicate and stale records are
 * harmless; no sandbox is ever removed: a retired one stays, {@link State#RETIRED}.
 *
 * <p>Each replay copies the top-level maps (O(sandboxes)); fine for the few thousand sandboxes of one
 * partition, and it keeps readers on a never-changing object without locks.
 */
public final class SandboxTable {

    /** Where a sandbox is in its life. CREATING → IDLE ⇄ BUSY → RETIRED; CREATING → RETIRED on failure. */
    public enum State { CREATING, IDLE, BUSY, RETIRED }

    /**
     * One sandbox. {@code leaseId} is the current lease while BUSY, else 0, and {@code requestId} the
     * acquirer's request id for it (or null); {@code lastLeaseId} the latest lease it had;
     * {@code workerSandboxId} is null until the worker created it; {@code since} is when it entered its
     * state (keep-alive and the orphaned-lease reclaim use it).
     */
    public record Sandbox(String sandboxId, SandboxKey key, String workerId, int memoryMb, State state,
                          String workerSandboxId, long leaseId, String requestId, long lastLeaseId, Instant since,
                          String retiredReason) {
        Sandbox with(State newState, long newLease, String newRequest, Instant at, String reason) {
            return new Sandbox(sandboxId, key, workerId, memoryMb, newState, workerSandboxId, newLease, newRequest,
                    Math.max(lastLeaseId, newLease), at, reason);
        }

        Sandbox with(State newState, Instant at, String reason) {
            return with(newState, 0, null, at, reason);
        }
    }

    /** How many records of each kind took effect, and how many were ignored as stale or duplicate. */
    public record Counts(long requested, long created, long createFailed, long leased, long released,
                         long retired, long ignored) {
        static final Counts ZERO = new Counts(0, 0, 0, 0, 0, 0, 0);
    }

    public static final SandboxTable EMPTY = new SandboxTable(Map.of(), Map.of(), Map.of(), Map.of(), 0, Counts.ZERO);

    private final Map<String, Sandbox> sandboxes;
    /** Ids of IDLE sandboxes per key; derived from {@link #sandboxes}, kept for the warm path. */
    private final Map<SandboxKey, Set<String>> idle;
    /** Current leases: lease id → sandbox id (exactly the BUSY sandboxes). */
    private final Map<Long, String> leases;
    /** Request ids of current leases → sandbox id. */
    private final Map<String, String> requests;
    private final long maxLeaseId;
    private final Counts counts;

    private SandboxTable(Map<String, Sandbox> sandboxes, Map<SandboxKey, Set<String>> idle, Map<Long, String> leases,
                         Map<String, String> requests, long maxLeaseId, Counts counts) {
        this.sandboxes = sandboxes;
        this.idle = idle;
        this.leases = leases;
        this.requests = requests;
        this.maxLeaseId = maxLeaseId;
        this.counts = counts;
    }

    /**
     * The table after {@code r}; the same sandboxes (with {@code ignored} + 1) when {@code r} does not
     * fit: replaying any record a second time, at any later point, changes no sandbox.
     */
    public SandboxTable replay(SandboxRecord r) {
        Objects.requireNonNull(r, "record");
        final Sandbox s = sandboxes.get(r.sandboxId());
        return switch (r) {
            case SandboxRequested q -> s != null ? ignored(0)
                    : put(new Sandbox(q.sandboxId(), q.key(), q.workerId(), q.memoryMb(), State.CREATING, null, 0, null, 0, q.at(), null),
                    null, 0, bump(1, 0, 0, 0, 0, 0));
            case SandboxCreated c -> s == null || s.state() != State.CREATING ? ignored(0)
                    : put(new Sandbox(s.sandboxId(), s.key(), s.workerId(), s.memoryMb(), State.IDLE, c.workerSandboxId(), 0,
                    null, 0, c.at(), null), s, 0, bump(0, 1, 0, 0, 0, 0));
            case SandboxCreateFailed f -> s == null || s.state() != State.CREATING ? ignored(0)
                    : put(s.with(State.RETIRED, f.at(), "create failed: " + f.reason()), s, 0, bump(0, 0, 1, 0, 0, 0));
            // Lease ids are remembered even when the record is ignored, so a leader never reuses one.
            // Only an idle sandbox, and only with a lease id larger than any record ever carried (the
            // leader allocates them in increasing order): an old Leased replayed later, even one that
            // was ignored the first time, can never lease a sandbox that went idle since.
            // One request holds at most one lease at a time, so a retried acquire can adopt it.
            case Leased l -> s == null || s.state() != State.IDLE || l.leaseId() <= maxLeaseId
                    || (l.requestId() != null && requests.containsKey(l.requestId())) ? ignored(l.leaseId())
                    : put(s.with(State.BUSY, l.leaseId(), l.requestId(), l.at(), null), s, l.leaseId(), bump(0, 0, 0, 1, 0, 0));
            case Released rel -> s == null || s.state() != State.BUSY || s.leaseId() != rel.leaseId() ? ignored(0)
                    : rel.reusable()
                    ? put(s.with(State.IDLE, rel.at(), null), s, 0, bump(0, 0, 0, 0, 1, 0))
                    : put(s.with(State.RETIRED, rel.at(), "not reusable after lease " + rel.leaseId()), s, 0,
                    bump(0, 0, 0, 0, 1, 1));
            // A sandbox that never got created has nothing to retire on a worker but is still retired (final).
            case Retired t -> s == null || s.state() == State.RETIRED ? ignored(0)
                    : put(s.with(State.RETIRED, t.at(), t.reason()), s, 0, bump(0, 0, 0, 0, 0, 1));
        };
    }

    private Counts bump(long requested, long created, long failed, long leased, long released, long retired) {
        Counts c = counts;
        return new Counts(c.requested() + requested, c.created() + created, c.createFailed() + failed,
                c.leased() + leased, c.released() + released, c.retired() + retired, c.ignored());
    }

    private SandboxTable ignored(long seenLeaseId) {
        Counts c = counts;
        return new SandboxTable(sandboxes, idle, leases, requests, Math.max(maxLeaseId, seenLeaseId),
                new Counts(c.requested(), c.created(), c.createFailed(), c.leased(), c.released(), c.retired(), c.ignored() + 1));
    }

    /** Replaces {@code before} (null for a new sandbox) by {@code after} and fixes the derived indexes. */
    private SandboxTable put(Sandbox after, Sandbox before, long seenLeaseId, Counts newCounts) {
        Map<String, Sandbox> all = new HashMap<>(sandboxes);
        all.put(after.sandboxId(), after);
        Map<SandboxKey, Set<String>> newIdle = idle;
        boolean wasIdle = before != null && before.state() == State.IDLE;
        boolean isIdle = after.state() == State.IDLE;
        if (wasIdle != isIdle) {
            newIdle = new HashMap<>(idle);
            Set<String> ids = new HashSet<>(newIdle.getOrDefault(after.key(), Set.of()));
            if (isIdle) {
                ids.add(after.sandboxId());
            } else {
                ids.remove(after.sandboxId());
            }
            if (ids.isEmpty()) {
                newIdle.remove(after.key());
            } else {
                newIdle.put(after.key(), Collections.unmodifiableSet(ids));
            }
            newIdle = Collections.unmodifiableMap(newIdle);
        }
        Map<Long, String> newLeases = leases;
        long wasLease = before == null ? 0 : before.leaseId();
        if (wasLease != after.leaseId()) {
            newLeases = new HashMap<>(leases);
            if (wasLease != 0) {
                newLeases.remove(wasLease);
            }
            if (after.leaseId() != 0) {
                newLeases.put(after.leaseId(), after.sandboxId());
            }
            newLeases = Collections.unmodifiableMap(newLeases);
        }
        Map<String, String> newRequests = requests;
        String wasRequest = before == null ? null : before.requestId();
        if (!Objects.equals(wasRequest, after.requestId())) {
            newRequests = new HashMap<>(requests);
            if (wasRequest != null) {
                newRequests.remove(wasRequest);
            }
            if (after.requestId() != null) {
                newRequests.put(after.requestId(), after.sandboxId());
            }
            newRequests = Collections.unmodifiableMap(newRequests);
        }
        return new SandboxTable(Collections.unmodifiableMap(all), newIdle, newLeases, newRequests,
                Math.max(maxLeaseId, seenLeaseId), newCounts);
    }

    public Optional<Sandbox> sandbox(String sandboxId) {
        return Optional.ofNullable(sandboxes.get(sandboxId));
    }

    /** Every sandbox ever requested in this partition, retired ones included. */
    public Collection<Sandbox> sandboxes() {
        return sandboxes.values();
    }

    /** The sandbox currently leased to {@code leaseId}, if that lease is current. */
    public Optional<Sandbox> leaseHolder(long leaseId) {
        return Optional.ofNullable(leases.get(leaseId)).map(sandboxes::get);
    }

    /** The sandbox currently leased to the acquire with this request id, if any. */
    public Optional<Sandbox> requestHolder(String requestId) {
        return Optional.ofNullable(requests.get(requestId)).map(sandboxes::get);
    }

    /** Idle sandboxes of the key, most recently idle first (so the others age out under keep-alive). */
    public List<Sandbox> idle(SandboxKey key) {
        return idle.getOrDefault(key, Set.of()).stream().map(sandboxes::get)
                .sorted(Comparator.comparing(Sandbox::since).reversed().thenComparing(Sandbox::sandboxId))
                .toList();
    }

    /** Keys that have idle sandboxes. */
    public Set<SandboxKey> idleKeys() {
        return idle.keySet();
    }

    public int idleCount(SandboxKey key) {
        return idle.getOrDefault(key, Set.of()).size();
    }

    public int idleCount() {
        return idle.values().stream().mapToInt(Set::size).sum();
    }

    public int busyCount() {
        return leases.size();
    }

    public long count(State state) {
        return sandboxes.values().stream().filter(s -> s.state() == state).count();
    }

    /** The largest lease id any Leased record carried; only a Leased with a larger one can take effect. */
    public long maxLeaseId() {
        return maxLeaseId;
    }

    public Counts counts() {
        return counts;
    }

    /** The snapshot form: the sandboxes as a list (JSON maps cannot have record keys) plus the counters. */
    record Image(List<Sandbox> sandboxes, long maxLeaseId, Counts counts) {}

    /** Serializes the whole image (journal snapshots). */
    public byte[] toSnapshot() {
        List<Sandbox> list = sandboxes.values().stream().sorted(Comparator.comparing(Sandbox::sandboxId)).toList();
        try {
            return Json.mapper().writeValueAsBytes(new Image(list, maxLeaseId, counts));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write sandbox table snapshot", e);
        }
    }

    /** Rebuilds an image written by {@link #toSnapshot()}, derived indexes included; a clear error otherwise. */
    public static SandboxTable fromSnapshot(byte[] bytes) {
        final Image image;
        try {
            image = Json.mapper().readValue(bytes, Image.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable sandbox table snapshot: " + e.getMessage(), e);
        }
        if (image.sandboxes() == null || image.counts() == null) {
            throw new IllegalArgumentException("sandbox table snapshot lacks sandboxes or counts");
        }
        Map<String, Sandbox> all = new HashMap<>();
        Map<SandboxKey, Set<String>> idle = new HashMap<>();
        Map<Long, String> leases = new HashMap<>();
        Map<String, String> requests = new HashMap<>();
        for (Sandbox s : image.sandboxes()) {
            if (s.sandboxId() == null || s.state() == null || s.key() == null || all.put(s.sandboxId(), s) != null) {
                throw new IllegalArgumentException("sandbox table snapshot has a bad or duplicate sandbox: " + s);
            }
            if (s.state() == State.IDLE) {
                idle.computeIfAbsent(s.key(), k -> new HashSet<>()).add(s.sandboxId());
            }
            if (s.state() == State.BUSY && (s.leaseId() <= 0 || leases.put(s.leaseId(), s.sandboxId()) != null)) {
                throw new IllegalArgumentException("sandbox table snapshot leases lease " + s.leaseId() + " badly or twice");
            }
            if (s.requestId() != null && (s.state() != State.BUSY || requests.put(s.requestId(), s.sandboxId()) != null)) {
                throw new IllegalArgumentException("sandbox table snapshot holds request " + s.requestId() + " badly or twice");
            }
        }
        Map<SandboxKey, Set<String>> frozen = new HashMap<>();
        idle.forEach((k, v) -> frozen.put(k, Collections.unmodifiableSet(v)));
        return new SandboxTable(Collections.unmodifiableMap(all), Collections.unmodifiableMap(frozen),
                Collections.unmodifiableMap(leases), Collections.unmodifiableMap(requests), image.maxLeaseId(), image.counts());
    }

    /** Two tables are equal when they hold the same sandboxes in the same states with the same counters. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SandboxTable t && maxLeaseId == t.maxLeaseId && counts.equals(t.counts)
                && sandboxes.equals(t.sandboxes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sandboxes, maxLeaseId, counts);
    }

    @Override
    public String toString() {
        return "SandboxTable[sandboxes=" + sandboxes.size() + ", idle=" + idleCount() + ", busy=" + busyCount()
                + ", creating=" + count(State.CREATING) + ", maxLeaseId=" + maxLeaseId + ", " + counts + "]";
    }
}
