package dev.ignis.assignment.replicated;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.InMemoryAssignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.Placement;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.SandboxRecord.Leased;
import dev.ignis.assignment.replicated.SandboxRecord.Released;
import dev.ignis.assignment.replicated.SandboxRecord.Retired;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxCreateFailed;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxCreated;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxRequested;
import dev.ignis.assignment.replicated.SandboxTable.Sandbox;
import dev.ignis.assignment.replicated.SandboxTable.State;
import dev.ignis.journal.Journal;
import dev.ignis.journal.NotLeaderException;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.WorkerAtCapacityException;
import dev.ignis.worker.WorkerUnreachableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The talk's assignment service for one partition: the sandbox table lives in a replicated journal.
 * Only the leader appends and calls placement; followers apply the log into a read-only
 * {@link SandboxTable} ({@link #table()}); when the leader goes, a follower takes over with the table
 * intact and reuses the idle sandboxes it knows.
 *
 * <p>Threads (STYLE.md section 4): one event thread per partition decides every write (which idle
 * sandbox to lease, the next lease id, what to retire) and is the only caller of
 * {@link Journal#append}; it never blocks, appends are pipelined and their completions come back to
 * it. The table itself changes only on the journal's apply thread, by {@link SandboxTable#replay}.
 * Slow work (placement, {@code Worker.createSandbox}, {@code Worker.retire}) runs on the calling
 * thread, never on the event thread or a Ratis thread.
 *
 * <p>Leases are on the log: a lease is handed out only after its {@link Leased} record is committed
 * and this member's table shows the sandbox busy with exactly that lease. Since replay leases only
 * an idle sandbox, no sandbox can be leased twice, whichever member leads.
 */
public final class ReplicatedAssignment implements Assignment {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedAssignment.class);
    private static final long AWAIT_SECONDS = 30;
    /** Lambda's longest timeout (900 s) plus a margin: no live invoke holds a lease longer. */
    public static final Duration DEFAULT_MAX_LEASE = Duration.ofSeconds(960);

    private final Journal journal;
    private final SandboxStateMachine sm;
    private final Placement placement;
    private final Function<String, Worker> workers;
    private final Clock clock;
    private final Duration keepAlive;
    private final Duration maxLease;
    private final Supplier<Optional<String>> leaderHint;
    private final ExecutorService events;
    private final ScheduledExecutorService ticker;
    private final Semaphore creations;
    /** Creations this member is running right now (caller threads); a takeover must not fail them. */
    private final Set<String> inFlightCreates = ConcurrentHashMap.newKeySet();
    private final AtomicLong cold = new AtomicLong();
    private final AtomicLong warm = new AtomicLong();

    // Owned by the event thread: no other thread reads or writes these.
    /** Sandboxes with an append in flight that changes them; never picked for another lease meanwhile. */
    private final Set<String> reserved = new HashSet<>();
    private long lastLeaseId;
    private Predicate<SandboxKey> stale = k -> false;

    /**
     * @param journal   the partition's journal, opened with {@code sm}; owned by the caller (not closed here)
     * @param placement chooses the worker for a new sandbox; called only on the leader
     * @param workers   worker by id (null when unknown): leases of sandboxes created under another leader
     *                  need it; sandboxes on unknown workers are not leased
     * @param keepAlive idle sandboxes older than this are retired (by the leader)
     * @param maxLease  a lease held longer than this is presumed orphaned (its acquirer died with a leader
     *                  before learning it had it) and its sandbox is retired; must exceed the longest invoke
     * @param maxConcurrentCreates how many sandboxes this member may be creating at once
     */
    public ReplicatedAssignment(Journal journal, SandboxStateMachine sm, Placement placement,
                                Function<String, Worker> workers, Clock clock, Duration keepAlive, Duration maxLease,
                                int maxConcurrentCreates) {
        this.journal = Objects.requireNonNull(journal, "journal");
        this.sm = Objects.requireNonNull(sm, "sm");
        this.placement = Objects.requireNonNull(placement, "placement");
        this.workers = Objects.requireNonNull(workers, "workers");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.keepAlive = Objects.requireNonNull(keepAlive, "keepAlive");
        this.maxLease = Objects.requireNonNull(maxLease, "maxLease");
        if (keepAlive.isNegative() || keepAlive.isZero() || maxLease.isNegative() || maxLease.isZero()
                || maxConcurrentCreates < 1) {
            throw new IllegalArgumentException("keepAlive and maxLease must be positive, maxConcurrentCreates >= 1");
        }
        this.creations = new Semaphore(maxConcurrentCreates, true);
        this.leaderHint = journal::leaderId;
        this.events = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("assignment-events").daemon().factory());
        this.ticker = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("assignment-ticker").daemon().factory());
        long period = Math.max(100, Math.min(Math.min(keepAlive.toMillis(), maxLease.toMillis()) / 4, 10_000));
        ticker.scheduleWithFixedDelay(() -> post(this::sweep), period, period, TimeUnit.MILLISECONDS);
        sm.onLeaderChange(isLeader -> post(() -> leaderChanged(isLeader)));
        if (sm.leader()) {
            post(() -> leaderChanged(true));
        }
    }

    /**
     * As above, with {@link #DEFAULT_MAX_LEASE} and at most 2 × cores concurrent creations (as
     * {@link InMemoryAssignment}).
     */
    public ReplicatedAssignment(Journal journal, SandboxStateMachine sm, Placement placement,
                                Function<String, Worker> workers, Clock clock, Duration keepAlive) {
        this(journal, sm, placement, workers, clock, keepAlive, DEFAULT_MAX_LEASE,
                Math.max(2, 2 * Runtime.getRuntime().availableProcessors()));
    }

    /** This member's read-only replica of the table (current on the leader, a heartbeat behind on followers). */
    public SandboxTable table() {
        return sm.table();
    }

    /**
     * Whether this member leads its partition and is ready (its table holds every committed record):
     * only then does it acquire and release.
     */
    public boolean isLeader() {
        // sm.leader() turns true on "leader ready" (its first entry of the term applied); before that a
        // fresh leader's table may lack records committed by its predecessor.
        return journal.isLeader() && sm.leader();
    }

    /**
     * Leases an idle sandbox of the key, or has placement create one. Throws {@link NotLeaderException}
     * (with the leader's id when known) on a follower: route the call to that member.
     */
    @Override
    public Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec) {
        return acquire(key, spec, null);
    }

    /**
     * As {@link #acquire(SandboxKey, Supplier)}, idempotent per {@code requestId}: when an earlier
     * attempt with the same id got its lease committed but the answer was lost (its leader died), this
     * call returns that same lease instead of leaving it orphaned. The caller must not run two attempts
     * with one id at the same time: whoever holds the id holds the lease.
     *
     * @param requestId unique per invoke (e.g. the invoke's request id), or null
     */
    @Override
    public Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec, String requestId) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(spec, "spec");
        requireLeader();
        Lease lease = await(onEvents(() -> leaseIdle(key, requestId)));
        if (lease != null) {
            warm.incrementAndGet();
            return lease;
        }
        acquireCreationSlot();
        String sandboxId = null;
        try {
            // A sandbox may have become idle while we waited for a creation slot: take it instead.
            lease = await(onEvents(() -> leaseIdle(key, requestId)));
            if (lease != null) {
                warm.incrementAndGet();
                return lease;
            }
            final SandboxSpec s = spec.get();
            final Set<String> full = new HashSet<>();
            for (int unreachable = 0; ; ) {
                requireLeader(); // only the leader calls placement
                final Worker worker = placement.place(s, full);
                final String id = "sb-" + UUID.randomUUID();
                sandboxId = id;
                inFlightCreates.add(id);
                // Logged before the worker is called, so a new leader learns that the attempt happened.
                final var requested = new SandboxRequested(id, key, worker.workerId(), s.memoryMb(), clock.instant());
                await(onEvents(() -> append(requested)));
                final long start = System.nanoTime();
                final SandboxHandle handle;
                try {
                    handle = worker.createSandbox(s);
                } catch (RuntimeException e) {
                    try {
                        await(onEvents(() -> append(new SandboxCreateFailed(id, reason(e), clock.instant()))));
                    } catch (RuntimeException e2) {
                        e.addSuppressed(e2);
                        throw e;
                    }
                    inFlightCreates.remove(id);
                    if (e instanceof WorkerUnreachableException gone) {
                        placement.failedOn(worker, gone, ++unreachable); // the worker's host is gone: another worker takes it
                        continue;
                    }
                    if (e instanceof WorkerAtCapacityException) {
                        // nothing was created there: room is made by retiring its longest-idle sandbox (of any
                        // function); a worker with none idle is full, and when every worker is, 429
                        if (!evictIdleOn(worker)) {
                            full.add(worker.workerId());
                        }
                        continue;
                    }
                    throw e;
                }
                final Duration init = handle.initDuration() != null ? handle.initDuration()
                        : Duration.ofNanos(System.nanoTime() - start);
                // If this fails (leadership lost) the worker's sandbox is kept: the table may well record it
                // (the append can commit after all); retiring it could leave an idle entry with no sandbox.
                lease = await(onEvents(() -> created(id, key, worker, handle, init, requestId)));
                break;
            }
            cold.incrementAndGet();
            return lease;
        } finally {
            if (sandboxId != null) {
                inFlightCreates.remove(sandboxId);
            }
            creations.release();
        }
    }

    /**
     * Ends a lease: the sandbox goes back to idle, or is retired (and the worker told) when it is not
     * reusable or its key went stale. Any leader accepts the release of a lease granted by an earlier one.
     */
    @Override
    public void release(Lease lease, boolean reusable) {
        Objects.requireNonNull(lease, "lease");
        requireLeader();
        boolean retire = await(onEvents(() -> {
            Sandbox s = sm.table().leaseHolder(lease.leaseId()).orElseThrow(() -> new IllegalStateException(
                    "lease " + lease.leaseId() + " is not current (released twice, or its sandbox was retired)"));
            if (!s.workerSandboxId().equals(lease.sandboxId())) {
                // A lease of another partition (lease ids are per partition): never release a stranger's sandbox.
                throw new IllegalArgumentException("lease " + lease.leaseId() + " names sandbox " + lease.sandboxId()
                        + " but this partition leased " + s.workerSandboxId() + " under that id");
            }
            boolean reuse = reusable && !stale.test(s.key());
            return append(new Released(s.sandboxId(), lease.leaseId(), reuse, clock.instant())).thenApply(i -> !reuse);
        }));
        if (retire) {
            retireOnWorker(lease.worker(), lease.sandboxId());
        }
    }

    /**
     * Retires idle sandboxes of stale keys now (on the leader) and busy ones on release. Every member
     * keeps the predicate, so a new leader applies it too; it is not on the log (it derives from the
     * configuration every member already has).
     */
    @Override
    public void retireWhere(Predicate<SandboxKey> staleKeys) {
        Objects.requireNonNull(staleKeys, "staleKeys");
        await(onEvents(() -> {
            stale = staleKeys;
            return isLeader() ? retireIdle(s -> staleKeys.test(s.key()), "stale revision", true)
                    : CompletableFuture.completedFuture(null);
        }));
    }

    /**
     * Forgets idle sandboxes that the table places on {@code workerId} but the worker no longer holds
     * (it restarted, or lost them): their entries are retired on the log, so no invoke is sent to a
     * sandbox that is gone. Busy ones are left to their lease holder, whose invoke fails and releases
     * them as not reusable. Leader only; returns how many were retired.
     *
     * @param liveSandboxIds the worker's own sandbox ids, as it listed them just now
     */
    public int reconcile(String workerId, Set<String> liveSandboxIds) {
        Objects.requireNonNull(workerId, "workerId");
        Set<String> live = Set.copyOf(liveSandboxIds);
        return await(onEvents(() -> {
            requireLeader();
            int[] count = {0};
            CompletableFuture<Void> done = retireIdle(sb -> {
                boolean gone = sb.workerId().equals(workerId) && !live.contains(sb.workerSandboxId());
                count[0] += gone ? 1 : 0;
                return gone;
            }, "gone from worker " + workerId, false);
            return done.thenApply(v -> count[0]);
        }));
    }

    /** From this member's replica of the table (followers answer too): live sandboxes per worker and state. */
    @Override
    public Map<String, Map<String, Integer>> sandboxesByWorker() {
        Map<String, Map<String, Integer>> out = new java.util.HashMap<>();
        for (Sandbox s : sm.table().sandboxes()) {
            if (s.state() != SandboxTable.State.RETIRED) {
                out.computeIfAbsent(s.workerId(), w -> new java.util.HashMap<>())
                        .merge(s.state().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
            }
        }
        return out;
    }

    /** The table keeps each retired sandbox with its reason: counted by cause from the replica. */
    @Override
    public Map<RetireCause, Long> retirementsByCause() {
        Map<RetireCause, Long> out = new java.util.EnumMap<>(RetireCause.class);
        for (Sandbox s : sm.table().sandboxes()) {
            if (s.state() == SandboxTable.State.RETIRED) {
                out.merge(cause(s.retiredReason()), 1L, Long::sum);
            }
        }
        return out;
    }

    static RetireCause cause(String reason) {
        if (reason == null) {
            return RetireCause.OTHER;
        }
        if (reason.startsWith("keep-alive")) {
            return RetireCause.KEEP_ALIVE;
        }
        if (reason.startsWith("stale revision")) {
            return RetireCause.STALE_REVISION;
        }
        if (reason.startsWith("not reusable")) {
            return RetireCause.NOT_REUSABLE;
        }
        if (reason.startsWith("gone from worker")) {
            return RetireCause.WORKER_LOST;
        }
        if (reason.startsWith("lease ")) {
            return RetireCause.LEASE_EXPIRED;
        }
        if (reason.startsWith("create failed")) {
            return RetireCause.CREATE_FAILED;
        }
        if (reason.startsWith("evicted")) {
            return RetireCause.EVICTED;
        }
        return RetireCause.OTHER;
    }

    @Override
    public Stats stats() {
        SandboxTable t = sm.table();
        return new Stats(t.idleCount(), t.busyCount(), cold.get(), warm.get(), t.counts().retired());
    }

    /**
     * Stops this member's threads. Sandboxes are NOT retired and the journal is not closed: the table is
     * durable and the next leader keeps using those sandboxes — the point of this class.
     */
    @Override
    public void close() {
        ticker.shutdownNow();
        events.shutdown();
        try {
            if (!events.awaitTermination(5, TimeUnit.SECONDS)) {
                events.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            events.shutdownNow();
        }
    }

    // ---- event thread ------------------------------------------------------------------------

    private CompletableFuture<Lease> leaseIdle(SandboxKey key, String requestId) {
        requireLeader();
        if (requestId != null) {
            Optional<Sandbox> held = sm.table().requestHolder(requestId);
            if (held.isPresent()) {
                return CompletableFuture.completedFuture(adopt(held.get(), key));
            }
        }
        for (Sandbox s : sm.table().idle(key)) {
            if (reserved.contains(s.sandboxId())) {
                continue;
            }
            Worker w = workers.apply(s.workerId());
            if (w == null) {
                continue; // a worker this member cannot reach; leasing would strand the lease
            }
            return appendLease(s.sandboxId(), key, w, null, requestId);
        }
        return CompletableFuture.completedFuture(null);
    }

    /** A retried acquire whose first attempt's lease committed: hand over that lease. */
    private Lease adopt(Sandbox s, SandboxKey key) {
        if (!s.key().equals(key)) {
            throw new IllegalArgumentException("request " + s.requestId() + " already holds a lease for " + s.key()
                    + ", not " + key);
        }
        Worker w = workers.apply(s.workerId());
        if (w == null) {
            throw new IllegalStateException("request " + s.requestId() + " holds a sandbox on unknown worker " + s.workerId());
        }
        return new Lease(s.leaseId(), s.workerSandboxId(), w, key, null);
    }

    /** Records a fresh sandbox, then leases it to its creator (in that order: Leased applies only to idle ones). */
    private CompletableFuture<Lease> created(String id, SandboxKey key, Worker w, SandboxHandle h, Duration init,
                                             String requestId) {
        reserved.add(id); // idle once SandboxCreated commits, but it is ours
        return append(new SandboxCreated(id, h.sandboxId(), clock.instant())).handleAsync((i, e) -> {
            if (e != null) {
                reserved.remove(id);
                throw e instanceof CompletionException ce ? ce : new CompletionException(e);
            }
            return appendLease(id, key, w, init, requestId); // still reserved: no warm acquire can slip in between
        }, events).thenCompose(f -> f);
    }

    private CompletableFuture<Lease> appendLease(String sandboxId, SandboxKey key, Worker w, Duration init,
                                                 String requestId) {
        final long leaseId = Math.max(lastLeaseId, sm.table().maxLeaseId()) + 1;
        lastLeaseId = leaseId;
        reserved.add(sandboxId);
        return append(new Leased(sandboxId, leaseId, requestId, clock.instant())).handleAsync((index, error) -> {
            reserved.remove(sandboxId);
            if (error != null) {
                throw error instanceof CompletionException ce ? ce : new CompletionException(error);
            }
            // The lease is ours only if the committed table says so: the one check that makes a double
            // lease impossible, whatever the event thread believed when it picked the sandbox.
            Sandbox now = sm.table().sandbox(sandboxId).orElseThrow();
            if (now.state() != State.BUSY || now.leaseId() != leaseId) {
                throw new IllegalStateException("lease " + leaseId + " on " + sandboxId + " did not take effect; sandbox is "
                        + now.state() + (now.leaseId() != 0 ? " with lease " + now.leaseId() : ""));
            }
            return new Lease(leaseId, now.workerSandboxId(), w, key, init);
        }, events);
    }

    /**
     * Retires the longest-idle sandbox that the table places on {@code worker} (Retired committed first,
     * then the worker told, and waited for: its memory and pids are then free for admission). False when
     * the worker holds none idle.
     */
    private boolean evictIdleOn(Worker worker) {
        Sandbox victim = await(onEvents(() -> {
            requireLeader();
            Sandbox oldest = null;
            SandboxTable t = sm.table();
            for (SandboxKey key : t.idleKeys()) {
                for (Sandbox s : t.idle(key)) {
                    if (!reserved.contains(s.sandboxId()) && s.workerId().equals(worker.workerId())
                            && (oldest == null || s.since().isBefore(oldest.since()))) {
                        oldest = s;
                    }
                }
            }
            if (oldest == null) {
                return CompletableFuture.completedFuture(null);
            }
            final Sandbox v = oldest;
            reserved.add(v.sandboxId());
            return append(new Retired(v.sandboxId(), "evicted: worker " + worker.workerId() + " at capacity", clock.instant()))
                    .handleAsync((i, err) -> {
                        reserved.remove(v.sandboxId());
                        if (err != null) {
                            throw err instanceof CompletionException ce ? ce : new CompletionException(err);
                        }
                        return v;
                    }, events);
        }));
        if (victim == null) {
            return false;
        }
        retireOnWorker(worker, victim.workerSandboxId());
        return true;
    }

    /** Retires matching idle sandboxes: append Retired, then (if {@code tellWorker}) tell the worker. */
    private CompletableFuture<Void> retireIdle(Predicate<Sandbox> which, String reason, boolean tellWorker) {
        List<CompletableFuture<?>> done = new ArrayList<>();
        SandboxTable t = sm.table();
        for (SandboxKey key : t.idleKeys()) {
            for (Sandbox s : t.idle(key)) {
                if (reserved.contains(s.sandboxId()) || !which.test(s)) {
                    continue;
                }
                reserved.add(s.sandboxId());
                done.add(append(new Retired(s.sandboxId(), reason, clock.instant())).whenCompleteAsync((i, e) -> {
                    reserved.remove(s.sandboxId());
                    Worker w = tellWorker ? workers.apply(s.workerId()) : null;
                    if (e == null && w != null) {
                        Thread.ofVirtual().name("retire-" + s.sandboxId()).start(() -> retireOnWorker(w, s.workerSandboxId()));
                    }
                }, events));
            }
        }
        return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new));
    }

    private void sweep() {
        if (!isLeader()) {
            return;
        }
        Instant now = clock.instant();
        Instant cutoff = now.minus(keepAlive);
        retireIdle(s -> s.since().isBefore(cutoff), "keep-alive", true);
        // Orphaned leases: an acquire whose Leased committed while its leader died never reached its
        // caller, so nobody will release it. Retire (not reuse) the sandbox: if the holder is in fact
        // alive past every timeout, retiring is the safe side.
        Instant leaseCutoff = now.minus(maxLease);
        for (Sandbox s : sm.table().sandboxes()) {
            if (s.state() == State.BUSY && s.since().isBefore(leaseCutoff) && reserved.add(s.sandboxId())) {
                append(new Retired(s.sandboxId(), "lease " + s.leaseId() + " held longer than " + maxLease, now))
                        .whenCompleteAsync((i, e) -> {
                            reserved.remove(s.sandboxId());
                            Worker w = workers.apply(s.workerId());
                            if (e == null && w != null) {
                                Thread.ofVirtual().start(() -> retireOnWorker(w, s.workerSandboxId()));
                            }
                        }, events);
            }
        }
    }

    /**
     * Takes over (or steps down). A CREATING sandbox that this member is not creating was being created
     * by the previous leader, whose outcome is lost: it is marked failed (the worker-side sandbox, if
     * any, is an orphan for worker reconciliation, which is not built yet).
     */
    private void leaderChanged(boolean isLeader) {
        reserved.clear();
        if (!isLeader) {
            return;
        }
        for (Sandbox s : sm.table().sandboxes()) {
            if (s.state() == State.CREATING && !inFlightCreates.contains(s.sandboxId())) {
                append(new SandboxCreateFailed(s.sandboxId(), "creation outcome lost with the previous leader", clock.instant()));
            }
        }
        Predicate<SandboxKey> staleKeys = stale;
        retireIdle(s -> staleKeys.test(s.key()), "stale revision", true);
    }

    private CompletableFuture<Long> append(SandboxRecord record) {
        return journal.append(SandboxRecord.encode(record));
    }

    // ---- helpers ----------------------------------------------------------------------------

    private void post(Runnable r) {
        try {
            events.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.warn("assignment event failed", e);
                }
            });
        } catch (RejectedExecutionException closed) {
            // closing: nothing more to do
        }
    }

    private <T> CompletableFuture<T> onEvents(Supplier<CompletableFuture<T>> action) {
        return CompletableFuture.supplyAsync(action, events).thenCompose(f -> f);
    }

    private void requireLeader() {
        if (!isLeader()) {
            throw new NotLeaderException(leaderHint.get().orElse(null));
        }
    }

    private void acquireCreationSlot() {
        try {
            creations.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to create a sandbox", e);
        }
    }

    /** A short reason for the log (worker errors can be long). */
    private static String reason(Exception e) {
        String m = e.getClass().getSimpleName() + ": " + e.getMessage();
        return m.length() > 300 ? m.substring(0, 300) : m;
    }

    private static void retireOnWorker(Worker w, String workerSandboxId) {
        try {
            w.retire(workerSandboxId);
        } catch (RuntimeException e) {
            LOG.warn("retiring sandbox {} on worker {} failed", workerSandboxId, w.workerId(), e);
        }
    }

    /** Waits for a journal round trip; rethrows the cause itself (e.g. {@link NotLeaderException}). */
    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(AWAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            while (c instanceof CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("assignment journal call failed", c);
        } catch (TimeoutException e) {
            throw new IllegalStateException("assignment journal did not answer within " + AWAIT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the assignment journal", e);
        }
    }
}
