package dev.ignis.assignment.replicated;

import dev.ignis.assignment.Placement;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalConfig;
import dev.ignis.journal.RatisJournal;
import dev.ignis.worker.Worker;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;

/**
 * One member of one assignment partition, assembled: its Ratis journal, the state machine and the
 * {@link ReplicatedAssignment}. {@link #close()} stops the assignment, then the journal (sandboxes are
 * not retired: the partition's other members keep using them).
 */
public record ReplicatedPartition(Journal journal, SandboxStateMachine stateMachine, ReplicatedAssignment assignment)
        implements AutoCloseable {

    /** Opens (creating or recovering) this member; it serves acquires once it is the ready leader. */
    public static ReplicatedPartition open(JournalConfig config, Placement placement,
                                           Function<String, Worker> workers, Clock clock, Duration keepAlive) {
        SandboxStateMachine sm = new SandboxStateMachine();
        RatisJournal journal = RatisJournal.open(config, sm);
        try {
            return new ReplicatedPartition(journal, sm, new ReplicatedAssignment(journal, sm, placement, workers, clock, keepAlive));
        } catch (RuntimeException e) {
            journal.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            assignment.close();
        } finally {
            journal.close();
        }
    }
}
