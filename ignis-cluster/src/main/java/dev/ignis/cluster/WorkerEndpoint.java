package dev.ignis.cluster;

import dev.ignis.cluster.rpc.Empty;
import dev.ignis.cluster.rpc.InvokeMsg;
import dev.ignis.cluster.rpc.OutcomeMsg;
import dev.ignis.cluster.rpc.RetireMsg;
import dev.ignis.cluster.rpc.SandboxHandleMsg;
import dev.ignis.cluster.rpc.SandboxListMsg;
import dev.ignis.cluster.rpc.SandboxSpecMsg;
import dev.ignis.cluster.rpc.WorkerServiceGrpc;
import dev.ignis.worker.SandboxGoneException;
import dev.ignis.worker.Worker;
import io.grpc.stub.StreamObserver;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/** A worker node's face to the cluster: the {@link Worker} calls, over gRPC. */
public final class WorkerEndpoint extends WorkerServiceGrpc.WorkerServiceImplBase {
    private final Worker worker;
    /** New at every start: a restarted worker holds none of the sandboxes of its previous life. */
    private final String incarnation = UUID.randomUUID().toString();
    private final AtomicLong created = new AtomicLong();

    public WorkerEndpoint(Worker worker) {
        this.worker = worker;
    }

    @Override
    public void createSandbox(SandboxSpecMsg request, StreamObserver<SandboxHandleMsg> out) {
        Rpc.unary(out, () -> {
            created.incrementAndGet();
            return Messages.handle(worker.createSandbox(Messages.spec(request)));
        });
    }

    @Override
    public void invoke(InvokeMsg request, StreamObserver<OutcomeMsg> out) {
        Rpc.unary(out, () -> {
            try {
                return Messages.outcome(worker.invoke(request.getSandboxId(), Messages.invoke(request)));
            } catch (SandboxGoneException gone) {
                return OutcomeMsg.newBuilder().setSandboxGone(true).setGoneReason(gone.getMessage()).build();
            }
        });
    }

    @Override
    public void retire(RetireMsg request, StreamObserver<Empty> out) {
        Rpc.unary(out, () -> {
            worker.retire(request.getSandboxId());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void listSandboxes(Empty request, StreamObserver<SandboxListMsg> out) {
        Rpc.unary(out, () -> {
            var b = SandboxListMsg.newBuilder().setIncarnation(incarnation).setCreatedTotal(created.get());
            worker.sandboxes().forEach(h -> b.addSandboxes(Messages.handle(h)));
            return b.build();
        });
    }
}
