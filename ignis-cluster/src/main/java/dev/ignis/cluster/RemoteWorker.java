package dev.ignis.cluster;

import dev.ignis.cluster.rpc.Empty;
import dev.ignis.cluster.rpc.OutcomeMsg;
import dev.ignis.cluster.rpc.RetireMsg;
import dev.ignis.cluster.rpc.SandboxListMsg;
import dev.ignis.cluster.rpc.WorkerServiceGrpc;
import dev.ignis.common.LambdaException;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker on another node, called over gRPC.
 *
 * <p>A synchronous invoke runs at most once, as on Lambda. It is sent to another sandbox only when the
 * platform knows it never reached the runtime: the worker answered that the sandbox was gone before it
 * took the invoke, or no connection to the worker could be made ({@link Rpc#neverSent}): both are
 * reported as {@link SandboxGoneException}, so the invoke path retires the sandbox and tries another.
 * Any other failure of the call (the connection lost while the invoke ran, the worker killed -9 in
 * the middle: gRPC says UNAVAILABLE for both cases, as for a refused connection) may come after the
 * runtime took the invoke, so it is answered with {@link #lostMidInvoke} and never run again; until
 * 2026-12 it was re-run, and a worker killed under load ran some invokes twice. A sandbox
 * creation that finds the worker unreachable is reported as {@link WorkerUnreachableException}, so
 * placement tries another worker (never as a bare gRPC status, which the assignment node would pass
 * back to the frontend as if the assignment node itself were unreachable); one the worker refused for
 * capacity comes back as {@link WorkerAtCapacityException}, so placement tries the other workers.
 */
public final class RemoteWorker implements Worker {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteWorker.class);
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
            if (Rpc.neverSent(e)) {
                throw new SandboxGoneException(sandboxId, "worker " + workerId + " unreachable: " + e.getStatus());
            }
            RuntimeException local = Rpc.local(e);
            if (local instanceof StatusRuntimeException) {
                // the call may have reached the runtime: the invoke may have run, so it is not run again
                LOG.warn("invoke {} on sandbox {} of worker {} lost: {}", request.requestId(), sandboxId, workerId, e.getStatus());
                throw lostMidInvoke(request.requestId());
            }
            throw local;
        }
        if (m.getSandboxGone()) {
            throw new SandboxGoneException(sandboxId, m.getGoneReason());
        }
        return Messages.outcome(m);
    }

    /**
     * What the client gets when the worker running its invoke stopped answering: Lambda's error for a
     * failure of the service itself (500 ServiceException, Type "Service"), with the request id. Not a
     * function error: the platform does not know whether the runtime exited or still runs (a partition).
     * Which worker it was is none of the client's business (it is in the frontend's log).
     */
    static LambdaException lostMidInvoke(String requestId) {
        return LambdaException.service("RequestId: " + requestId + " The execution environment stopped answering while the "
                + "invoke ran: the function may have run, and the invoke was not run again.");
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
