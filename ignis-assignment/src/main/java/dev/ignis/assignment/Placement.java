package dev.ignis.assignment;

import dev.ignis.common.LambdaException;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.WorkerUnreachableException;

/** The talk's placement: chooses the worker that creates a new sandbox. One worker in single-node mode. */
public interface Placement {
    /** Workers tried for one new sandbox when the chosen ones turn out to be unreachable. */
    int MAX_ATTEMPTS = 3;

    Worker place(SandboxSpec spec);

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
}
