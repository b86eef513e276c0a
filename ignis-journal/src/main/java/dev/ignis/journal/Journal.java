package dev.ignis.journal;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A replicated, durable, ordered log of records (STYLE.md section 4). Ratis hides behind it.
 *
 * <p>Every record is applied, in log order, to the {@link JournalStateMachine} given when the
 * journal was opened: on the leader after commit, on followers, and on restart when the log and the
 * latest snapshot are replayed. State never changes any other way.
 *
 * <p>Besides append, it tells its callers what they need to route and operate a group — who leads,
 * whether this member has caught up, how far it applied, which members do not answer — and hands
 * leadership over, so no caller needs to know it is Ratis (issue 15). The defaults describe a journal
 * with no other member (an in-process test or benchmark journal): no member ids, always caught up,
 * nobody to hand leadership to.
 */
public interface Journal extends AutoCloseable {

    /**
     * Appends a record. Completes with the log index once the record is committed and applied to
     * the local state machine; completes exceptionally with {@link NotLeaderException} when this
     * member is not the leader.
     */
    CompletableFuture<Long> append(byte[] record);

    /** True while this member is the leader of its group. */
    boolean isLeader();

    /** Asks the state machine for a snapshot now and lets the log be truncated behind it. */
    long snapshot();

    /** The id of the member this one believes leads its group; empty when none is known (or members have no ids). */
    default Optional<String> leaderId() {
        return Optional.empty();
    }

    /**
     * Waits until this member is a leader ready to take appends (its first entry of the term applied);
     * false on timeout. {@code Duration.ZERO} checks once.
     */
    default boolean awaitLeader(Duration timeout) {
        return isLeader();
    }

    /**
     * Whether this member has applied everything it knows to be committed and knows a leader: false while
     * a new or restarted member is still catching up with its group.
     */
    default boolean caughtUp() {
        return true;
    }

    /** Index of the last record applied to this member's state machine; -1 when not tracked. */
    default long lastAppliedIndex() {
        return -1;
    }

    /**
     * On the leader: how long ago each other member last answered it (a member down or cut off grows
     * without bound). Empty on a follower, or with no other member.
     */
    default Map<String, Duration> followerSilence() {
        return Map.of();
    }

    /**
     * Hands leadership to another member (called on the leader, e.g. to drain a node before maintenance);
     * returns once {@code newLeader} leads, throws when it did not within the timeout.
     */
    default void transferLeadership(String newLeader, Duration timeout) {
        throw new UnsupportedOperationException("this journal has no other member to hand leadership to");
    }

    @Override
    void close();
}
