package dev.ignis.cluster;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.Partitioning;
import dev.ignis.cluster.rpc.AcquireMsg;
import dev.ignis.cluster.rpc.AssignmentServiceGrpc;
import dev.ignis.cluster.rpc.LeaseMsg;
import dev.ignis.cluster.rpc.ReleaseMsg;
import dev.ignis.common.LambdaException;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assignment service as a frontend sees it: a partitioned table on other nodes. A warm invoke
 * first takes a sandbox this frontend already owns ({@link OwnedLeases}: a lease kept between invokes
 * and handed back after {@link #IDLE_RETURN} idle): no call at all. Otherwise the call goes
 * to the partition's leader (journal mode; learned by push) or to the partition's worker manager
 * (in-memory mode: the first live node in the partition's order). When that node refuses (not the
 * leader) or is unreachable (it died), the call is retried — with the same request id, so a lease
 * that committed before its leader died is handed over, not orphaned — until a new leader answers.
 */
public final class RemoteAssignment implements Assignment {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteAssignment.class);
    /**
     * How long a call keeps looking for a leader. Failover pauses are usually under a second, but under
     * CI load (seven JVMs on two cores) an election has once been seen to take over 15 s, the earlier
     * bound: the invoke waits rather than fails, below the AWS SDK's 30 s default socket timeout.
     */
    static final Duration RETRY_FOR = Duration.ofSeconds(25);
    /** A cold start is inside an acquire: give it room. */
    private static final long ACQUIRE_SECONDS = 300;

    private final Topology topology;
    private final Partitioning partitioning;
    private final Rpc.Channels channels;
    private final LeaderWatch leaders;
    private final Function<String, Worker> workers;
    private final List<Topology.Node> nodes;
    private final Map<String, Long> downUntil = new ConcurrentHashMap<>();
    /**
     * The spec message per key: a key names one revision of one version, whose spec never changes, so
     * it is built (and its code directory looked up on disk) once, not on every warm invoke.
     */
    private final Map<SandboxKey, dev.ignis.cluster.rpc.SandboxSpecMsg> specs = new ConcurrentHashMap<>();
    private static final int MAX_SPECS = 10_000;
    private final AtomicLong cold = new AtomicLong();
    private final AtomicLong warm = new AtomicLong();
    private final AtomicLong owned = new AtomicLong();
    /** An owned sandbox idle this long goes back to the leader, for the other frontends, keep-alive and eviction. */
    static final Duration IDLE_RETURN = Duration.ofSeconds(1);
    /**
     * An owned lease older than this goes back at its next release: with Lambda's 900 s longest invoke it
     * keeps every lease younger than the leader's orphan bound ({@code ReplicatedAssignment.DEFAULT_MAX_LEASE}, 960 s).
     */
    static final Duration MAX_HOLD = Duration.ofSeconds(30);
    private final OwnedLeases ownedLeases;
    private final java.util.concurrent.ScheduledExecutorService returner;

    public RemoteAssignment(Topology topology, Rpc.Channels channels, LeaderWatch leaders, Function<String, Worker> workers) {
        this(topology, channels, leaders, workers, IDLE_RETURN, MAX_HOLD);
    }

    /**
     * @param idleReturn how long an owned sandbox may sit idle at this frontend before it is released to the leader
     * @param maxHold    how long this frontend may own one lease; zero turns ownership off (every invoke
     *                   acquires and releases at the leader, the protocol before issue 19)
     */
    public RemoteAssignment(Topology topology, Rpc.Channels channels, LeaderWatch leaders, Function<String, Worker> workers,
                            Duration idleReturn, Duration maxHold) {
        this.ownedLeases = new OwnedLeases(idleReturn, maxHold, System::nanoTime);
        if (ownedLeases.enabled()) {
            long period = Math.max(50, idleReturn.toMillis() / 4);
            this.returner = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("lease-return").daemon().factory());
            returner.scheduleWithFixedDelay(() -> giveBack(false), period, period, TimeUnit.MILLISECONDS);
        } else {
            this.returner = null;
        }
        this.topology = topology;
        this.partitioning = new Partitioning(topology.partitions());
        this.channels = channels;
        this.leaders = leaders;
        this.workers = workers;
        this.nodes = topology.withRole(Topology.Role.ASSIGNMENT);
    }

    @Override
    public Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec) {
        return acquire(key, spec, UUID.randomUUID().toString());
    }

    @Override
    public Lease acquire(SandboxKey key, Supplier<SandboxSpec> spec, String requestId) {
        Lease mine = ownedLeases.take(key);
        if (mine != null) {
            owned.incrementAndGet();
            warm.incrementAndGet();
            return mine;
        }
        int p = partitioning.partitionOf(key);
        var specMsg = specs.get(key);
        if (specMsg == null) {
            if (specs.size() >= MAX_SPECS) {
                specs.clear(); // revisions come and go; a rebuild is cheap
            }
            specMsg = Messages.spec(spec.get());
            specs.put(key, specMsg);
        }
        var msg = AcquireMsg.newBuilder().setPartition(p).setKey(Messages.key(key)).setSpec(specMsg)
                .setRequestId(requestId == null ? UUID.randomUUID().toString() : requestId).build();
        LeaseMsg l = call(p, node -> AssignmentServiceGrpc.newBlockingStub(channels.to(node.rpcTarget()))
                .withDeadlineAfter(ACQUIRE_SECONDS, TimeUnit.SECONDS).acquire(msg));
        Worker w = workers.apply(l.getWorkerId());
        if (w == null) {
            throw LambdaException.service("assignment leased a sandbox on unknown worker " + l.getWorkerId());
        }
        (l.getCold() ? cold : warm).incrementAndGet();
        Lease lease = new Lease(l.getLeaseId(), l.getSandboxId(), w, key,
                l.getCold() ? Duration.ofNanos(l.getInitDurationNanos()) : null);
        ownedLeases.granted(lease);
        return lease;
    }

    /**
     * Ends an invoke on the lease: a reusable sandbox stays owned by this frontend for its next invokes
     * (no call); one that is not reusable, or owned for {@link #MAX_HOLD}, is released at the leader.
     */
    @Override
    public void release(Lease lease, boolean reusable) {
        if (reusable && ownedLeases.keep(lease)) {
            return;
        }
        ownedLeases.forget(lease);
        releaseAtLeader(lease, reusable);
    }

    /** Hands idle owned sandboxes back to their leaders (those idle for the return period, or all). */
    private void giveBack(boolean all) {
        try {
            for (Lease l : ownedLeases.expired(all)) {
                releaseAtLeader(l, true);
            }
        } catch (RuntimeException e) {
            LOG.warn("returning owned leases failed", e);
        }
    }

    /** Invokes served on a sandbox this frontend owned, without a call to the assignment leader. */
    public long ownedInvokes() {
        return owned.get();
    }

    private void releaseAtLeader(Lease lease, boolean reusable) {
        int p = partitioning.partitionOf(lease.key());
        var msg = ReleaseMsg.newBuilder().setReusable(reusable).setLease(LeaseMsg.newBuilder().setLeaseId(lease.leaseId())
                .setSandboxId(lease.sandboxId()).setWorkerId(lease.worker().workerId()).setKey(Messages.key(lease.key()))
                .setPartition(p)).build();
        try {
            call(p, node -> AssignmentServiceGrpc.newBlockingStub(channels.to(node.rpcTarget()))
                    .withDeadlineAfter(30, TimeUnit.SECONDS).release(msg));
        } catch (RuntimeException e) {
            // The invoke itself is done; the lease stays on the table until the leader's lease sweep retires it.
            LOG.warn("release of lease {} (sandbox {}) failed: {}", lease.leaseId(), lease.sandboxId(), e.toString());
        }
    }

    /** Stale revisions are retired by the assignment nodes themselves, from their own copy of the configuration. */
    @Override
    public void retireWhere(Predicate<SandboxKey> stale) {}

    /** This client's counts: leases it got cold and warm (idle/busy live on the assignment nodes). */
    @Override
    public Stats stats() {
        return new Stats(0, 0, cold.get(), warm.get(), 0);
    }

    /** Hands every owned sandbox back to its leader, so the others can use it at once. */
    @Override
    public void close() {
        if (returner != null) {
            returner.shutdownNow();
            giveBack(true);
        }
    }

    private <T> T call(int partition, Function<Topology.Node, T> rpc) {
        String group = Partitioning.groupName(partition);
        long deadline = System.nanoTime() + RETRY_FOR.toNanos();
        StatusRuntimeException last = null;
        for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
            Topology.Node node = target(partition, group, attempt);
            if (node == null) {
                pause(attempt);
                continue;
            }
            try {
                return rpc.apply(node);
            } catch (StatusRuntimeException e) {
                last = e;
                if (Rpc.isNotLeader(e)) {
                    String hint = Rpc.leaderHint(e);
                    leaders.forget(group, node.id());
                    leaders.learned(group, hint != null && !hint.equals(node.id()) ? hint : null);
                    if (hint == null || hint.equals(node.id())) {
                        pause(attempt);
                    }
                    continue;
                }
                if (Rpc.unreachable(e)) {
                    downUntil.put(node.id(), System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                    leaders.forget(group, node.id());
                    pause(attempt);
                    continue;
                }
                throw Rpc.local(e);
            }
        }
        throw LambdaException.service("assignment partition " + partition + " has no reachable leader"
                + (last == null ? "" : ": " + last.getStatus()));
    }

    /** Where to send a partition's call now. */
    private Topology.Node target(int partition, String group, int attempt) {
        if (topology.assignment() == Topology.Mode.JOURNAL) {
            var leader = leaders.leaderOf(group).flatMap(topology::node).filter(n -> !down(n));
            if (leader.isPresent()) {
                return leader.get();
            }
            // No leader known yet: ask the members in turn; a follower names the leader.
            List<Topology.Node> up = nodes.stream().filter(n -> !down(n)).toList();
            return up.isEmpty() ? null : up.get(attempt % up.size());
        }
        // In-memory worker managers: the partition's owner, or the next one while it is down.
        for (int i = 0; i < nodes.size(); i++) {
            Topology.Node n = nodes.get((partition + i) % nodes.size());
            if (!down(n)) {
                return n;
            }
        }
        return null;
    }

    private boolean down(Topology.Node n) {
        Long until = downUntil.get(n.id());
        return until != null && System.nanoTime() < until;
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(Math.min(200, 20L * (attempt + 1)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw LambdaException.service("interrupted while looking for the assignment leader");
        }
    }
}
