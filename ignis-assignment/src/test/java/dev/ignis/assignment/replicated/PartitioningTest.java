package dev.ignis.assignment.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.assignment.SandboxKey;
import org.junit.jupiter.api.Test;

class PartitioningTest {

    @Test
    void versionsSpreadEvenlyAndRevisionsStayPut() {
        Partitioning p = new Partitioning(8);
        int[] counts = new int[8];
        for (int i = 0; i < 8_000; i++) {
            SandboxKey k = new SandboxKey(String.format("%012d", i % 97), "fn-" + i, String.valueOf(i % 5), "r");
            int part = p.partitionOf(k);
            assertThat(part).isBetween(0, 7);
            // Same version, new revision: same partition (it knows the old sandboxes).
            assertThat(p.partitionOf(new SandboxKey(k.accountId(), k.functionName(), k.version(), "r2"))).isEqualTo(part);
            counts[part]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(850, 1150); // 1,000 expected each
        }
        SandboxKey k = new SandboxKey("111111111111", "f", "1", "r");
        assertThat(new Partitioning(8).partitionOf(k)).isEqualTo(p.partitionOf(k)); // pure function of the key
        assertThat(new Partitioning(1).partitionOf(k)).isZero();
        assertThat(Partitioning.groupName(3)).isEqualTo("assignment-p3");
    }

    @Test
    void badCountsAreRejected() {
        assertThatThrownBy(() -> new Partitioning(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Partitioning.groupName(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
