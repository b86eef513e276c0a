package dev.ignis.assignment.replicated;

import dev.ignis.assignment.SandboxKey;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Which assignment partition owns a function version: a stable hash of (account, function, version)
 * modulo the partition count. The revision is left out on purpose, so a configuration update keeps the
 * version on the partition that knows its old sandboxes (and retires them). Every member and every
 * frontend computes the same answer; changing {@code partitions} moves versions (no rebalancing yet).
 *
 * @param partitions how many partitions (Raft groups of three) there are
 */
public record Partitioning(int partitions) {

    public Partitioning {
        if (partitions < 1 || partitions > 4096) {
            throw new IllegalArgumentException("partitions must be within 1..4096: " + partitions);
        }
    }

    /** The partition of the key's function version, in {@code [0, partitions)}. */
    public int partitionOf(SandboxKey key) {
        CRC32C crc = new CRC32C();
        // Length-prefixed fields, so ("ab","c") and ("a","bc") hash apart.
        for (String field : new String[] {key.accountId(), key.functionName(), key.version()}) {
            byte[] b = field.getBytes(StandardCharsets.UTF_8);
            crc.update(b.length >>> 8);
            crc.update(b.length);
            crc.update(b);
        }
        return (int) (crc.getValue() % partitions);
    }

    /** The journal group name of a partition (the Raft group id derives from it). */
    public static String groupName(int partition) {
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0: " + partition);
        }
        return "assignment-p" + partition;
    }
}
