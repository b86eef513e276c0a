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

    /** (sleep, attempts) pairs of Ratis's MultipleLinearRandomRetry, for a follower that does not answer. */
    static final String APPENDER_RETRY_POLICY = "1ms,10, 1s,20, 5s,2147483647";

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
        // A member that is down (kill -9, a host being replaced) is retried by each leader's appender for as
        // long as it is down, at the pace of this policy: 10 tries 1 ms apart (a blip), 20 one second apart
        // (a restart), then one every 5 s for good. It is Ratis's default shape with the last step never
        // exhausted (the default stops counting after 1,000 tries). The retry wait also holds back that
        // follower's heartbeats, so the early steps must stay short: with 0.5–2 s steps from the first
        // seconds, a cluster starting on a loaded machine lost its first leaders to followers that had come
        // up but heard nothing (seen once, 2026-12-03). The per-attempt warnings are replaced by one line
        // per state change (PeerWatch).
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
