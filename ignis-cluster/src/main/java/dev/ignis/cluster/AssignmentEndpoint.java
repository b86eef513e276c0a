package dev.ignis.cluster;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.Lease;
import dev.ignis.cluster.rpc.AcquireMsg;
import dev.ignis.cluster.rpc.AssignmentServiceGrpc;
import dev.ignis.cluster.rpc.Empty;
import dev.ignis.cluster.rpc.LeadersMsg;
import dev.ignis.cluster.rpc.LeaseMsg;
import dev.ignis.cluster.rpc.ReleaseMsg;
import dev.ignis.worker.Worker;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * An assignment node's face to the frontends: acquire and release on a partition's table (a
 * follower refuses, naming its leader), and the leaders of every group this node takes part in,
 * pushed to each subscribed frontend when they change — so a frontend never looks a leader up on the
 * invoke path.
 */
public final class AssignmentEndpoint extends AssignmentServiceGrpc.AssignmentServiceImplBase implements AutoCloseable {
    private static final Duration LEADER_POLL = Duration.ofMillis(20);

    private final String nodeId;
    private final IntFunction<Assignment> partitions;
    private final Function<String, Worker> workers;
    private final Map<String, Supplier<Optional<String>>> leaderViews;
    private final Map<String, java.util.function.LongSupplier> appliedViews;
    private final java.util.function.BiConsumer<String, String> transfer;
    private final CopyOnWriteArrayList<ServerCallStreamObserver<LeadersMsg>> watchers = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("leader-push").daemon().factory());
    private volatile LeadersMsg current;

    /**
     * @param partitions  the assignment of a partition on this node (null when this node has none)
     * @param workers     worker by id (to rebuild a lease's worker on release)
     * @param leaderViews group → the leader this node sees now (Ratis's view; empty while unknown)
     * @param appliedViews group → the last log index this node applied
     * @param transfer     (group, new leader): hands a group this node leads to another member
     */
    public AssignmentEndpoint(String nodeId, IntFunction<Assignment> partitions, Function<String, Worker> workers,
                              Map<String, Supplier<Optional<String>>> leaderViews,
                              Map<String, java.util.function.LongSupplier> appliedViews,
                              java.util.function.BiConsumer<String, String> transfer) {
        this.transfer = transfer;
        this.appliedViews = Map.copyOf(appliedViews);
        this.nodeId = nodeId;
        this.partitions = partitions;
        this.workers = workers;
        this.leaderViews = Map.copyOf(leaderViews);
        this.current = snapshot();
        ticker.scheduleWithFixedDelay(this::pushIfChanged, LEADER_POLL.toMillis(), LEADER_POLL.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void acquire(AcquireMsg request, StreamObserver<LeaseMsg> out) {
        Rpc.unary(out, () -> {
            Assignment a = partition(request.getPartition());
            var spec = Messages.spec(request.getSpec());
            Lease lease = a.acquire(Messages.key(request.getKey()), () -> spec,
                    request.getRequestId().isEmpty() ? null : request.getRequestId());
            return LeaseMsg.newBuilder().setLeaseId(lease.leaseId()).setSandboxId(lease.sandboxId())
                    .setWorkerId(lease.worker().workerId()).setKey(request.getKey()).setPartition(request.getPartition())
                    .setCold(lease.cold()).setInitDurationNanos(lease.cold() ? lease.initDuration().toNanos() : 0).build();
        });
    }

    @Override
    public void release(ReleaseMsg request, StreamObserver<Empty> out) {
        Rpc.unary(out, () -> {
            LeaseMsg l = request.getLease();
            Assignment a = partition(l.getPartition());
            Worker w = workers.apply(l.getWorkerId());
            if (w == null) {
                throw new IllegalArgumentException("unknown worker " + l.getWorkerId());
            }
            a.release(new Lease(l.getLeaseId(), l.getSandboxId(), w, Messages.key(l.getKey()), null), request.getReusable());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void watchLeaders(Empty request, StreamObserver<LeadersMsg> out) {
        var o = (ServerCallStreamObserver<LeadersMsg>) out;
        o.setOnCancelHandler(() -> watchers.remove(o));
        synchronized (this) {
            o.onNext(current);
            watchers.add(o);
        }
    }

    @Override
    public void status(Empty request, StreamObserver<LeadersMsg> out) {
        Rpc.unary(out, () -> {
            var b = snapshot().toBuilder();
            appliedViews.forEach((group, applied) -> b.putApplied(group, applied.getAsLong()));
            return b.build();
        });
    }

    @Override
    public void transferLeadership(dev.ignis.cluster.rpc.TransferMsg request, StreamObserver<Empty> out) {
        Rpc.unary(out, () -> {
            transfer.accept(request.getGroup(), request.getTo());
            return Empty.getDefaultInstance();
        });
    }

    private Assignment partition(int p) {
        Assignment a = partitions.apply(p);
        if (a == null) {
            throw Status.NOT_FOUND.withDescription("node " + nodeId + " holds no partition " + p).asRuntimeException();
        }
        return a;
    }

    private LeadersMsg snapshot() {
        Map<String, String> leaders = new TreeMap<>();
        leaderViews.forEach((group, view) -> view.get().ifPresent(id -> leaders.put(group, id)));
        return LeadersMsg.newBuilder().setNodeId(nodeId).putAllLeaders(leaders).build();
    }

    private synchronized void pushIfChanged() {
        LeadersMsg next = snapshot();
        if (next.equals(current)) {
            return;
        }
        current = next;
        for (var w : watchers) {
            try {
                w.onNext(next);
            } catch (RuntimeException e) {
                watchers.remove(w);
            }
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        for (var w : watchers) {
            try {
                w.onCompleted();
            } catch (RuntimeException ignored) {
                // the subscriber went away first
            }
        }
        watchers.clear();
    }
}
