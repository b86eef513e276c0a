package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxGoneException;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import dev.ignis.worker.WorkerAtCapacityException;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The worker calls across gRPC (in-process transport): every field and every failure comes back as the local call's. */
class WorkerRpcTest {
    /** A test double: records calls, runs nothing. */
    static class RecordingWorker implements Worker {
        final List<String> retired = new CopyOnWriteArrayList<>();
        final List<SandboxHandle> held = new CopyOnWriteArrayList<>();

        @Override
        public String workerId() {
            return "w-local";
        }

        @Override
        public SandboxHandle createSandbox(SandboxSpec spec) {
            if (spec.memoryMb() == 1) {
                throw LambdaException.invalidParameter("no such memory");
            }
            if (spec.memoryMb() == 2) {
                throw new WorkerAtCapacityException(workerId(), "full");
            }
            var h = new SandboxHandle("sb-" + held.size(), workerId(), spec, Duration.ofMillis(42));
            held.add(h);
            return h;
        }

        @Override
        public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
            if (sandboxId.equals("gone")) {
                throw new SandboxGoneException(sandboxId, "exit 0");
            }
            return new InvokeOutcome(InvokeOutcome.Status.FUNCTION_ERROR, request.payload(), request.tailLog() ? "dGFpbA==" : null,
                    false, Duration.ofMillis(7), request.tailLog() ? Duration.ofMillis(120) : null);
        }

        @Override
        public void retire(String sandboxId) {
            retired.add(sandboxId);
        }

        @Override
        public Collection<SandboxHandle> sandboxes() {
            return held;
        }

        @Override
        public void close() {}
    }

    final RecordingWorker local = new RecordingWorker();
    final String name = InProcessServerBuilder.generateName();
    Server server;
    ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    RemoteWorker remote() throws Exception {
        server = InProcessServerBuilder.forName(name).directExecutor().addService(new WorkerEndpoint(local)).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        return new RemoteWorker("w1", channel);
    }

    static SandboxSpec spec(int memory) {
        return new SandboxSpec("123456789012", "us-east-1", "f", "arn:aws:lambda:us-east-1:123456789012:function:f", "$LATEST",
                "rev", "python3.11", "app.handler", memory, 3, 512, Map.of("A", "1"), Path.of("/code"));
    }

    @Test
    void createInvokeListRetireRoundTrip() throws Exception {
        RemoteWorker w = remote();
        SandboxHandle h = w.createSandbox(spec(128));
        assertThat(h.sandboxId()).isEqualTo("sb-0");
        assertThat(h.spec()).isEqualTo(spec(128));
        assertThat(h.initDuration()).isEqualTo(Duration.ofMillis(42));

        var out = w.invoke("sb-0", new InvokeRequest("req-1", "{\"x\":1}".getBytes(), "arn", "{\"c\":1}", null, true));
        assertThat(out.status()).isEqualTo(InvokeOutcome.Status.FUNCTION_ERROR);
        assertThat(new String(out.payload())).isEqualTo("{\"x\":1}");
        assertThat(out.logTail()).isEqualTo("dGFpbA==");
        assertThat(out.sandboxReusable()).isFalse();
        assertThat(out.duration()).isEqualTo(Duration.ofMillis(7));
        assertThat(out.initDuration()).isEqualTo(Duration.ofMillis(120));
        assertThat(w.invoke("sb-0", new InvokeRequest("req-2", new byte[0], "arn", null, null, false)).initDuration()).isNull();

        var list = w.list(1_000);
        assertThat(list.getCreatedTotal()).isEqualTo(1);
        assertThat(list.getIncarnation()).isNotBlank();
        assertThat(w.sandboxes()).extracting(SandboxHandle::sandboxId).containsExactly("sb-0");
        w.retire("sb-0");
        assertThat(local.retired).containsExactly("sb-0");
    }

    @Test
    void failuresComeBackAsTheLocalCallsWould() throws Exception {
        RemoteWorker w = remote();
        assertThatThrownBy(() -> w.createSandbox(spec(1))).isInstanceOf(LambdaException.class)
                .hasMessageContaining("no such memory")
                .satisfies(e -> assertThat(((LambdaException) e).type()).isEqualTo("InvalidParameterValueException"));
        assertThatThrownBy(() -> w.createSandbox(spec(2))).isInstanceOf(WorkerAtCapacityException.class)
                .hasMessageContaining("full").satisfies(e -> assertThat(((WorkerAtCapacityException) e).workerId()).isEqualTo("w1"));
        assertThatThrownBy(() -> w.invoke("gone", new InvokeRequest("r", new byte[0], "arn", null, null, false)))
                .isInstanceOf(SandboxGoneException.class).hasMessageContaining("exit 0");
    }

    /**
     * No connection to the worker could be made (a closed port, like a killed node's): the invoke never
     * reached a runtime, so it is reported as a gone sandbox and the invoke path may place it elsewhere —
     * at the first call and at the next one, which finds the channel already failing.
     */
    @Test
    void anUnreachableWorkerMeansTheSandboxIsGone() throws Exception {
        int closed;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (var channels = new Rpc.Channels()) {
            RemoteWorker w = new RemoteWorker("w9", channels.to("127.0.0.1:" + closed));
            for (int i = 0; i < 2; i++) {
                assertThatThrownBy(() -> w.invoke("sb-1", new InvokeRequest("r", new byte[0], "arn", null, null, false)))
                        .isInstanceOf(SandboxGoneException.class).hasMessageContaining("unreachable");
            }
        }
    }

    /**
     * The worker dies while the invoke runs on it (its server torn down mid-call, as a kill -9 closes
     * its sockets): gRPC says UNAVAILABLE, as for a refused connection, but the runtime may have run the
     * invoke, so it must not be sent to another sandbox. The client gets a 500 ServiceException naming
     * its request id; the invoke ran once. (Before: SandboxGoneException, and the invoke ran again.)
     */
    @Test
    void anInvokeLostWhileItRunsIsAnsweredWithAServiceErrorAndNotRunAgain() throws Exception {
        var entered = new java.util.concurrent.CountDownLatch(1);
        var release = new java.util.concurrent.CountDownLatch(1);
        var runs = new java.util.concurrent.atomic.AtomicInteger();
        Worker blocking = new RecordingWorker() {
            @Override
            public InvokeOutcome invoke(String sandboxId, InvokeRequest request) {
                runs.incrementAndGet();
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.invoke(sandboxId, request);
            }
        };
        Server netty = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
                .forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
                .addService(new WorkerEndpoint(blocking)).build().start();
        try (var channels = new Rpc.Channels()) {
            RemoteWorker w = new RemoteWorker("w1", channels.to("127.0.0.1:" + netty.getPort()));
            var call = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> w.invoke("sb-0", new InvokeRequest("req-lost", new byte[0], "arn", null, null, false)));
            assertThat(entered.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the invoke reached the worker").isTrue();
            netty.shutdownNow();
            assertThatThrownBy(() -> call.get(30, java.util.concurrent.TimeUnit.SECONDS))
                    .cause().isInstanceOf(LambdaException.class).hasMessageContaining("req-lost")
                    .satisfies(e -> {
                        assertThat(((LambdaException) e).type()).isEqualTo("ServiceException");
                        assertThat(((LambdaException) e).status()).isEqualTo(500);
                        assertThat(((LambdaException) e).userFault()).isFalse();
                    })
                    .hasMessageNotContaining("w1"); // which worker ran it is none of the client's business
            assertThat(runs).hasValue(1);
        } finally {
            release.countDown();
            netty.shutdownNow();
        }
    }
}
