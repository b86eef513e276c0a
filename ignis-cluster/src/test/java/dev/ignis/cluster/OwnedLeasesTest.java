package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.worker.Worker;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A frontend owns the sandboxes it leased between invokes (issue 19): warm invokes cost no call to the
 * assignment leader, each owned lease serves one invoke at a time, and idle or old ones go back.
 */
class OwnedLeasesTest {
    static final SandboxKey KEY = new SandboxKey("111122223333", "f", "$LATEST", "r1");
    final WorkerRpcTest.RecordingWorker worker = new WorkerRpcTest.RecordingWorker();
    final AtomicLong now = new AtomicLong();

    Lease lease(long id) {
        return new Lease(id, "sb-" + id, worker, KEY, Duration.ofMillis(5));
    }

    @Test
    void aKeptLeaseServesTheNextInvokeWarmAndOnlyOneInvokeAtATime() throws Exception {
        var owned = new OwnedLeases(Duration.ofSeconds(1), Duration.ofSeconds(30), now::get);
        assertThat(owned.take(KEY)).isNull();
        Lease l = lease(1);
        owned.granted(l);
        assertThat(owned.keep(l)).isTrue();
        // eight invokes race for the one idle sandbox: exactly one gets it
        List<Lease> got = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                Lease t = owned.take(KEY);
                if (t != null) {
                    got.add(t);
                }
            }));
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        assertThat(got).hasSize(1);
        assertThat(got.getFirst().leaseId()).isEqualTo(1);
        assertThat(got.getFirst().cold()).as("a reused sandbox is a warm start").isFalse();
        assertThat(owned.take(KEY)).as("busy: nobody else gets it until it is kept again").isNull();
        assertThat(owned.take(new SandboxKey("111122223333", "f", "$LATEST", "r2"))).as("another revision").isNull();
    }

    @Test
    void idleLeasesGoBackAfterTheReturnPeriodAndOldOnesAtTheirNextRelease() {
        var owned = new OwnedLeases(Duration.ofSeconds(1), Duration.ofSeconds(30), now::get);
        Lease a = lease(1);
        Lease b = lease(2);
        owned.granted(a);
        owned.granted(b);
        owned.keep(a);
        now.addAndGet(Duration.ofMillis(600).toNanos());
        owned.keep(b);
        assertThat(owned.expired(false)).isEmpty();
        now.addAndGet(Duration.ofMillis(500).toNanos()); // a idle 1.1 s, b 0.5 s
        assertThat(owned.expired(false)).extracting(Lease::leaseId).containsExactly(1L);
        assertThat(owned.idleCount()).isEqualTo(1);
        // b keeps serving, but once owned 30 s it is not kept at its release: it goes back to the leader
        Lease t = owned.take(KEY);
        assertThat(t.leaseId()).isEqualTo(2);
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertThat(owned.keep(t)).isFalse();
        assertThat(owned.idleCount()).isZero();
        // a lease taken by an invoke is never returned under it
        Lease c = lease(3);
        owned.granted(c);
        owned.keep(c);
        Lease running = owned.take(KEY);
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(owned.expired(true)).isEmpty();
        assertThat(owned.keep(running)).isTrue();
        assertThat(owned.expired(true)).extracting(Lease::leaseId).containsExactly(3L);
    }

    @Test
    void aZeroHoldKeepsNothingAndBadDurationsAreRefused() {
        var off = new OwnedLeases(Duration.ofSeconds(1), Duration.ZERO, now::get);
        Lease l = lease(1);
        off.granted(l);
        assertThat(off.enabled()).isFalse();
        assertThat(off.keep(l)).isFalse();
        assertThat(off.take(KEY)).isNull();
        assertThatThrownBy(() -> new OwnedLeases(Duration.ofSeconds(-1), Duration.ofSeconds(1), now::get))
                .isInstanceOf(IllegalArgumentException.class);
        // a lease this frontend never recorded as granted is not kept (it goes to the leader)
        var on = new OwnedLeases(Duration.ofSeconds(1), Duration.ofSeconds(30), now::get);
        assertThat(on.keep(lease(9))).isFalse();
    }

    /** The assignment behind the endpoint: counts the calls that reach it. */
    static final class CountingAssignment implements Assignment {
        final AtomicInteger acquires = new AtomicInteger();
        final AtomicInteger releases = new AtomicInteger();
        final Map<Long, Boolean> released = new ConcurrentHashMap<>();
        final AtomicLong ids = new AtomicLong();
        final Worker worker;

        CountingAssignment(Worker worker) {
            this.worker = worker;
        }

        @Override
        public Lease acquire(SandboxKey key, Supplier<dev.ignis.worker.SandboxSpec> spec) {
            acquires.incrementAndGet();
            long id = ids.incrementAndGet();
            return new Lease(id, "sb-" + id, worker, key, id == 1 ? Duration.ofMillis(40) : null);
        }

        @Override
        public void release(Lease lease, boolean reusable) {
            releases.incrementAndGet();
            released.put(lease.leaseId(), reusable);
        }

        @Override
        public void retireWhere(Predicate<SandboxKey> stale) {}

        @Override
        public Stats stats() {
            return new Stats(0, 0, 0, 0, 0);
        }

        @Override
        public void close() {}
    }

    @Test
    void overTheWireAWarmInvokeCallsTheLeaderOnceAndTheSandboxGoesBackWhenIdle(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        var node = new Topology.Node("n1", Set.of(Topology.Role.values()), "127.0.0.1", port, 7000, 0);
        var topology = new Topology(1, Topology.Mode.IN_MEMORY, dir, List.of(node));
        var behind = new CountingAssignment(worker);
        try (var endpoint = new AssignmentEndpoint("n1", p -> behind, id -> worker, Map.of());
             var server = Rpc.serve(new InetSocketAddress("127.0.0.1", port), List.of(endpoint));
             var channels = new Rpc.Channels();
             var leaders = new LeaderWatch(List.of(node), channels)) {
            var remote = new RemoteAssignment(topology, channels, leaders, id -> worker, Duration.ofMillis(300), Duration.ofSeconds(30));
            Supplier<dev.ignis.worker.SandboxSpec> spec = () -> WorkerRpcTest.spec(128);
            Lease first = remote.acquire(KEY, spec, "req-1");
            assertThat(first.cold()).isTrue();
            remote.release(first, true);
            for (int i = 2; i <= 50; i++) {
                Lease l = remote.acquire(KEY, spec, "req-" + i);
                assertThat(l.leaseId()).isEqualTo(first.leaseId());
                assertThat(l.cold()).isFalse();
                remote.release(l, true);
            }
            assertThat(behind.acquires).as("acquires that reached the leader for 50 sequential invokes").hasValue(1);
            assertThat(behind.releases).hasValue(0);
            assertThat(remote.ownedInvokes()).isEqualTo(49);
            // idle past the return period: handed back to the leader, reusable
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (behind.releases.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(behind.released).containsExactly(Map.entry(first.leaseId(), true));
            // the next invoke leases again; a sandbox that is not reusable goes back at once, not kept
            Lease again = remote.acquire(KEY, spec, "req-51");
            assertThat(behind.acquires).hasValue(2);
            remote.release(again, false);
            assertThat(behind.released).containsEntry(again.leaseId(), false);
            Lease third = remote.acquire(KEY, spec, "req-52");
            assertThat(third.leaseId()).isNotEqualTo(again.leaseId());
            remote.release(third, true);
            remote.close(); // a frontend that stops hands back what it owns
            assertThat(behind.released).containsEntry(third.leaseId(), true);
        }
    }
}
