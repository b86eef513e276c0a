package dev.ignis.assignment.replicated;

import dev.ignis.assignment.Placement;
import dev.ignis.journal.JournalConfig;
import dev.ignis.journal.RatisJournal;
import dev.ignis.journal.SmallSegmentJournals;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One assignment partition of three members in this JVM: each a real {@link RatisJournal} (own port,
 * own directory) with its {@link SandboxStateMachine} and {@link ReplicatedAssignment}. The workers are
 * {@link CountingFakeWorker} test doubles shared by all members, as remote workers would be.
 */
final class AssignmentCluster implements AutoCloseable {

    /** Far above any lease these tests hold; the reclaim is tested with a controlled clock elsewhere. */
    static final Duration MAX_LEASE = Duration.ofMinutes(5);

    record Member(String id, RatisJournal journal, SandboxStateMachine sm, ReplicatedAssignment assignment) {}

    final Map<String, InetSocketAddress> peers = new TreeMap<>();
    final Map<String, Member> members = new ConcurrentHashMap<>();
    final List<CountingFakeWorker> workers = List.of(new CountingFakeWorker("w1"), new CountingFakeWorker("w2"));
    private final Map<String, Worker> workersById = Map.of("w1", workers.get(0), "w2", workers.get(1));
    private final AtomicInteger nextWorker = new AtomicInteger();
    /** Placement: round robin over the workers; every call is a placement call. */
    final Placement placement = spec -> workers.get(Math.floorMod(nextWorker.getAndIncrement(), workers.size()));
    private final Path root;
    private final List<Thread> closers = new ArrayList<>();

    /** Tiny log segments, so a snapshot purges the log (see {@code SmallSegmentJournals}). */
    private final boolean smallSegments;

    AssignmentCluster(Path root) {
        this(root, false);
    }

    AssignmentCluster(Path root, boolean smallSegments) {
        this.root = root;
        this.smallSegments = smallSegments;
        for (int i = 1; i <= 3; i++) {
            peers.put("n" + i, new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort()));
        }
    }

    void openAll() {
        peers.keySet().forEach(id -> open(id, root.resolve(id)));
    }

    /** (Re)opens a member on {@code dir} with an empty state machine: it rebuilds from snapshot + log. */
    Member open(String id, Path dir) {
        SandboxStateMachine sm = new SandboxStateMachine();
        // These tests are about what the table keeps across failovers, not election speed: with Ratis's 150 ms a box
        // running several builds (load ~24 on 2 cores) moved leadership by itself in the middle of a test's acquires
        // (NotLeaderException, 4 of 8 runs); 1 s as in KilledPeersTest's children.
        JournalConfig config = new JournalConfig("assignment-test", id, peers, dir).withAutoSnapshotEvery(0)
                .withElectionTimeout(Duration.ofSeconds(1));
        RatisJournal j = smallSegments ? SmallSegmentJournals.open(config, sm) : RatisJournal.open(config, sm);
        ReplicatedAssignment a = new ReplicatedAssignment(j, sm, placement, workersById::get, Clock.systemUTC(),
                Duration.ofMinutes(10), MAX_LEASE, 4);
        Member m = new Member(id, j, sm, a);
        members.put(id, m);
        return m;
    }

    Path dir(String id) {
        return root.resolve(id);
    }

    int creates() {
        return workers.stream().mapToInt(w -> w.creates.get()).sum();
    }

    int retires() {
        return workers.stream().mapToInt(w -> w.retires.get()).sum();
    }

    /** A member that leads and is ready for appends. */
    Member awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Member m : members.values()) {
                if (m.journal().awaitLeader(Duration.ZERO)) {
                    return m;
                }
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no leader within " + timeout);
    }

    Optional<Member> leader() {
        return members.values().stream().filter(m -> m.assignment().isLeader()).findFirst();
    }

    /**
     * Kills a member the way a host loss looks to the others: its assignment stops and its journal stops
     * leading at once; Ratis then needs ~1 s to finish closing, done in the background.
     */
    void kill(String id) {
        Member m = members.remove(id);
        m.assignment().close();
        Thread t = Thread.ofPlatform().start(() -> m.journal().close());
        synchronized (closers) {
            closers.add(t);
        }
    }

    void awaitClosed() throws InterruptedException {
        synchronized (closers) {
            for (Thread t : closers) {
                t.join();
            }
            closers.clear();
        }
    }

    static void await(Duration timeout, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    static SandboxSpec spec(String function, String version) {
        return new SandboxSpec("111111111111", "us-east-1", function,
                "arn:aws:lambda:us-east-1:111111111111:function:" + function, version, "rev-" + version,
                "python3.13", "app.handler", 256, 3, 512, Map.of(), Path.of("/nonexistent"));
    }

    @Override
    public void close() {
        List<Thread> all = new ArrayList<>();
        for (String id : List.copyOf(members.keySet())) {
            Member m = members.remove(id);
            m.assignment().close();
            all.add(Thread.ofPlatform().start(() -> m.journal().close()));
        }
        try {
            for (Thread t : all) {
                t.join();
            }
            awaitClosed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A free port below Linux's ephemeral range: members are restarted on their port, and a bind(0)
     * port could meanwhile become the local end of an outgoing connection (as in ignis-journal's tests).
     */
    private static int freePort() {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 20_000 + random.nextInt(12_000);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException taken) {
                // try another
            }
        }
        throw new UncheckedIOException(new IOException("no free port in 20000..32000"));
    }
}
