package dev.ignis.cluster;

import dev.ignis.cluster.rpc.ConfigEntryMsg;
import dev.ignis.cluster.rpc.ControlServiceGrpc;
import dev.ignis.cluster.rpc.WatchConfigMsg;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import dev.ignis.journal.NotLeaderException;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A frontend's copy of the configuration: a read-only "journal" fed by a config node's log stream
 * (a snapshot, then every record in order) and applied to the same state machine — and so through the
 * same {@code replay} — as on the config nodes. When its node goes away it subscribes to the next one
 * and starts again from that node's snapshot. It never writes: frontends forward writes to the leader.
 */
public final class ConfigReplica implements Journal {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReplica.class);
    private final JournalStateMachine sm;
    private final List<Topology.Node> nodes;
    private final Rpc.Channels channels;
    private final String subscriber;
    private final ScheduledExecutorService retry =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("config-replica").daemon().factory());
    private final Object applied = new Object();
    private volatile long appliedIndex = -1;
    private volatile boolean closed;
    private volatile Context.CancellableContext current;

    public ConfigReplica(JournalStateMachine sm, List<Topology.Node> configNodes, Rpc.Channels channels, String subscriber) {
        this.sm = sm;
        this.nodes = List.copyOf(configNodes);
        this.channels = channels;
        this.subscriber = subscriber;
        subscribe(0);
    }

    private void subscribe(int attempt) {
        if (closed) {
            return;
        }
        Topology.Node node = nodes.get(attempt % nodes.size());
        var ctx = Context.current().withCancellation();
        current = ctx;
        var stub = ControlServiceGrpc.newStub(channels.to(node.rpcTarget()));
        ctx.run(() -> stub.watchConfig(WatchConfigMsg.newBuilder().setSubscriber(subscriber).build(), new StreamObserver<>() {
            @Override
            public void onNext(ConfigEntryMsg m) {
                // A node that lags behind the one before it starts with an older snapshot: keep what we have
                // and apply only the records after it.
                if (m.getIndex() <= appliedIndex) {
                    return;
                }
                if (m.hasSnapshot()) {
                    sm.restoreSnapshot(m.getSnapshot().toByteArray());
                } else {
                    sm.apply(m.getIndex(), m.getRecord().toByteArray());
                }
                synchronized (applied) {
                    appliedIndex = m.getIndex();
                    applied.notifyAll();
                }
            }

            @Override
            public void onError(Throwable t) {
                again(t.toString());
            }

            @Override
            public void onCompleted() {
                again("stream ended");
            }

            private void again(String why) {
                if (!closed) {
                    LOG.debug("config stream from {} ended ({}); subscribing to the next config node", node.id(), why);
                    retry.schedule(() -> subscribe(attempt + 1), 200, TimeUnit.MILLISECONDS);
                }
            }
        }));
    }

    /** The last index applied here; -1 before the first snapshot arrived. */
    public long appliedIndex() {
        return appliedIndex;
    }

    /** Waits until this copy holds index {@code index} (read-your-writes after a forwarded write). */
    public boolean awaitIndex(long index, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (applied) {
            while (appliedIndex < index) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(applied, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    @Override
    public CompletableFuture<Long> append(byte[] record) {
        return CompletableFuture.failedFuture(new NotLeaderException(null));
    }

    @Override
    public boolean isLeader() {
        return false;
    }

    @Override
    public long snapshot() {
        return appliedIndex;
    }

    @Override
    public void close() {
        closed = true;
        var c = current;
        if (c != null) {
            c.cancel(null);
        }
        retry.shutdownNow();
    }
}
