package dev.ignis.assignment;

import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.WorkerAtCapacityException;
import dev.ignis.worker.WorkerUnreachableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox table held in memory: the talk's original worker manager. Fast and simple, and it
 * loses every sandbox it tracked when its process dies. Idle sandboxes are retired after the
 * keep-alive; the most recently used idle sandbox is leased first (LIFO keeps the others ageing out).
 * A worker that refuses a new sandbox for capacity first gets room: its longest-idle sandbox is retired.
 */
public final class InMemoryAssignment implements Assignment {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryAssignment.class);

    private record Idle(SandboxHandle sandbox, Instant since) {}

    private record Live(SandboxHandle sandbox, Worker worker) {}

    private final Placement placement;
    private final Clock clock;
    private final Duration keepAlive;
    private final Map<SandboxKey, ArrayDeque<Idle>> idle = new HashMap<>();
    private final Map<Long, Lease> busy = new HashMap<>();
    /** Every live sandbox (idle or busy) and the worker that holds it. */
    private final Map<String, Live> live = new HashMap<>();
    /** Keys whose sandboxes must not return to idle (an older revision). */
    private volatile Predicate<SandboxKey> stale = k -> false;
    private final AtomicLong leaseIds = new AtomicLong();
    private final AtomicLong cold = new AtomicLong();
    private final AtomicLong warm = new AtomicLong();
    private final AtomicLong retired = new AtomicLong();
    private final Map<RetireCause, AtomicLong> retiredBy = new java.util.EnumMap<>(RetireCause.class);
    private final ScheduledExecutorService sweeper;
    private final java.util.concurrent.Semaphore creations;


    public InMemoryAssignment(Placement placement, Clock clock, Duration keepAlive) {
        this(placement, clock, keepAlive, Math.max(2, 2 * java.lang.Runtime.getRuntime().availableProcessors()));
    }

    /** @param maxConcurrentCreates how many sandboxes may be starting at once */
    public InMemoryAssignment(Placement placement, Clock clock, Duration keepAlive, int maxConcurrentCreates) {
        this.creations = new java.util.concurrent.Semaphore(maxConcurrentCreates, true);
        for (RetireCause c : RetireCause.values()) {
            retiredBy.put(c, new AtomicLong());
        }
        this.placement = placement;
        this.clock = clock;
        this.keepAlive = keepAlive;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("assignment-sweeper").daemon().factory());
        long period = Math.max(100, Math.min(keepAlive.toMillis() / 4, 10_000));
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec) {
        Lease warmLease = leaseIdle(key);
        if (warmLease != null) {
            return warmLease;
        }
        // Cold path. Creations are bounded: a burst of cold starts on a small host would otherwise
        // stretch every init past its timeout. A request waiting for a creation slot takes a
        // sandbox that became idle meanwhile instead of creating one.
        try {
            creations.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to create a sandbox", e);
        }
        SandboxHandle h;
        Worker w;
        try {
            warmLease = leaseIdle(key);
            if (warmLease != null) {
                return warmLease;
            }
            SandboxSpec s = spec.get();
            Set<String> full = new HashSet<>();
            for (int unreachable = 0; ; ) {
                w = placement.place(s, full);
                try {
                    h = w.createSandbox(s);
                    break;
                } catch (WorkerUnreachableException e) {
                    placement.failedOn(w, e, ++unreachable); // the worker's host is gone: another worker takes it
                } catch (WorkerAtCapacityException e) {
                    // nothing was created there: room is made by retiring its least recently used idle
                    // sandbox (of any function, as Lambda reclaims idle environments); a worker with none
                    // idle is full, and when every worker is, the client gets 429
                    if (!evictIdleOn(w)) {
                        full.add(w.workerId());
                    }
                }
            }
        } finally {
            creations.release();
        }
        cold.incrementAndGet();
        var lease = new Lease(leaseIds.incrementAndGet(), h.sandboxId(), w, key, h.initDuration());
        synchronized (this) {
            busy.put(lease.leaseId(), lease);
            live.put(h.sandboxId(), new Live(h, w));
        }
        return lease;
    }

    private synchronized Lease leaseIdle(SandboxKey key) {
        ArrayDeque<Idle> q = idle.get(key);
        Idle i = q == null ? null : q.pollLast();
        if (i == null) {
            return null;
        }
        warm.incrementAndGet();
        var lease = new Lease(leaseIds.incrementAndGet(), i.sandbox().sandboxId(), worker(i.sandbox()), key, null);
        busy.put(lease.leaseId(), lease);
        return lease;
    }

    /**
     * Retires the idle sandbox of {@code w} that has been idle longest, waiting until the worker has
     * let it go (its memory and pids are then free for admission). False when {@code w} holds none idle.
     */
    private boolean evictIdleOn(Worker w) {
        SandboxHandle victim = null;
        synchronized (this) {
            ArrayDeque<Idle> from = null;
            Idle oldest = null;
            for (ArrayDeque<Idle> q : idle.values()) {
                for (Idle i : q) { // oldest first in each queue
                    Live l = live.get(i.sandbox().sandboxId());
                    if (l != null && l.worker().workerId().equals(w.workerId())) {
                        if (oldest == null || i.since().isBefore(oldest.since())) {
                            oldest = i;
                            from = q;
                        }
                        break;
                    }
                }
            }
            if (oldest != null) {
                from.remove(oldest);
                idle.values().removeIf(ArrayDeque::isEmpty);
                victim = oldest.sandbox();
            }
        }
        if (victim == null) {
            return false;
        }
        retire(victim, RetireCause.EVICTED);
        return true;
    }

    private Worker worker(SandboxHandle h) {
        return live.get(h.sandboxId()).worker();
    }

    @Override
    public void release(Lease lease, boolean reusable) {
        synchronized (this) {
            if (busy.remove(lease.leaseId()) == null) {
                throw new IllegalStateException("lease " + lease.leaseId() + " released twice");
            }
            if (reusable && !stale.test(lease.key())) {
                Live l = live.get(lease.sandboxId());
                if (l != null) {
                    idle.computeIfAbsent(lease.key(), k -> new ArrayDeque<>()).addLast(new Idle(l.sandbox(), clock.instant()));
                    return;
                }
            }
            live.remove(lease.sandboxId());
        }
        retire(lease.worker(), lease.sandboxId(), !reusable ? RetireCause.NOT_REUSABLE
                : stale.test(lease.key()) ? RetireCause.STALE_REVISION : RetireCause.OTHER);
    }

    @Override
    public void retireWhere(Predicate<SandboxKey> staleKeys) {
        retireWhere(staleKeys, RetireCause.STALE_REVISION);
    }

    private void retireWhere(Predicate<SandboxKey> staleKeys, RetireCause cause) {
        this.stale = staleKeys;
        List<SandboxHandle> victims = new ArrayList<>();
        synchronized (this) {
            idle.entrySet().removeIf(e -> {
                if (staleKeys.test(e.getKey())) {
                    e.getValue().forEach(i -> victims.add(i.sandbox()));
                    return true;
                }
                return false;
            });
        }
        victims.forEach(h -> retire(h, cause));
    }

    private void sweep() {
        Instant cutoff = clock.instant().minus(keepAlive);
        List<SandboxHandle> victims = new ArrayList<>();
        synchronized (this) {
            for (var q : idle.values()) {
                while (!q.isEmpty() && q.peekFirst().since().isBefore(cutoff)) {
                    victims.add(q.pollFirst().sandbox());
                }
            }
            idle.values().removeIf(ArrayDeque::isEmpty);
        }
        victims.forEach(h -> retire(h, RetireCause.KEEP_ALIVE));
    }

    private void retire(SandboxHandle h, RetireCause cause) {
        Live l;
        synchronized (this) {
            l = live.remove(h.sandboxId());
        }
        if (l != null) {
            retire(l.worker(), h.sandboxId(), cause);
        }
    }

    private void retire(Worker w, String sandboxId, RetireCause cause) {
        retired.incrementAndGet();
        retiredBy.get(cause).incrementAndGet();
        try {
            w.retire(sandboxId);
        } catch (RuntimeException e) {
            LOG.warn("retiring sandbox {} failed", sandboxId, e);
        }
    }

    @Override
    public synchronized Stats stats() {
        int idleCount = idle.values().stream().mapToInt(ArrayDeque::size).sum();
        return new Stats(idleCount, busy.size(), cold.get(), warm.get(), retired.get());
    }

    @Override
    public synchronized Map<String, Map<String, Integer>> sandboxesByWorker() {
        Set<String> idleIds = new HashSet<>();
        idle.values().forEach(q -> q.forEach(i -> idleIds.add(i.sandbox().sandboxId())));
        Map<String, Map<String, Integer>> out = new HashMap<>();
        live.forEach((id, l) -> out.computeIfAbsent(l.worker().workerId(), w -> new HashMap<>())
                .merge(idleIds.contains(id) ? "idle" : "busy", 1, Integer::sum));
        return out;
    }

    @Override
    public Map<RetireCause, Long> retirementsByCause() {
        Map<RetireCause, Long> out = new java.util.EnumMap<>(RetireCause.class);
        retiredBy.forEach((c, n) -> out.put(c, n.get()));
        return out;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        retireWhere(k -> true, RetireCause.SHUTDOWN);
    }
}
