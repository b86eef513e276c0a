package dev.ignis.frontend;

import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test double for the journal: applies each record at once, durably nowhere. It lets the API be
 * tested without Ratis; the platform tests in ignis-dist run the real journal.
 */
final class DirectJournal implements Journal {
    private final JournalStateMachine sm;
    private final AtomicLong index = new AtomicLong();
    /** While set, appends are refused as by a member that is not (or no longer) the leader. */
    volatile boolean notLeader;

    DirectJournal(JournalStateMachine sm) {
        this.sm = sm;
    }

    @Override
    public synchronized CompletableFuture<Long> append(byte[] record) {
        if (notLeader) {
            return CompletableFuture.failedFuture(new dev.ignis.journal.NotLeaderException(null));
        }
        long i = index.incrementAndGet();
        sm.apply(i, record);
        return CompletableFuture.completedFuture(i);
    }

    @Override
    public boolean isLeader() { return true; }

    @Override
    public long snapshot() { return index.get(); }

    @Override
    public void close() {}
}
