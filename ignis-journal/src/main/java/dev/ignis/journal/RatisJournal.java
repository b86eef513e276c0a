package dev.ignis.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.ExitUtils;

/**
 * A {@link Journal} that is one member of an Apache Ratis Raft group.
 *
 * <p>Appends are submitted straight to the local Raft server (no client library, no network hop to
 * ourselves) and are never forwarded: a follower answers {@link NotLeaderException} naming the leader
 * it knows, and the caller decides where to go. An append completes only after Ratis committed the
 * entry (fsync'ed on a majority) and this member's state machine applied it, so the caller can read
 * its own write from the state machine right away.
 *
 * <p>The state machine's {@code apply} and {@code leaderChanged} run on Ratis threads: they must not
 * block on this journal (no {@code append(..).join()} inside them), or the Raft server stalls.
 */
public final class RatisJournal implements Journal {

    /** A freshly elected leader is "not ready" until its first entry commits; retry that long. */
    private static final long NOT_READY_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final Executor RETRY_DELAY = CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS);
    private static final long SNAPSHOT_TIMEOUT_MS = 60_000;

    static {
        // Ratis calls System.exit(1) when its gRPC server cannot bind. A journal is a library inside a
        // bigger process (assignment, config store): it must fail the open() call, not kill the host.
        ExitUtils.disableSystemExit();
    }

    private final JournalConfig config;
    private final RaftServer server;
    private final RaftServer.Division division;
    private final RaftGroupId groupId;
    private final RaftPeerId selfId;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AutoCloseable peerWatch;

    private RatisJournal(JournalConfig config, RaftServer server, RaftGroupId groupId, RaftPeerId selfId)
            throws IOException {
        this.config = config;
        this.server = server;
        this.groupId = groupId;
        this.selfId = selfId;
        this.division = server.getDivision(groupId);
        // down: silent for two of the longest election timeouts (a live follower answers every heartbeat)
        this.peerWatch = PeerWatch.watch(config.groupName() + " on " + config.selfId(), this::followerSilence,
                config.electionTimeout().multipliedBy(4).plusMillis(500));
    }

    /**
     * Opens (creating or recovering, depending on what {@code storageDir} holds) one member of a group
     * and starts its Raft server. Returns without waiting for an election: with several peers a leader
     * needs a quorum, see {@link #awaitLeader(Duration)}. {@code sm} must start empty; it is rebuilt
     * from the latest snapshot and the log.
     */
    public static RatisJournal open(JournalConfig config, JournalStateMachine sm) {
        return open(config, sm, properties -> {});
    }

    /** As {@link #open(JournalConfig, JournalStateMachine)}, with extra Ratis settings (tests: tiny log segments). */
    static RatisJournal open(JournalConfig config, JournalStateMachine sm, Consumer<RaftProperties> tweak) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(sm, "sm");
        final RaftGroupId groupId = RaftGroupId.valueOf(config.groupUuid());
        final RaftPeerId selfId = RaftPeerId.valueOf(config.selfId());
        final List<RaftPeer> peers = config.peers().entrySet().stream()
                .map(e -> RaftPeer.newBuilder().setId(e.getKey()).setAddress(hostPort(e.getValue())).build())
                .toList();
        // Fail fast, before the state machine is touched, when the port is taken (the common mistake).
        checkBindable(config.selfAddress());
        final RaftProperties properties = RatisSettings.of(config);
        tweak.accept(properties);
        RaftServer server = null;
        try {
            server = RaftServer.newBuilder()
                    .setServerId(selfId)
                    .setGroup(RaftGroup.valueOf(groupId, peers))
                    .setProperties(properties)
                    .setStateMachine(new RaftStateMachineAdapter(sm, selfId))
                    // RECOVER formats the directory when it holds no group yet, so one option serves both.
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            return new RatisJournal(config, server, groupId, selfId);
        } catch (IOException e) {
            closeQuietly(server);
            throw new UncheckedIOException("cannot open journal " + config.groupName() + " in "
                    + config.storageDir(), e);
        } catch (RuntimeException e) {
            // e.g. Ratis's ExitException when the port was taken between the check and the bind.
            closeQuietly(server);
            throw new IllegalStateException("cannot open journal " + config.groupName() + " on "
                    + config.selfAddress() + "; discard the state machine, it may be half-restored", e);
        }
    }

    private static void checkBindable(InetSocketAddress address) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // as Netty's listener does, so TIME_WAIT leftovers do not count
            probe.bind(address);
        } catch (IOException e) {
            throw new AddressTaken(address, e);
        }
    }

    /** The journal's own address could not be bound; nothing was started or touched. */
    private static final class AddressTaken extends UncheckedIOException {
        AddressTaken(InetSocketAddress address, IOException cause) {
            super("journal address " + address + " is not available", cause);
        }
    }

    /**
     * Opens a one-member group on a free loopback port ({@link JournalConfig#singlePeer}) and waits
     * until it leads: the single-node default.
     */
    public static RatisJournal single(String groupName, Path storageDir, JournalStateMachine sm) {
        RatisJournal journal = null;
        for (int attempt = 1; journal == null; attempt++) {
            try {
                journal = open(JournalConfig.singlePeer(groupName, storageDir), sm);
            } catch (AddressTaken e) {
                // the free port found a moment ago was taken (e.g. by an outgoing connection): any other will do
                if (attempt == 5) {
                    throw e;
                }
            }
        }
        if (!journal.awaitLeader(Duration.ofSeconds(30))) {
            journal.close();
            throw new IllegalStateException("single-peer journal " + groupName + " did not elect itself in 30 s");
        }
        return journal;
    }

    @Override
    public CompletableFuture<Long> append(byte[] record) {
        Objects.requireNonNull(record, "record");
        if (closed.get()) {
            return CompletableFuture.failedFuture(new IllegalStateException("journal is closed"));
        }
        // Copy now: the caller may reuse its array before Ratis serializes it.
        return submit(ByteString.copyFrom(record), System.nanoTime() + NOT_READY_RETRY_NANOS);
    }

    private CompletableFuture<Long> submit(ByteString data, long retryUntil) {
        final RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(selfId)
                .setGroupId(groupId)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(data))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        final CompletableFuture<RaftClientReply> sent;
        try {
            sent = server.submitClientRequestAsync(request);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.handle((reply, error) -> {
            final Throwable failure = error != null ? unwrap(error) : reply.getException();
            if (failure == null) {
                return CompletableFuture.completedFuture(reply.getLogIndex());
            }
            if (failure instanceof org.apache.ratis.protocol.exceptions.NotLeaderException nle) {
                final RaftPeer hint = nle.getSuggestedLeader();
                return CompletableFuture.<Long>failedFuture(
                        new NotLeaderException(hint == null ? null : hint.getId().toString()));
            }
            if (failure instanceof org.apache.ratis.protocol.exceptions.LeaderSteppingDownException
                    || failure instanceof org.apache.ratis.protocol.exceptions.TransferLeadershipException) {
                // Refused before it was appended: this member is handing leadership over. Callers retry at the next leader.
                return CompletableFuture.<Long>failedFuture(new NotLeaderException(null));
            }
            // Not ready yet (a new leader applying its term's first entry), or its pending-request window is full
            // (Ratis refuses before appending): both are transient and nothing was written, so try again shortly.
            if ((failure instanceof LeaderNotReadyException
                    || failure instanceof org.apache.ratis.protocol.exceptions.ResourceUnavailableException)
                    && System.nanoTime() < retryUntil && !closed.get()) {
                return CompletableFuture.supplyAsync(() -> null, RETRY_DELAY)
                        .thenCompose(ignored -> submit(data, retryUntil));
            }
            return CompletableFuture.<Long>failedFuture(failure);
        }).thenCompose(f -> f);
    }

    @Override
    public boolean isLeader() {
        return !closed.get() && division.getInfo().isLeader();
    }

    /** The id of the leader this member currently knows, if any. */
    @Override
    public Optional<String> leaderId() {
        return Optional.ofNullable(division.getInfo().getLeaderId()).map(RaftPeerId::toString);
    }

    /**
     * Waits until this member is a leader ready to take appends (its first entry of the term applied);
     * false on timeout. {@code Duration.ZERO} checks once without waiting.
     */
    @Override
    public boolean awaitLeader(Duration timeout) {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!closed.get() && division.getInfo().isLeaderReady()) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Index of the last entry applied to this member's state machine. */
    @Override
    public long lastAppliedIndex() {
        return division.getInfo().getLastAppliedIndex();
    }

    /**
     * Whether this member has applied everything it knows to be committed, and knows a leader: false
     * while a new or restarted member is still catching up with its group.
     */
    @Override
    public boolean caughtUp() {
        return !closed.get() && division.getInfo().getLeaderId() != null
                && lastAppliedIndex() >= division.getRaftLog().getLastCommittedIndex();
    }

    @Override
    public Map<String, Duration> followerSilence() {
        if (closed.get() || !division.getInfo().isLeader()) {
            return Map.of();
        }
        var role = division.getInfo().getRoleInfoProto();
        if (!role.hasLeaderInfo()) {
            return Map.of();
        }
        Map<String, Duration> out = new TreeMap<>();
        for (var f : role.getLeaderInfo().getFollowerInfoList()) {
            out.put(f.getId().getId().toStringUtf8(), Duration.ofMillis(f.getLastRpcElapsedTimeMs()));
        }
        return out;
    }

    /** The configuration this member was opened with. */
    public JournalConfig config() {
        return config;
    }

    /**
     * Hands leadership to another member (on the leader; e.g. to drain this node before maintenance).
     * Returns once the target leads, or throws when it did not within the timeout.
     */
    @Override
    public void transferLeadership(String newLeader, Duration timeout) {
        if (closed.get()) {
            throw new IllegalStateException("journal is closed");
        }
        if (!config.peers().containsKey(newLeader)) {
            throw new IllegalArgumentException(newLeader + " is not a member of " + config.groupName());
        }
        final var request = new org.apache.ratis.protocol.TransferLeadershipRequest(clientId, selfId, groupId,
                callIds.incrementAndGet(), RaftPeerId.valueOf(newLeader), timeout.toMillis());
        final RaftClientReply reply;
        try {
            reply = server.transferLeadership(request);
        } catch (IOException e) {
            throw new UncheckedIOException("leadership transfer to " + newLeader + " failed", e);
        }
        if (!reply.isSuccess()) {
            throw new IllegalStateException("leadership transfer to " + newLeader + " failed: " + reply.getException(),
                    reply.getException());
        }
    }

    @Override
    public long snapshot() {
        if (closed.get()) {
            throw new IllegalStateException("journal is closed");
        }
        // creationGap 1: take one whenever anything was applied since the last image (Ratis defaults to 1024).
        final SnapshotManagementRequest request = SnapshotManagementRequest.newCreate(
                clientId, selfId, groupId, callIds.incrementAndGet(), SNAPSHOT_TIMEOUT_MS, 1);
        final RaftClientReply reply;
        try {
            reply = server.snapshotManagement(request);
        } catch (IOException e) {
            throw new UncheckedIOException("snapshot failed", e);
        }
        if (!reply.isSuccess()) {
            throw new IllegalStateException("snapshot failed", reply.getException());
        }
        return reply.getLogIndex();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                peerWatch.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            try {
                server.close();
            } catch (IOException e) {
                throw new UncheckedIOException("closing journal " + config.groupName(), e);
            }
        }
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String hostPort(InetSocketAddress a) {
        final String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static void closeQuietly(RaftServer server) {
        if (server != null) {
            try {
                server.close();
            } catch (IOException | RuntimeException ignored) {
                // Already failing; the original error is the one worth reporting.
            }
        }
    }
}
