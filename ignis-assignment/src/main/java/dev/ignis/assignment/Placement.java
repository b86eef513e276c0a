package dev.ignis.assignment;

import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;

/** The talk's placement: chooses the worker that creates a new sandbox. One worker in single-node mode. */
public interface Placement {
    Worker place(SandboxSpec spec);
}
