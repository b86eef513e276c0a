package dev.ignis.worker;

import java.util.function.LongSupplier;

/**
 * Admission control of one worker ({@link WorkerCapacity} says what is admitted and why): a create
 * takes a ticket before anything is set up for it, and gives it back when its sandbox is retired or its
 * start fails. A refusal happens before any resource is taken, so it changes nothing.
 */
final class Admission {
    /** What one admitted sandbox holds until it is retired. */
    record Ticket(int memoryMb) {}

    private final String workerId;
    private final WorkerCapacity capacity;
    private final LongSupplier pidsInUse;
    private long memoryMb;

    Admission(String workerId, WorkerCapacity capacity, LongSupplier pidsInUse) {
        this.workerId = workerId;
        this.capacity = capacity;
        this.pidsInUse = pidsInUse;
    }

    synchronized Ticket admit(int sandboxMemoryMb) {
        if (memoryMb + sandboxMemoryMb > capacity.memoryMb()) {
            throw new WorkerAtCapacityException(workerId, memoryMb + " of " + capacity.memoryMb()
                    + " MB of sandbox memory are in use, " + sandboxMemoryMb + " MB more do not fit");
        }
        long pids = pidsInUse.getAsLong();
        if (pids + WorkerCapacity.START_PIDS > capacity.pids()) {
            throw new WorkerAtCapacityException(workerId, pids + " of " + capacity.pids() + " sandbox pids are in use");
        }
        memoryMb += sandboxMemoryMb;
        return new Ticket(sandboxMemoryMb);
    }

    synchronized void release(Ticket ticket) {
        memoryMb -= ticket.memoryMb();
    }

    /** Sandbox memory admitted now, MB (tests and diagnostics). */
    synchronized long memoryMbInUse() {
        return memoryMb;
    }
}
