package dev.ignis.assignment.replicated;

import static dev.ignis.assignment.replicated.AssignmentCluster.await;
import static dev.ignis.assignment.replicated.AssignmentCluster.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.SandboxRecord.Leased;
import dev.ignis.assignment.replicated.SandboxTable.State;
import dev.ignis.journal.RatisJournal;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader logic on a one-member journal (real Ratis): adoption by request id, orphan reclaim, stale keys, bad input. */
class ReplicatedAssignmentSinglePeerTest {

    private static final SandboxKey A = new SandboxKey("111111111111", "fa", "1", "rev-1");
    private static final Supplier<SandboxSpec> SPEC_A = () -> spec("fa", "1");

    @TempDir
    Path dir;

    @Test
    void retriedAcquireAdoptsItsCommittedLeaseAndOrphansAreReclaimed() throws Exception {
        CountingFakeWorker worker = new CountingFakeWorker("w1");
        // Time moves only when the test says so: no lease is "orphaned" by a slow machine.
        TestClock clock = new TestClock(Instant.parse("2026-11-27T10:00:00Z"));
        SandboxStateMachine sm = new SandboxStateMachine();
        try (RatisJournal journal = RatisJournal.single("assignment-single", dir, sm);
             ReplicatedAssignment a = new ReplicatedAssignment(journal, sm, s -> worker, Map.<String, Worker>of("w1", worker)::get,
                     clock, Duration.ofMinutes(10), Duration.ofMillis(600), 2)) {
            await(Duration.ofSeconds(10), a::isLeader, "leader ready");
            Lease first = a.acquire(A, SPEC_A, "req-1");
            assertThat(first.cold()).isTrue();
            // The same request again while it holds the lease: the same lease, no new sandbox.
            Lease again = a.acquire(A, SPEC_A, "req-1");
            assertThat(again.leaseId()).isEqualTo(first.leaseId());
            assertThat(again.sandboxId()).isEqualTo(first.sandboxId());
            assertThat(worker.creates.get()).isEqualTo(1);
            assertThatThrownBy(() -> a.acquire(new SandboxKey("111111111111", "other", "1", "r"), SPEC_A, "req-1"))
                    .isInstanceOf(IllegalArgumentException.class);
            a.release(first, true);
            assertThatThrownBy(() -> a.release(first, true)).isInstanceOf(IllegalStateException.class);

            // An orphan: a Leased that committed although its acquirer never learned of it (written
            // straight to the journal here, as a dying leader would have left it).
            String sandbox = a.table().idle(A).getFirst().sandboxId();
            long orphanLease = a.table().maxLeaseId() + 1;
            journal.append(SandboxRecord.encode(new Leased(sandbox, orphanLease, null, clock.instant()))).join();
            assertThat(a.table().busyCount()).isEqualTo(1);
            Thread.sleep(300); // several sweeps: not reclaimed while younger than maxLease
            assertThat(a.table().sandbox(sandbox).orElseThrow().state()).isEqualTo(State.BUSY);
            clock.advance(Duration.ofSeconds(1));
            // Reclaimed after maxLease: retired on the table and on the worker, never leased again.
            await(Duration.ofSeconds(10), () -> a.table().sandbox(sandbox).orElseThrow().state() == State.RETIRED,
                    "orphaned lease reclaimed");
            assertThat(a.table().sandbox(sandbox).orElseThrow().retiredReason()).contains("held longer than");
            await(Duration.ofSeconds(5), () -> worker.retires.get() == 1, "worker told to retire the orphan");
            Lease next = a.acquire(A, SPEC_A, "req-2");
            assertThat(next.cold()).isTrue();
            assertThat(next.sandboxId()).isNotEqualTo(first.sandboxId());

            // Stale revision: the idle sandbox goes now, a busy one on release.
            Lease busy = a.acquire(A, SPEC_A);
            a.release(next, true);
            a.retireWhere(k -> k.equals(A));
            await(Duration.ofSeconds(5), () -> a.table().idleCount(A) == 0, "stale idle retired");
            a.release(busy, true);
            assertThat(a.table().sandbox(a.table().sandboxes().stream()
                    .filter(s -> s.workerSandboxId() != null && s.workerSandboxId().equals(busy.sandboxId()))
                    .findFirst().orElseThrow().sandboxId()).orElseThrow().state()).isEqualTo(State.RETIRED);
            assertThat(a.table().count(State.IDLE)).isZero();
            await(Duration.ofSeconds(5), () -> worker.retires.get() == 3, "all three retired on the worker");
            assertThat(worker.creates.get()).isEqualTo(3);
            // what metrics read: the orphan's lease expired, the idle one went stale, the busy one was not reusable on release
            assertThat(a.retirementsByCause()).containsExactlyInAnyOrderEntriesOf(Map.of(
                    dev.ignis.assignment.Assignment.RetireCause.LEASE_EXPIRED, 1L,
                    dev.ignis.assignment.Assignment.RetireCause.STALE_REVISION, 1L,
                    dev.ignis.assignment.Assignment.RetireCause.NOT_REUSABLE, 1L));
            assertThat(a.sandboxesByWorker()).isEmpty();

            // Nothing is forgotten across a restart: close and reopen from the same directory.
            SandboxTable before = a.table();
            a.close();
            journal.close();
            SandboxStateMachine sm2 = new SandboxStateMachine();
            try (RatisJournal reopened = RatisJournal.single("assignment-single", dir, sm2)) {
                await(Duration.ofSeconds(10), () -> sm2.table().equals(before), "table rebuilt from the log");
            }
        }
    }

    /** A clock the test moves by hand. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void aPartitionMemberOpensServesAndReopensWithItsTable() throws Exception {
        CountingFakeWorker worker = new CountingFakeWorker("w1");
        Map<String, Worker> workers = Map.of("w1", worker);
        var config = dev.ignis.journal.JournalConfig.singlePeer(Partitioning.groupName(0), dir);
        SandboxTable before;
        try (ReplicatedPartition p = ReplicatedPartition.open(config, s -> worker, workers::get, Clock.systemUTC(),
                Duration.ofMinutes(5))) {
            await(Duration.ofSeconds(30), p.assignment()::isLeader, "single member leads");
            p.assignment().release(p.assignment().acquire(A, SPEC_A), true);
            before = p.assignment().table();
            assertThat(before.idleCount(A)).isEqualTo(1);
        }
        assertThat(worker.retires.get()).as("closing a member retires nothing").isZero();
        try (ReplicatedPartition p = ReplicatedPartition.open(dev.ignis.journal.JournalConfig.singlePeer(Partitioning.groupName(0), dir),
                s -> worker, workers::get, Clock.systemUTC(), Duration.ofMinutes(5))) {
            await(Duration.ofSeconds(30), p.assignment()::isLeader, "single member leads again");
            assertThat(p.assignment().table()).isEqualTo(before);
            assertThat(p.assignment().acquire(A, SPEC_A).cold()).as("the sandbox outlived the restart").isFalse();
            assertThat(worker.creates.get()).isEqualTo(1);
        }
    }

    @Test
    void aCreationOnAnUnreachableWorkerIsPlacedOnAnotherOne() throws Exception {
        CountingFakeWorker live = new CountingFakeWorker("w-live");
        Worker gone = new Worker() {
            @Override
            public String workerId() {
                return "w-gone";
            }

            @Override
            public dev.ignis.worker.SandboxHandle createSandbox(SandboxSpec spec) {
                throw new dev.ignis.worker.WorkerUnreachableException("w-gone", "connection refused");
            }

            @Override
            public dev.ignis.worker.InvokeOutcome invoke(String sandboxId, dev.ignis.worker.InvokeRequest request) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void retire(String sandboxId) {}

            @Override
            public java.util.Collection<dev.ignis.worker.SandboxHandle> sandboxes() {
                return java.util.List.of();
            }

            @Override
            public void close() {}
        };
        // Placement that prefers the gone worker until it is told that nothing answers there.
        java.util.Set<String> unreachable = java.util.concurrent.ConcurrentHashMap.newKeySet();
        dev.ignis.assignment.Placement placement = new dev.ignis.assignment.Placement() {
            @Override
            public Worker place(SandboxSpec spec) {
                return unreachable.contains("w-gone") ? live : gone;
            }

            @Override
            public void unreachable(Worker worker) {
                unreachable.add(worker.workerId());
            }
        };
        SandboxStateMachine sm = new SandboxStateMachine();
        try (RatisJournal journal = RatisJournal.single("assignment-single", dir, sm);
             ReplicatedAssignment a = new ReplicatedAssignment(journal, sm, placement,
                     Map.<String, Worker>of("w-live", live, "w-gone", gone)::get, Clock.systemUTC(), Duration.ofMinutes(10))) {
            await(Duration.ofSeconds(10), a::isLeader, "leader ready");
            Lease lease = a.acquire(A, SPEC_A, "req-1");
            assertThat(lease.cold()).isTrue();
            assertThat(lease.worker().workerId()).isEqualTo("w-live");
            assertThat(unreachable).containsExactly("w-gone");
            assertThat(live.creates.get()).isEqualTo(1);
            // the attempt on the gone worker is on the log, as failed: no entry is left CREATING
            assertThat(a.table().counts().createFailed()).isEqualTo(1);
            assertThat(a.table().count(State.CREATING)).isZero();
        }
    }

    @Test
    void badRecordsAreRejectedWithAClearError() {
        assertThatThrownBy(() -> SandboxRecord.decode("{\"t\":\"leased\",\"sandboxId\":\"s\",\"leaseId\":0}".getBytes()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a sandbox record");
        assertThatThrownBy(() -> SandboxRecord.decode("garbage".getBytes())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SandboxTable.fromSnapshot("{}".getBytes())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Leased(" ", 1, null, Instant.now())).isInstanceOf(IllegalArgumentException.class);
    }
}
