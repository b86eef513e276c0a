package dev.ignis.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.apache.ratis.conf.RaftProperties;

/** Several {@link RatisJournal} members of one group in this JVM, each on its own port and directory. */
final class TestCluster implements AutoCloseable {

    final Map<String, InetSocketAddress> peers = new TreeMap<>();
    final Map<String, RatisJournal> journals = new ConcurrentHashMap<>();
    final Map<String, RecordingStateMachine> machines = new ConcurrentHashMap<>();
    private final String group;
    private final Path root;
    private final Consumer<RaftProperties> tweak;

    TestCluster(String group, Path root, int size) {
        this(group, root, size, properties -> {});
    }

    TestCluster(String group, Path root, int size, Consumer<RaftProperties> tweak) {
        this.group = group;
        this.root = root;
        this.tweak = tweak;
        for (int i = 1; i <= size; i++) {
            peers.put("n" + i, new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort()));
        }
    }

    void openAll() {
        peers.keySet().forEach(this::open);
    }

    /** (Re)opens a member with a fresh, empty state machine. */
    RatisJournal open(String id) {
        final RecordingStateMachine sm = new RecordingStateMachine();
        final RatisJournal j = RatisJournal.open(
                new JournalConfig(group, id, peers, root.resolve(id)).withAutoSnapshotEvery(0), sm, tweak);
        machines.put(id, sm);
        journals.put(id, j);
        return j;
    }

    /** Where a member keeps its log and snapshots. */
    Path dirOf(String id) {
        return root.resolve(id);
    }

    void close(String id) {
        journals.remove(id).close();
    }

    /**
     * Starts closing a member and returns at once. The member stops leading at the start of close(),
     * but Ratis then needs up to a second to stop its log worker; failover is measured from here.
     */
    Thread closeInBackground(String id) {
        final RatisJournal j = journals.remove(id);
        return Thread.ofPlatform().start(j::close);
    }

    /** The id of a member that leads and is ready for appends (leadership may move while we wait). */
    String awaitLeader(Duration timeout) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<String, RatisJournal> e : journals.entrySet()) {
                if (e.getValue().awaitLeader(Duration.ZERO)) {
                    return e.getKey();
                }
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no leader within " + timeout);
    }

    static void await(Duration timeout, BooleanSupplier condition, String what) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Closes every open member in parallel (each Ratis close takes up to a second). */
    @Override
    public void close() {
        final List<Thread> closers = new ArrayList<>();
        for (String id : List.copyOf(journals.keySet())) {
            closers.add(Thread.ofPlatform().start(() -> close(id)));
        }
        for (Thread t : closers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A free port below Linux's ephemeral range (32768+). Members are restarted on their port; a port
     * from bind(0) can meanwhile be taken as the local end of some outgoing connection (even a
     * reconnect attempt to that very member), which makes the restart fail with EADDRINUSE.
     */
    static int freePort() {
        final java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 200; attempt++) {
            final int port = 20_000 + random.nextInt(12_000);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException taken) {
                // try another
            }
        }
        throw new UncheckedIOException(new IOException("no free port in 20000..32000"));
    }
}
