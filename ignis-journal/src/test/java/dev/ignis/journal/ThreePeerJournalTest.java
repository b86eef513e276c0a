package dev.ignis.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThreePeerJournalTest {

    @TempDir Path dir;

    static final Duration WAIT = Duration.ofSeconds(15);

    @Test
    void replicatesRejectsFollowerAppendsFailsOverAndCatchesUp() throws Exception {
        try (TestCluster cluster = new TestCluster("three", dir, 3)) {
            cluster.openAll();
            final String leader = cluster.awaitLeader(WAIT);
            final RatisJournal lj = cluster.journals.get(leader);
            for (int i = 0; i < 30; i++) {
                lj.append(("x" + i).getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            }
            // Applied on the leader before the futures completed; followers apply once they learn the commit.
            assertThat(cluster.machines.get(leader).size()).isEqualTo(30);
            for (String id : cluster.peers.keySet()) {
                TestCluster.await(WAIT, () -> cluster.machines.get(id).size() == 30, id + " applies 30");
                assertThat(cluster.machines.get(id).entries()).isEqualTo(cluster.machines.get(leader).entries());
            }
            assertThat(cluster.machines.get(leader).leaderEvents()).containsExactly(true);

            final String follower = cluster.peers.keySet().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            assertThat(cluster.journals.get(follower).isLeader()).isFalse();
            assertThat(cluster.machines.get(follower).leaderEvents()).isEmpty();
            assertThatThrownBy(() -> cluster.journals.get(follower).append("nope".getBytes(StandardCharsets.UTF_8)).get())
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(NotLeaderException.class)
                    .extracting(e -> ((NotLeaderException) e).leaderHint()).isEqualTo(leader);
            assertThat(cluster.machines.get(follower).records()).doesNotContain("nope");

            final long t0 = System.nanoTime();
            final Thread closing = cluster.closeInBackground(leader);
            final String next = cluster.awaitLeader(WAIT);
            final long elected = System.nanoTime();
            closing.join();
            System.out.printf("failover: new leader %s ready %.0f ms after the old one began closing%n",
                    next, (elected - t0) / 1e6);
            assertThat(next).isNotEqualTo(leader);
            assertThat(cluster.machines.get(leader).leaderEvents()).containsExactly(true, false);
            assertThat(elected - t0).as("failover time").isLessThan(TimeUnit.SECONDS.toNanos(5));

            for (int i = 30; i < 60; i++) {
                cluster.journals.get(next).append(("x" + i).getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            }
            // The old leader comes back with an empty image and rebuilds it from its own log plus what it missed.
            cluster.open(leader);
            TestCluster.await(WAIT, () -> cluster.machines.get(leader).size() == 60, "old leader catches up");
            final List<RecordingStateMachine.Entry> expected = cluster.machines.get(next).entries();
            for (String id : cluster.peers.keySet()) {
                TestCluster.await(WAIT, () -> cluster.machines.get(id).size() == 60, id + " applies 60");
                assertThat(cluster.machines.get(id).entries()).isEqualTo(expected);
            }
            assertThat(expected).extracting(RecordingStateMachine.Entry::record)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 60).mapToObj(i -> "x" + i).toList());
        }
    }
}
