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
