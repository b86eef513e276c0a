package dev.ignis.assignment.replicated;

import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TEST DOUBLE, not a worker: runs no sandbox and no code. It only counts {@link #createSandbox} and
 * {@link #retire} calls (the placement traffic the assignment causes) and remembers which sandbox ids
 * it handed out, so the tests of the replicated table can count placement calls across a failover.
 */
final class CountingFakeWorker implements Worker {
    private final String id;
    private final AtomicInteger sequence = new AtomicInteger();
    final AtomicInteger creates = new AtomicInteger();
    final AtomicInteger retires = new AtomicInteger();
    private final Map<String, SandboxHandle> live = new ConcurrentHashMap<>();
    /** Sandboxes this worker has room for; a create beyond them is refused as a full worker refuses it. */
    volatile int room = Integer.MAX_VALUE;

    CountingFakeWorker(String id) {
        this.id = id;
    }

    @Override
    public String workerId() {
        return id;
    }

    @Override
    public SandboxHandle createSandbox(SandboxSpec spec) {
        if (live.size() >= room) {
            throw new dev.ignis.worker.WorkerAtCapacityException(id, live.size() + " sandboxes");
        }
        creates.incrementAndGet();
        var h = new SandboxHandle(id + "-sb-" + sequence.incrementAndGet(), id, spec, Duration.ofMillis(1));
        live.put(h.sandboxId(), h);
        return h;
    }

    @Override
    public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
        throw new UnsupportedOperationException("CountingFakeWorker is a test double: it runs no sandboxes");
    }

    @Override
    public void retire(String sandboxId) {
        retires.incrementAndGet();
        live.remove(sandboxId);
    }

    @Override
    public Collection<SandboxHandle> sandboxes() {
        return List.copyOf(live.values());
    }

    @Override
    public void close() {}
}
