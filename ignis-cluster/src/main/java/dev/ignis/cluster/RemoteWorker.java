package dev.ignis.cluster;

import dev.ignis.cluster.rpc.Empty;
import dev.ignis.cluster.rpc.OutcomeMsg;
import dev.ignis.cluster.rpc.RetireMsg;
import dev.ignis.cluster.rpc.SandboxListMsg;
import dev.ignis.cluster.rpc.WorkerServiceGrpc;
import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxGoneException;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.WorkerAtCapacityException;
import dev.ignis.worker.WorkerUnreachableException;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

/**
 * A worker on another node, called over gRPC. A worker that cannot be reached is reported as
 * {@link SandboxGoneException}, so the invoke path retires the sandbox and tries another one — the
 * same as a sandbox that died while idle. gRPC reports a connection lost in the middle of a call the
 * same way (UNAVAILABLE), so an invoke whose worker dies while it runs is run again elsewhere: for
 * that case a synchronous invoke is at-least-once, as a client's own retry would make it. A sandbox
 * creation that finds the worker unreachable is reported as {@link WorkerUnreachableException}, so
 * placement tries another worker (never as a bare gRPC status, which the assignment node would pass
 * back to the frontend as if the assignment node itself were unreachable); one the worker refused for
 * capacity comes back as {@link WorkerAtCapacityException}, so placement tries the other workers.
 */
public final class RemoteWorker implements Worker {
    /** A sandbox's whole life within one call is bounded by Lambda's 900 s timeout plus init. */
    private static final long CALL_SECONDS = 1_000;
    private final String workerId;
    private final WorkerServiceGrpc.WorkerServiceBlockingStub stub;

    public RemoteWorker(String workerId, ManagedChannel channel) {
        this.workerId = workerId;
        this.stub = WorkerServiceGrpc.newBlockingStub(channel);
    }

    @Override
    public String workerId() {
        return workerId;
    }

    @Override
    public SandboxHandle createSandbox(SandboxSpec spec) {
        try {
            return Messages.handle(stub.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).createSandbox(Messages.spec(spec)));
        } catch (StatusRuntimeException e) {
            if (Rpc.unreachable(e)) {
                throw new WorkerUnreachableException(workerId, e.getStatus().toString());
            }
            if (Rpc.atCapacity(e)) {
                throw new WorkerAtCapacityException(workerId, e.getStatus().getDescription());
            }
            throw Rpc.local(e);
        }
    }

    @Override
    public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
        OutcomeMsg m;
        try {
            m = stub.withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS).invoke(Messages.invoke(sandboxId, request));
        } catch (StatusRuntimeException e) {
            if (Rpc.unreachable(e)) {
                throw new SandboxGoneException(sandboxId, "worker " + workerId + " unreachable: " + e.getStatus());
            }
            throw Rpc.local(e);
        }
        if (m.getSandboxGone()) {
            throw new SandboxGoneException(sandboxId, m.getGoneReason());
        }
        return Messages.outcome(m);
    }

    @Override
    public void retire(String sandboxId) {
        try {
            stub.withDeadlineAfter(30, TimeUnit.SECONDS).retire(RetireMsg.newBuilder().setSandboxId(sandboxId).build());
        } catch (StatusRuntimeException e) {
            throw Rpc.local(e);
        }
    }

    /** The worker's sandboxes and incarnation (for reconciliation and for counting placements). */
    public SandboxListMsg list(long timeoutMillis) {
        try {
            return stub.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS).listSandboxes(Empty.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw Rpc.local(e);
        }
    }

    @Override
    public Collection<SandboxHandle> sandboxes() {
        return list(5_000).getSandboxesList().stream().map(Messages::handle).toList();
    }

    /** The channel is shared ({@link Rpc.Channels}) and closed by its owner. */
    @Override
    public void close() {}
}
