package dev.ignis.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leader failover in a three-member group, repeated: close the leader, time until another member is
 * a ready leader, append, reopen the old leader and let it catch up. Tagged "bench".
 */
@Tag("bench")
class FailoverBenchmarkTest {

    @TempDir Path dir;

    @Test
    void failoverTimeOverSeveralRounds() throws Exception {
        final List<Long> millis = new ArrayList<>();
        try (TestCluster cluster = new TestCluster("failover", dir, 3)) {
            cluster.openAll();
            String leader = cluster.awaitLeader(Duration.ofSeconds(15));
            for (int round = 0; round < 7; round++) {
                cluster.journals.get(leader).append(("r" + round).getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
                final long t0 = System.nanoTime();
                final Thread closing = cluster.closeInBackground(leader);
                final String next = cluster.awaitLeader(Duration.ofSeconds(15));
                millis.add((System.nanoTime() - t0) / 1_000_000);
                closing.join();
                assertThat(next).isNotEqualTo(leader);
                cluster.open(leader);
                final String rejoined = leader;
                final int expected = round + 1;
                TestCluster.await(Duration.ofSeconds(15),
                        () -> cluster.machines.get(rejoined).size() == expected, "rejoin catch-up");
                leader = next;
            }
        }
        System.out.printf("BENCH failover (close() start -> new leader ready), %d rounds: p50 %d ms, max %d ms, all %s%n",
                millis.size(), JournalBenchmarkTest.pct(millis, 50), millis.stream().mapToLong(Long::longValue).max().orElseThrow(), millis);
    }
}
