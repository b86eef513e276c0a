package dev.ignis.journal;

/**
 * What a journal applies records to. Called from one thread at a time, in log order.
 */
public interface JournalStateMachine {

    /** Applies one committed record. Must be deterministic: every member runs the same records. */
    void apply(long index, byte[] record);

    /** A full image of the state, as of the last applied index. */
    byte[] takeSnapshot();

    /** Replaces the state with a snapshot taken by {@link #takeSnapshot()}. */
    void restoreSnapshot(byte[] snapshot);

    /** Called when this member becomes leader or stops being leader. */
    default void leaderChanged(boolean isLeader) {}
}
