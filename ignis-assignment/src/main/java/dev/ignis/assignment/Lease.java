package dev.ignis.assignment;

import dev.ignis.worker.Worker;
import java.time.Duration;

/**
 * The right to send exactly one invoke to one sandbox. Released with {@link Assignment#release}.
 *
 * @param initDuration set when this lease's sandbox was created for it (a cold start), else null
 */
public record Lease(long leaseId, String sandboxId, Worker worker, SandboxKey key, Duration initDuration) {
    public boolean cold() {
        return initDuration != null;
    }
}
