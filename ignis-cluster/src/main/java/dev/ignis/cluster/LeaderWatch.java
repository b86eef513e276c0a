package dev.ignis.cluster;

import dev.ignis.cluster.rpc.AssignmentServiceGrpc;
import dev.ignis.cluster.rpc.Empty;
import dev.ignis.cluster.rpc.LeadersMsg;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The leaders of every group as the cluster's nodes push them: one stream per node, no lookup on the
 * request path. A node's claim about itself wins over what others believe; a caller that meets a
 * follower anyway is told the leader and retries there ({@link #learned}).
 */
public final class LeaderWatch implements AutoCloseable {
    private final Map<String, LeadersMsg> views = new ConcurrentHashMap<>();
    private final Map<String, String> learned = new ConcurrentHashMap<>();
    private volatile Map<String, String> leaders = Map.of();
    private final ScheduledExecutorService retry =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("leader-watch").daemon().factory());
    private final Context.CancellableContext context = Context.current().withCancellation();
    private volatile boolean closed;

    /** Subscribes to every node (id → its rpc target) and keeps subscribing while closed is false. */
    public LeaderWatch(List<Topology.Node> nodes, Rpc.Channels channels) {
        for (Topology.Node n : nodes) {
            subscribe(n.id(), channels, n.rpcTarget());
        }
    }

    private void subscribe(String nodeId, Rpc.Channels channels, String target) {
        if (closed) {
            return;
        }
        var stub = AssignmentServiceGrpc.newStub(channels.to(target));
        context.run(() -> stub.watchLeaders(Empty.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(LeadersMsg m) {
                views.put(nodeId, m);
                recompute();
            }

            @Override
            public void onError(Throwable t) {
                again();
            }

            @Override
            public void onCompleted() {
                again();
            }

            private void again() {
                views.remove(nodeId);
                recompute();
                if (!closed) {
                    retry.schedule(() -> subscribe(nodeId, channels, target), 300, TimeUnit.MILLISECONDS);
                }
            }
        }));
    }

    private void recompute() {
        Map<String, String> next = new HashMap<>();
        for (LeadersMsg v : views.values()) {
            v.getLeadersMap().forEach(next::putIfAbsent);
        }
        for (LeadersMsg v : views.values()) {
            v.getLeadersMap().forEach((group, leader) -> {
                if (leader.equals(v.getNodeId())) {
                    next.put(group, leader); // the leader says so itself
                }
            });
        }
        learned.keySet().removeIf(g -> true); // a push supersedes what a refusal taught
        leaders = Map.copyOf(next);
    }

    /** The leader of a group as last pushed (or learned from a refusal), if any. */
    public Optional<String> leaderOf(String group) {
        String l = learned.get(group);
        return Optional.ofNullable(l != null ? l : leaders.get(group));
    }

    /** A follower named the leader when refusing a call: use it until the next push. */
    public void learned(String group, String leader) {
        if (leader != null) {
            learned.put(group, leader);
        }
    }

    /** Forgets a leader that did not answer (it died): the next push names its successor. */
    public void forget(String group, String leader) {
        learned.remove(group, leader);
        Map<String, String> l = new HashMap<>(leaders);
        if (l.remove(group, leader)) {
            leaders = Map.copyOf(l);
        }
    }

    /** How far each group's log is applied on a node (to tell when a new member has caught up). */
    public static Map<String, Long> appliedOn(Topology.Node node, Rpc.Channels channels) {
        try {
            return AssignmentServiceGrpc.newBlockingStub(channels.to(node.rpcTarget())).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .status(Empty.getDefaultInstance()).getAppliedMap();
        } catch (io.grpc.StatusRuntimeException e) {
            throw Rpc.local(e);
        }
    }

    /** Asks a group's leader to hand leadership to {@code to}; returns once it did. */
    public static void transferLeadership(Topology.Node leader, String group, String to, Rpc.Channels channels) {
        try {
            AssignmentServiceGrpc.newBlockingStub(channels.to(leader.rpcTarget())).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .transferLeadership(dev.ignis.cluster.rpc.TransferMsg.newBuilder().setGroup(group).setTo(to).build());
        } catch (io.grpc.StatusRuntimeException e) {
            throw Rpc.local(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        context.cancel(null);
        retry.shutdownNow();
    }
}
