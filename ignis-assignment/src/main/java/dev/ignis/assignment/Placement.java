package dev.ignis.assignment;

import dev.ignis.common.LambdaException;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.WorkerAtCapacityException;
import dev.ignis.worker.WorkerUnreachableException;
import java.util.Set;

/**
 * The talk's placement: chooses the worker that creates a new sandbox. One worker in single-node mode.
 *
 * <p>A creation can fail in two ways that created nothing: the worker is unreachable (placed elsewhere
 * until seen again, at most {@link #MAX_ATTEMPTS} times) or it refused for capacity
 * ({@link WorkerAtCapacityException}: tried on each other worker once; when every worker is full the
 * client gets 429 TooManyRequestsException, as Lambda answers when it has no capacity for a function).
 */
public interface Placement {
    /** Workers tried for one new sandbox when the chosen ones turn out to be unreachable. */
    int MAX_ATTEMPTS = 3;

    Worker place(SandboxSpec spec);

    /**
     * Chooses a worker, none of {@code full} (they refused this sandbox for capacity); throws
     * {@link #noCapacity} when only those are left. Single-node placement has one worker to offer.
     */
    default Worker place(SandboxSpec spec, Set<String> full) {
        Worker w = place(spec);
        if (full.contains(w.workerId())) {
            throw noCapacity();
        }
        return w;
    }

    /**
     * A sandbox creation on {@code worker} found nothing answering there: place elsewhere until the
     * worker is seen again. Single-node placement has nowhere else to go and ignores it.
     */
    default void unreachable(Worker worker) {}

    /**
     * Creation attempt {@code attempt} failed on an unreachable worker (nothing was created there):
     * marks it {@link #unreachable}; returns when the caller should place the sandbox again, throws a
     * ServiceException after {@link #MAX_ATTEMPTS}.
     */
    default void failedOn(Worker worker, WorkerUnreachableException failure, int attempt) {
        unreachable(worker);
        if (attempt >= MAX_ATTEMPTS) {
            throw LambdaException.service("No worker could create a sandbox after " + attempt + " attempts: "
                    + failure.getMessage());
        }
    }

    /**
     * Every worker that could take the sandbox refused it for capacity: Lambda's throttle (retryable,
     * with Retry-After), worded as Lambda words it; which workers are full is none of the client's business.
     */
    static LambdaException noCapacity() {
        return LambdaException.throttled("ConcurrentInvocationLimitExceeded", "Rate Exceeded.");
    }
}
