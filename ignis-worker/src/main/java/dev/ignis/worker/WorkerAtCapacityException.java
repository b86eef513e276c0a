package dev.ignis.worker;

/**
 * The worker refused a new sandbox because the host has no room left for it in this worker's
 * capacity ({@link WorkerCapacity}, or its block of uids). Nothing was created, so placement may try
 * another worker; when none has room the client gets 429 TooManyRequestsException.
 */
public final class WorkerAtCapacityException extends RuntimeException {
    private final String workerId;

    public WorkerAtCapacityException(String workerId, String detail) {
        super("worker " + workerId + " has no capacity for another sandbox: " + detail, null, false, false);
        this.workerId = workerId;
    }

    public String workerId() {
        return workerId;
    }
}
