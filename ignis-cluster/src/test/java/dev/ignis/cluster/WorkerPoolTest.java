package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.cluster.Topology.Node;
import dev.ignis.cluster.Topology.Role;
import dev.ignis.common.LambdaException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Placement over the cluster's workers never offers a worker that refused the sandbox for capacity. */
class WorkerPoolTest {
    @Test
    void aWorkerThatRefusedForCapacityIsNotOfferedAgainAndAllFullThrottles() {
        try (Rpc.Channels channels = new Rpc.Channels()) {
            WorkerPool pool = new WorkerPool(List.of(new Node("w1", Set.of(Role.WORKER), "127.0.0.1", 7003, 0, 0),
                    new Node("w2", Set.of(Role.WORKER), "127.0.0.1", 7004, 0, 0)), channels);
            for (int i = 0; i < 4; i++) {
                assertThat(pool.place(WorkerRpcTest.spec(128), Set.of("w1")).workerId()).isEqualTo("w2");
            }
            assertThatThrownBy(() -> pool.place(WorkerRpcTest.spec(128), Set.of("w1", "w2"))).isInstanceOfSatisfying(LambdaException.class, e -> {
                assertThat(e.status()).isEqualTo(429);
                assertThat(e.extra()).containsEntry("Reason", "ConcurrentInvocationLimitExceeded");
            });
        }
    }
}
