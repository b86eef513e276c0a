package dev.ignis.assignment.replicated;

import static dev.ignis.assignment.replicated.AssignmentCluster.await;
import static dev.ignis.assignment.replicated.AssignmentCluster.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.AssignmentCluster.Member;
import dev.ignis.assignment.replicated.SandboxTable.Sandbox;
import dev.ignis.assignment.replicated.SandboxTable.State;
import dev.ignis.journal.NotLeaderException;
import dev.ignis.worker.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The talk's failure story on a real three-member Raft partition (Apache Ratis, three ports, three
 * directories, one JVM): the leader leases and releases; followers hold the same table; when the
 * leader dies a follower takes over with every sandbox it knew, reuses them with zero placement calls,
 * and never hands a lease out twice, even to acquirers racing the failover.
 */
class ReplicatedAssignmentClusterTest {

    private static final SandboxKey A = new SandboxKey("111111111111", "fa", "1", "rev-1");
    private static final SandboxKey B = new SandboxKey("111111111111", "fb", "1", "rev-1");
    private static final Supplier<SandboxSpec> SPEC_A = () -> spec("fa", "1");
    private static final Supplier<SandboxSpec> SPEC_B = () -> spec("fb", "1");

    @TempDir
    Path dir;

    @Test
    void leaderFailoverKeepsTheTableReusesSandboxesAndNeverLeasesTwice() throws Exception {
        try (AssignmentCluster cluster = new AssignmentCluster(dir)) {
            cluster.openAll();
            Member leader = cluster.awaitLeader(Duration.ofSeconds(30));
            ReplicatedAssignment a = leader.assignment();

            // Followers refuse writes and name the leader.
            for (Member f : followers(cluster, leader)) {
                await(Duration.ofSeconds(10), () -> f.journal().leaderId().isPresent(), "follower learns the leader");
                assertThatThrownBy(() -> f.assignment().acquire(A, SPEC_A))
                        .isInstanceOf(NotLeaderException.class)
                        .satisfies(e -> assertThat(((NotLeaderException) e).leaderHint()).isEqualTo(leader.id()));
            }

            // Cold: 8 concurrent acquires of A create 8 sandboxes (all busy at once), then go idle.
            List<Lease> cold = acquireConcurrently(a, A, SPEC_A, 8);
            assertThat(cold).allMatch(Lease::cold);
            assertThat(cold.stream().map(Lease::sandboxId).distinct()).hasSize(8);
            assertThat(cluster.creates()).isEqualTo(8);
            cold.forEach(l -> a.release(l, true));
            // B: one stays, one is not reusable (retired on its worker).
            Lease b1 = a.acquire(B, SPEC_B);
            Lease b2 = a.acquire(B, SPEC_B);
            a.release(b1, true);
            a.release(b2, false);
            assertThat(cluster.retires()).isEqualTo(1);
            assertThatThrownBy(() -> a.release(b2, true)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not current");

            // Warm: reuse, no placement.
            List<Lease> warm = acquireConcurrently(a, A, SPEC_A, 4);
            assertThat(warm).noneMatch(Lease::cold);
            warm.forEach(l -> a.release(l, true));
            assertThat(cluster.creates()).isEqualTo(10);
            assertThat(a.table().idleCount(A)).isEqualTo(8);
            assertThat(a.table().idleCount(B)).isEqualTo(1);
            assertThat(a.stats().coldStarts()).isEqualTo(10);
            assertThat(a.stats().warmStarts()).isEqualTo(4);
            assertThat(a.stats().idle()).isEqualTo(9);

            // Warm path cost on a three-member partition: acquire (Leased committed on two of three,
            // each fsync'ed) and release (Released committed), sequentially.
            long[] acquireUs = new long[200];
            long[] releaseUs = new long[200];
            for (int i = 0; i < acquireUs.length; i++) {
                long t0 = System.nanoTime();
                Lease l = a.acquire(A, SPEC_A);
                long t1 = System.nanoTime();
                a.release(l, true);
                acquireUs[i] = (t1 - t0) / 1000;
                releaseUs[i] = (System.nanoTime() - t1) / 1000;
            }
            java.util.Arrays.sort(acquireUs);
            java.util.Arrays.sort(releaseUs);
            System.out.printf("3 peers, warm acquire p50 %.1f ms p99 %.1f ms; release p50 %.1f ms p99 %.1f ms (200 each)%n",
                    acquireUs[100] / 1000.0, acquireUs[197] / 1000.0, releaseUs[100] / 1000.0, releaseUs[197] / 1000.0);
            assertThat(cluster.creates()).isEqualTo(10);

            // Followers' images match the leader's.
            awaitSameTables(cluster);

            List<Long> pauses = new ArrayList<>();
            for (int round = 1; round <= 3; round++) {
                pauses.add(failover(cluster, round));
            }
            // Acquires that failed during a failover were retried with their request id, so a lease that
            // had committed was adopted: no orphan, every one of A's 8 sandboxes is idle again.
            Member last = cluster.awaitLeader(Duration.ofSeconds(30));
            awaitSameTables(cluster);
            SandboxTable t = last.sm().table();
            assertThat(t.busyCount()).as("orphaned leases").isZero();
            assertThat(t.count(State.RETIRED)).isEqualTo(1); // b2 only: nothing reclaimed
            assertThat(t.idleCount(A)).isEqualTo(8);
            assertThat(cluster.creates()).isEqualTo(10);
            Collections.sort(pauses);
            System.out.printf("failover pause (leader killed -> first lease granted by the new leader): %s ms, p50 %d ms%n",
                    pauses, pauses.get(pauses.size() / 2));
        }
    }

    /**
     * Two acquirers lease-and-release A in a loop against whoever leads; the leader is killed under
     * them. Checks: a lease is never held twice, zero placement calls, every sandbox known before is
     * known after.
     */
    private long failover(AssignmentCluster cluster, int round) throws Exception {
        Member old = cluster.awaitLeader(Duration.ofSeconds(30));
        awaitSameTables(cluster);
        Map<String, Sandbox> before = byId(old.sm().table());
        int createsBefore = cluster.creates();

        Map<String, Long> holding = new ConcurrentHashMap<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
        AtomicLong firstAfter = new AtomicLong(Long.MAX_VALUE);
        AtomicInteger granted = new AtomicInteger();
        List<Thread> acquirers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            acquirers.add(Thread.ofPlatform().name("acquirer-" + t).start(() -> {
                String requestId = UUID.randomUUID().toString();
                boolean pending = false; // a failed attempt whose lease may have committed
                long hardStop = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while ((!stop.get() || pending) && System.nanoTime() < hardStop) {
                    pending = true;
                    Member m = cluster.leader().orElse(null);
                    if (m == null) {
                        sleep(2);
                        continue;
                    }
                    Lease lease;
                    try {
                        lease = m.assignment().acquire(A, SPEC_A, requestId);
                    } catch (RuntimeException e) {
                        // Not leader (any more), journal closing: the frontend retries elsewhere with the
                        // same request id, so a lease that did commit is adopted, not orphaned.
                        sleep(2);
                        continue;
                    }
                    requestId = UUID.randomUUID().toString();
                    pending = false;
                    long now = System.nanoTime();
                    if (now > killedAt.get() && !m.id().equals(old.id())) {
                        firstAfter.accumulateAndGet(now, Math::min);
                    }
                    granted.incrementAndGet();
                    Long other = holding.putIfAbsent(lease.sandboxId(), lease.leaseId());
                    if (other != null) {
                        failures.add(new AssertionError("sandbox " + lease.sandboxId() + " leased to " + other
                                + " and " + lease.leaseId() + " at once"));
                    }
                    sleep(3); // the "invoke"
                    holding.remove(lease.sandboxId(), lease.leaseId());
                    releaseSomewhere(cluster, lease, failures);
                }
            }));
        }
        // the kill lands while leases are being granted: wait for some, rather than for a time
        await(Duration.ofSeconds(30), () -> granted.get() >= 20, "20 leases granted before the kill");
        killedAt.set(System.nanoTime());
        cluster.kill(old.id());
        await(Duration.ofSeconds(30), () -> firstAfter.get() != Long.MAX_VALUE, "a lease granted by the new leader");
        long pauseMs = (firstAfter.get() - killedAt.get()) / 1_000_000;
        // and go on under the new leader for a while: 20 more leases
        int grantedAtTakeover = granted.get();
        await(Duration.ofSeconds(30), () -> granted.get() >= grantedAtTakeover + 20, "20 leases granted by the new leader");
        stop.set(true);
        for (Thread t : acquirers) {
            t.join();
        }
        assertThat(failures).isEmpty();
        assertThat(granted.get()).isPositive();

        Member now = cluster.awaitLeader(Duration.ofSeconds(30));
        assertThat(now.id()).isNotEqualTo(old.id());
        Map<String, Sandbox> after = byId(now.sm().table());
        assertThat(after.keySet()).as("every sandbox known before is known after").containsAll(before.keySet());
        assertThat(cluster.creates()).as("placement calls after failover").isEqualTo(createsBefore);
        System.out.printf("round %d: leader %s killed, %s took over in %d ms; %d leases granted in the round, 0 creates%n",
                round, old.id(), now.id(), pauseMs, granted.get());

        // The killed member comes back on its directory and catches up.
        cluster.awaitClosed();
        cluster.open(old.id(), cluster.dir(old.id()));
        awaitSameTables(cluster);
        return pauseMs;
    }

    /** A lease granted by a leader that died is released at the next one (leases are on the log). */
    private static void releaseSomewhere(AssignmentCluster cluster, Lease lease, List<Throwable> failures) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        boolean triedOnce = false;
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            Member m = cluster.leader().orElse(null);
            if (m != null) {
                try {
                    m.assignment().release(lease, true);
                    return;
                } catch (IllegalStateException e) {
                    last = e;
                    if (triedOnce && e.getMessage() != null && e.getMessage().contains("not current")) {
                        return; // an earlier attempt did commit
                    }
                } catch (RuntimeException e) {
                    last = e; // not leader any more / closing: try the next one
                }
                triedOnce = true;
            }
            sleep(5);
        }
        failures.add(new AssertionError("could not release lease " + lease.leaseId() + " in 30 s", last));
    }

    @Test
    void replacementMemberWithAnEmptyDirectoryCatchesUpFromSnapshotAndLog() throws Exception {
        try (AssignmentCluster cluster = new AssignmentCluster(dir, true)) {
            cluster.openAll();
            Member leader = cluster.awaitLeader(Duration.ofSeconds(30));
            ReplicatedAssignment a = leader.assignment();
            List<Lease> leases = acquireConcurrently(a, A, SPEC_A, 4);
            leases.subList(0, 3).forEach(l -> a.release(l, true));
            a.release(a.acquire(B, SPEC_B), false);
            for (int i = 0; i < 30; i++) { // history enough to fill several 4 KB log segments
                a.release(a.acquire(A, SPEC_A), true);
            }
            awaitSameTables(cluster);

            // Replace a follower: its disk is gone; the leader's log is cut behind a snapshot.
            Member lost = followers(cluster, leader).getFirst();
            cluster.kill(lost.id());
            cluster.awaitClosed();
            Path fresh = dir.resolve("replacement-" + lost.id());
            long snapshotIndex = leader.journal().snapshot();
            assertThat(snapshotIndex).isPositive();
            // More history after the snapshot, so catching up needs snapshot and log.
            a.release(leases.get(3), true);
            Lease again = a.acquire(A, SPEC_A);
            assertThat(again.cold()).isFalse();

            // Ratis purges the log behind the snapshot asynchronously.
            await(Duration.ofSeconds(20), () -> !hasFirstLogSegment(cluster.dir(leader.id())),
                    "leader purges its first log segment behind snapshot " + snapshotIndex);

            Member replacement = cluster.open(lost.id(), fresh);
            await(Duration.ofSeconds(30), () -> replacement.sm().table().equals(leader.sm().table()),
                    "replacement catches up");
            try (var files = java.nio.file.Files.walk(fresh)) {
                // Ratis shipped the leader's snapshot (the log behind it was purged) and the table was
                // rebuilt by SandboxStateMachine.restoreSnapshot, then the log tail replayed.
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.matches("snapshot\\.\\d+_\\d+")))
                        .as("snapshot installed on the replacement").isNotEmpty();
            }
            assertThat(replacement.sm().table().idleCount(A)).isEqualTo(3);
            assertThat(replacement.sm().table().busyCount()).isEqualTo(1);
            assertThat(replacement.sm().table().count(State.RETIRED)).isEqualTo(1);
            a.release(again, true);
            awaitSameTables(cluster);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static boolean hasFirstLogSegment(Path memberDir) {
        try (var files = java.nio.file.Files.walk(memberDir)) {
            return files.anyMatch(p -> p.getFileName().toString().startsWith("log_0-"));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return true; // a file vanished mid-walk (the purge itself): look again
        }
    }

    private static List<Lease> acquireConcurrently(ReplicatedAssignment a, SandboxKey key, Supplier<SandboxSpec> spec, int n)
            throws Exception {
        try (var pool = Executors.newFixedThreadPool(n)) {
            List<Future<Lease>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> a.acquire(key, spec)));
            }
            List<Lease> out = new ArrayList<>();
            for (Future<Lease> f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }

    private static List<Member> followers(AssignmentCluster cluster, Member leader) {
        return cluster.members.values().stream().filter(m -> m != leader).toList();
    }

    private static void awaitSameTables(AssignmentCluster cluster) throws InterruptedException {
        await(Duration.ofSeconds(30), () -> {
            Set<SandboxTable> tables = cluster.members.values().stream().map(m -> m.sm().table()).collect(Collectors.toSet());
            return cluster.members.size() == 3 && tables.size() == 1;
        }, "all three members to hold the same table");
    }

    private static Map<String, Sandbox> byId(SandboxTable t) {
        return t.sandboxes().stream().collect(Collectors.toMap(Sandbox::sandboxId, s -> s));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
