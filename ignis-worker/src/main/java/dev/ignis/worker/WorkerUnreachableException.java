package dev.ignis.worker;

/**
 * Nothing answered at the worker (its process is gone, or it cannot be reached): a sandbox asked of it
 * was not created. Placement chooses another worker for the next attempt.
 */
public final class WorkerUnreachableException extends RuntimeException {
    private final String workerId;

    public WorkerUnreachableException(String workerId, String detail) {
        super("worker " + workerId + " is unreachable: " + detail);
        this.workerId = workerId;
    }

    public String workerId() {
        return workerId;
    }
}
