package dev.ignis.assignment.replicated;

import dev.ignis.journal.JournalStateMachine;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's view of a partition's sandbox table: decodes each committed record and swaps in
 * {@code table.replay(record)}. The same code runs on the leader, on followers, on restart and after
 * a snapshot install. Readers get the current immutable {@link SandboxTable} without locks.
 *
 * <p>Hand a fresh instance to {@code RatisJournal.open}; it must start empty.
 */
public final class SandboxStateMachine implements JournalStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(SandboxStateMachine.class);

    private volatile SandboxTable table = SandboxTable.EMPTY;
    private volatile boolean leader;
    private volatile Consumer<Boolean> leaderListener = b -> {};

    /** The table as of the last applied record. */
    public SandboxTable table() {
        return table;
    }

    /** Whether the journal last reported this member as a ready leader. */
    public boolean leader() {
        return leader;
    }

    /** Where leader changes go; the listener must return at once (it runs on a Ratis thread). */
    void onLeaderChange(Consumer<Boolean> listener) {
        this.leaderListener = listener;
    }

    @Override
    public void apply(long index, byte[] record) {
        final SandboxRecord r;
        try {
            r = SandboxRecord.decode(record);
        } catch (IllegalArgumentException e) {
            // Every member sees the same bytes and skips them the same way, so the images stay equal;
            // the throw only fails the appender's future (the entry is committed regardless).
            LOG.error("skipping undecodable record at index {}: {}", index, e.getMessage());
            throw e;
        }
        table = table.replay(r);
    }

    @Override
    public byte[] takeSnapshot() {
        return table.toSnapshot();
    }

    @Override
    public void restoreSnapshot(byte[] snapshot) {
        table = SandboxTable.fromSnapshot(snapshot);
    }

    @Override
    public void leaderChanged(boolean isLeader) {
        leader = isLeader;
        leaderListener.accept(isLeader);
    }
}
