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
import dev.ignis.journal.Journal;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntFunction;

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
    private final Map<String, Journal> groups;
    private final CopyOnWriteArrayList<ServerCallStreamObserver<LeadersMsg>> watchers = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("leader-push").daemon().factory());
    private volatile LeadersMsg current;

    /**
     * @param partitions  the assignment of a partition on this node (null when this node has none)
     * @param workers     worker by id (to rebuild a lease's worker on release)
     * @param groups     the journal groups this node is a member of, by name: their leaders are pushed,
     *                   their applied index and silent members reported by {@code Status}, their
     *                   leadership handed over by {@code TransferLeadership}
     */
    public AssignmentEndpoint(String nodeId, IntFunction<Assignment> partitions, Function<String, Worker> workers,
                              Map<String, ? extends Journal> groups) {
        this.groups = Map.copyOf(groups);
        this.nodeId = nodeId;
        this.partitions = partitions;
        this.workers = workers;
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
            groups.forEach((group, j) -> {
                b.putApplied(group, j.lastAppliedIndex());
                j.followerSilence().forEach((member, silent) -> b.putSilentMs(group + " " + member, silent.toMillis()));
            });
            return b.build();
        });
    }

    @Override
    public void transferLeadership(dev.ignis.cluster.rpc.TransferMsg request, StreamObserver<Empty> out) {
        Rpc.unary(out, () -> {
            Journal j = groups.get(request.getGroup());
            if (j == null) {
                throw new IllegalArgumentException("node " + nodeId + " holds no group " + request.getGroup());
            }
            j.transferLeadership(request.getTo(), java.time.Duration.ofSeconds(10));
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
        groups.forEach((group, j) -> j.leaderId().ifPresent(id -> leaders.put(group, id)));
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
