package dev.ignis.assignment.replicated;

import static dev.ignis.assignment.replicated.AssignmentCluster.await;
import static dev.ignis.assignment.replicated.AssignmentCluster.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.assignment.Assignment;
import dev.ignis.assignment.InMemoryAssignment;
import dev.ignis.assignment.Lease;
import dev.ignis.assignment.Placement;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.SandboxTable.State;
import dev.ignis.common.LambdaException;
import dev.ignis.journal.RatisJournal;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker that refuses a sandbox for capacity created nothing: the sandbox is placed on another
 * worker, and when every worker is full the caller gets Lambda's 429 with nothing left behind.
 */
class CapacityRefusalTest {
    private static final SandboxKey A = new SandboxKey("111111111111", "fa", "1", "rev-1");
    private static final Supplier<SandboxSpec> SPEC_A = () -> spec("fa", "1");
    private static final SandboxKey B = new SandboxKey("222222222222", "fb", "1", "rev-1");
    private static final Supplier<SandboxSpec> SPEC_B = () -> spec("fb", "1");

    @TempDir
    Path dir;

    final CountingFakeWorker full = new CountingFakeWorker("w-full");
    final CountingFakeWorker roomy = new CountingFakeWorker("w-roomy");

    /** Prefers the full worker whenever it may: placement must be told that it refused. */
    final Placement placement = new Placement() {
        @Override
        public Worker place(SandboxSpec spec) {
            return full;
        }

        @Override
        public Worker place(SandboxSpec spec, java.util.Set<String> refused) {
            for (Worker w : List.of(full, roomy)) {
                if (!refused.contains(w.workerId())) {
                    return w;
                }
            }
            throw Placement.noCapacity();
        }
    };

    @Test
    void inMemoryAssignmentPlacesARefusedSandboxElsewhereThenThrottles() {
        full.room = 0;
        try (Assignment a = new InMemoryAssignment(placement, Clock.systemUTC(), Duration.ofMinutes(10))) {
            expectElsewhereThenThrottled(a);
            assertThat(a.stats().busy()).isEqualTo(1);
        }
    }

    @Test
    void replicatedAssignmentPlacesARefusedSandboxElsewhereThenThrottles() throws Exception {
        full.room = 0;
        SandboxStateMachine sm = new SandboxStateMachine();
        try (RatisJournal journal = RatisJournal.single("assignment-single", dir, sm);
             ReplicatedAssignment a = new ReplicatedAssignment(journal, sm, placement,
                     Map.<String, Worker>of("w-full", full, "w-roomy", roomy)::get, Clock.systemUTC(), Duration.ofMinutes(10))) {
            await(Duration.ofSeconds(10), a::isLeader, "leader ready");
            expectElsewhereThenThrottled(a);
            assertThat(a.table().count(State.CREATING)).as("no attempt is left creating").isZero();
            assertThat(a.table().busyCount()).isEqualTo(1);
        }
    }

    @Test
    void singleNodePlacementThrottlesWhenItsOnlyWorkerIsFull() {
        roomy.room = 1;
        try (Assignment a = new InMemoryAssignment(spec -> roomy, Clock.systemUTC(), Duration.ofMinutes(10))) {
            a.acquire(A, SPEC_A, "req-1");
            assertThatThrownBy(() -> a.acquire(A, SPEC_A, "req-2")).isInstanceOfSatisfying(LambdaException.class, e -> {
                assertThat(e.status()).isEqualTo(429);
                assertThat(e.extra()).containsEntry("Reason", "ConcurrentInvocationLimitExceeded");
            });
        }
    }

    @Test
    void inMemoryAssignmentMakesRoomByRetiringTheLongestIdleSandboxOfAFullWorker() {
        roomy.room = 2;
        try (Assignment a = new InMemoryAssignment(spec -> roomy, Clock.systemUTC(), Duration.ofMinutes(10))) {
            expectIdleEvictedThenThrottled(a);
        }
    }

    @Test
    void replicatedAssignmentMakesRoomByRetiringTheLongestIdleSandboxOfAFullWorker() throws Exception {
        roomy.room = 2;
        SandboxStateMachine sm = new SandboxStateMachine();
        try (RatisJournal journal = RatisJournal.single("assignment-single", dir, sm);
             ReplicatedAssignment a = new ReplicatedAssignment(journal, sm, spec -> roomy,
                     Map.<String, Worker>of("w-roomy", roomy)::get, Clock.systemUTC(), Duration.ofMinutes(10))) {
            await(Duration.ofSeconds(10), a::isLeader, "leader ready");
            expectIdleEvictedThenThrottled(a);
            assertThat(a.table().count(State.CREATING)).as("no attempt is left creating").isZero();
        }
    }

    /**
     * A worker with room for two holds two idle sandboxes of function A (the older released first);
     * function B's cold start evicts the longer idle one instead of being throttled (a tenant must not
     * get 429 because another tenant's sandboxes sit idle); with both sandboxes busy, the next is 429.
     */
    private void expectIdleEvictedThenThrottled(Assignment a) {
        Lease a1 = a.acquire(A, SPEC_A, "req-a1");
        Lease a2 = a.acquire(A, SPEC_A, "req-a2");
        a.release(a1, true);
        a.release(a2, true);
        Lease b = a.acquire(B, SPEC_B, "req-b");
        assertThat(roomy.retires.get()).as("one idle sandbox retired to make room").isEqualTo(1);
        assertThat(roomy.sandboxes()).extracting(h -> h.sandboxId())
                .as("the longest idle went, the other stayed").doesNotContain(a1.sandboxId()).contains(a2.sandboxId(), b.sandboxId());
        Lease a3 = a.acquire(A, SPEC_A, "req-a3");
        assertThat(a3.sandboxId()).as("A's remaining idle sandbox is still leased warm").isEqualTo(a2.sandboxId());
        assertThatThrownBy(() -> a.acquire(B, SPEC_B, "req-b2")).isInstanceOfSatisfying(LambdaException.class,
                e -> assertThat(e.status()).isEqualTo(429));
        assertThat(roomy.retires.get()).as("busy sandboxes are never evicted").isEqualTo(1);
        assertThat(a.retirementsByCause()).containsEntry(Assignment.RetireCause.EVICTED, 1L);
    }

    private void expectElsewhereThenThrottled(Assignment a) {
        roomy.room = 1;
        Lease lease = a.acquire(A, SPEC_A, "req-1");
        assertThat(lease.worker().workerId()).isEqualTo("w-roomy");
        assertThatThrownBy(() -> a.acquire(A, SPEC_A, "req-2")).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.type()).isEqualTo("TooManyRequestsException");
            assertThat(e.extra()).containsEntry("Reason", "ConcurrentInvocationLimitExceeded");
        });
        assertThat(full.creates.get()).isZero();
        assertThat(roomy.creates.get()).isEqualTo(1);
        assertThat(full.sandboxes()).isEmpty();
    }
}
