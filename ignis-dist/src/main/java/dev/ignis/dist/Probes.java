package dev.ignis.dist;

import dev.ignis.assignment.replicated.ReplicatedAssignment;
import dev.ignis.config.ConfigStore;
import dev.ignis.frontend.Health;
import dev.ignis.runtimes.RuntimeCatalog;
import dev.ignis.worker.sandbox.SandboxReach;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * The readiness checks of each kind of node ({@code /readyz}, {@link Health}). Each is cheap (a
 * field read or a few stat calls), since the probe is unauthenticated.
 */
final class Probes {
    private Probes() {}

    /** A journal group this node is a member of has a leader it knows of. */
    static Health.Check journalLeader(String group, BooleanSupplier known) {
        return new Health.Check(group + " journal leader known", known);
    }

    /** Managed runtimes are installed on this node. */
    static Health.Check runtimes(RuntimeCatalog runtimes) {
        return new Health.Check("runtimes installed", () -> !runtimes.all().isEmpty());
    }

    /** Sandboxes can still pass through the directories they read from (as checked at start). */
    static Health.Check worker(Path... dirs) {
        return new Health.Check("worker can reach its directories", () -> {
            for (Path d : dirs) {
                SandboxReach.requireTraversable(d, "a worker directory");
            }
            return true;
        });
    }

    /** The single node: config journal (one peer), the assignment journal when it has one, the worker, the runtimes. */
    static Health singleNode(ConfigStore config, ReplicatedAssignment assignmentOnJournal, RuntimeCatalog runtimes, Path data,
                             Path runtimeHome) {
        var checks = new java.util.ArrayList<Health.Check>();
        checks.add(journalLeader("config", () -> config.journal().isLeader()));
        if (assignmentOnJournal != null) {
            checks.add(journalLeader("assignment", assignmentOnJournal::isLeader));
        }
        checks.add(worker(data, runtimeHome));
        checks.add(runtimes(runtimes));
        return new Health(checks);
    }

    /** A cluster frontend: the leaders it sends writes and leases to are known. */
    static Health clusterFrontend(dev.ignis.cluster.Topology topology, dev.ignis.cluster.LeaderWatch leaders) {
        var checks = new java.util.ArrayList<Health.Check>();
        String config = dev.ignis.cluster.Topology.CONFIG_GROUP;
        checks.add(journalLeader(config, () -> leaders.leaderOf(config).isPresent()));
        if (topology.assignment() == dev.ignis.cluster.Topology.Mode.JOURNAL) {
            checks.add(new Health.Check("assignment journal leaders known", () -> {
                for (int p = 0; p < topology.partitions(); p++) {
                    if (leaders.leaderOf(dev.ignis.assignment.replicated.Partitioning.groupName(p)).isEmpty()) {
                        return false;
                    }
                }
                return true;
            }));
        }
        return new Health(checks);
    }
}
