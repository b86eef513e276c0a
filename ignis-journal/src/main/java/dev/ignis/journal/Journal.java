package dev.ignis.journal;

import java.util.concurrent.CompletableFuture;

/**
 * A replicated, durable, ordered log of records (STYLE.md section 4). Ratis hides behind it.
 *
 * <p>Every record is applied, in log order, to the {@link JournalStateMachine} given when the
 * journal was opened: on the leader after commit, on followers, and on restart when the log and the
 * latest snapshot are replayed. State never changes any other way.
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

    @Override
    void close();
}
