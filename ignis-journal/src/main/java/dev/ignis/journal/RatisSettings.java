package dev.ignis.journal;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;

/**
 * Turns a {@link JournalConfig} into Ratis properties. Every setting that matters for durability or
 * latency is written out here even when it equals the Ratis default, so the guarantees are visible in
 * one place (docs/journal.md explains each).
 */
final class RatisSettings {

    /** A single peer has nobody to wait for: elect itself almost at once instead of after 150–300 ms. */
    static final TimeDuration SINGLE_PEER_FIRST_ELECTION_MIN = TimeDuration.valueOf(5, TimeUnit.MILLISECONDS);
    static final TimeDuration SINGLE_PEER_FIRST_ELECTION_MAX = TimeDuration.valueOf(10, TimeUnit.MILLISECONDS);

    /**
     * Wait before retrying a follower: 1 ms for 10 tries, 100 ms for 20, then 500 ms for good (Ratis: then 1 s, then
     * 5 s, and it stops counting after 1,000 tries).
     */
    static final String APPENDER_RETRY_POLICY = "1ms,10, 100ms,20, 500ms,2147483647";

    private RatisSettings() {}

    static RaftProperties of(JournalConfig config) {
        final RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(config.storageDir().toFile().getAbsoluteFile()));

        // The RPC server listens only on this member's own address (loopback for single()).
        GrpcConfigKeys.Server.setHost(p, config.selfAddress().getHostString());
        GrpcConfigKeys.Server.setPort(p, config.selfAddress().getPort());

        final long min = config.electionTimeout().toMillis();
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(min, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2 * min, TimeUnit.MILLISECONDS));
        // A leader that stepped down for want of heartbeats (its followers were slow a moment: seven JVMs
        // on two cores) sits out elections this long; Ratis's default is 10 s. When that leader holds
        // the longest log — the dead member's successor has just appended — nobody else can win, so the
        // whole wait was an outage (seen in ClusterIT: an 11.4 s failover). Two election timeouts.
        RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, TimeDuration.valueOf(4 * min, TimeUnit.MILLISECONDS));
        // How long the leader waits before it tries a follower again after a failed appendEntries. Ratis's default
        // ("1ms,10, 1s,20, 5s,1000") waits 5 s a try after 30 failures, and a follower that is down racks those up within
        // seconds (every refused connection counts; so does the INCONSISTENCY reply that starts its catch-up). A member
        // that boots late or comes back then waits for its log in 5 s steps: once its journal was open, 1.2–7.7 s
        // (median 4.5 s) against 1.2–2.4 s (median 1.6 s) with this policy, 6 runs each (KilledPeersTest, loaded 2-core
        // box). Until a new member holds an entry its vote does not count (RATIS-1995), so the group survives no further
        // failure meanwhile. The retry wait also holds back that follower's heartbeats, so the early steps stay short
        // (with 0.5–2 s steps from the first seconds, a cluster starting on a loaded machine lost its first leaders to
        // followers that had come up but heard nothing; seen once, 2026-12-03). The last step never runs out. The
        // price: a dead follower gets two connection attempts a second; the per-attempt warnings are replaced by one
        // line per state change (PeerWatch).
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);
        if (config.peers().size() == 1) {
            RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, SINGLE_PEER_FIRST_ELECTION_MIN);
            RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, SINGLE_PEER_FIRST_ELECTION_MAX);
        }

        // Durability. A log entry counts towards commit on a member only once its flush index covers
        // it, and with unsafe/async flush off the flush index moves only after FileChannel.force().
        // So "committed" means fsync'ed on a majority (on the only member, for a single peer).
        // forceSyncNum only bounds how many queued entries may share one fsync (group commit).
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setForceSyncNum(p, 128);
        // Records live inside the log entries themselves (no separate state-machine data), but keep
        // the policy strict in case that changes.
        RaftServerConfigKeys.Log.StateMachineData.setSync(p, true);

        // Snapshots: automatic every N applied entries (and on close), two images kept, and the log
        // may be purged up to the latest snapshot.
        final boolean auto = config.autoSnapshotEvery() > 0;
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, auto);
        if (auto) {
            RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.autoSnapshotEvery());
        }
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, auto);
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        return p;
    }
}
