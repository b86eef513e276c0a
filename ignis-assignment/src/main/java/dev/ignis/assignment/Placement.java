package dev.ignis.assignment;

import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;

/** The talk's placement: chooses the worker that creates a new sandbox. One worker in single-node mode. */
public interface Placement {
    Worker place(SandboxSpec spec);

    /**
     * A sandbox creation on {@code worker} found nothing answering there: place elsewhere until the
     * worker is seen again. Single-node placement has nowhere else to go and ignores it.
     */
    default void unreachable(Worker worker) {}
}
