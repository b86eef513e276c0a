package dev.ignis.cluster;

import dev.ignis.common.LambdaException;
import dev.ignis.journal.NotLeaderException;
import dev.ignis.worker.WorkerAtCapacityException;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** gRPC plumbing shared by every role: the server, one channel per peer, and how errors cross the wire. */
public final class Rpc {
    private static final Logger LOG = LoggerFactory.getLogger(Rpc.class);
    /** Trailer naming the leader when a follower refuses a call. */
    static final Metadata.Key<String> LEADER = Metadata.Key.of("ignis-leader", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> ERROR_TYPE = Metadata.Key.of("ignis-error-type", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> ERROR_STATUS = Metadata.Key.of("ignis-error-status", Metadata.ASCII_STRING_MARSHALLER);
    /** Trailer of a worker's refusal for capacity. */
    static final Metadata.Key<String> AT_CAPACITY = Metadata.Key.of("ignis-at-capacity", Metadata.ASCII_STRING_MARSHALLER);
    static final String NOT_LEADER = "not-leader";
    /** Internal payloads reach 6 MB invokes and 50 MB code uploads (forwarded as JSON, base64). */
    static final int MAX_MESSAGE = 96 * 1024 * 1024;
    /**
     * A fixed HTTP/2 flow-control window (issue 19). Setting one turns off gRPC's automatic window
     * tuning, which measures bandwidth with a PING and its ack alongside the calls' data — two more
     * frames, two more event-loop wake-ups on each side of a loopback call whose payload is a few
     * hundred bytes. 4 MiB covers a 6 MB invoke payload in two window updates.
     */
    static final int FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

    private Rpc() {}

    /**
     * Starts a server on the address with this package's endpoints; handlers run on virtual threads
     * (they block). Closing the result stops it.
     */
    public static AutoCloseable serve(InetSocketAddress address, List<?> endpoints) {
        var b = NettyServerBuilder.forAddress(address).maxInboundMessageSize(MAX_MESSAGE)
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                .executor(Executors.newVirtualThreadPerTaskExecutor());
        for (Object e : endpoints) {
            if (!(e instanceof BindableService service)) {
                throw new IllegalArgumentException(e.getClass().getName() + " is not an RPC endpoint");
            }
            b.addService(service);
        }
        try {
            Server server = b.build().start();
            return () -> stop(server);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for cluster RPC on " + address, e);
        }
    }

    static void stop(Server server) {
        server.shutdown();
        try {
            if (!server.awaitTermination(3, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    /**
     * One channel per target, reused by every call (HTTP/2 multiplexes them). A call that finds its
     * peer unreachable cuts the channel's reconnect backoff short: a node that was down (restarted,
     * or a new leader's host coming back) is used again at the next call, not after gRPC's backoff of
     * up to two minutes.
     */
    public static final class Channels implements AutoCloseable {
        private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

        public ManagedChannel to(String target) {
            return channels.computeIfAbsent(target, t -> {
                var self = new java.util.concurrent.atomic.AtomicReference<ManagedChannel>();
                ManagedChannel ch = NettyChannelBuilder.forTarget(t).usePlaintext().maxInboundMessageSize(MAX_MESSAGE)
                        .flowControlWindow(FLOW_CONTROL_WINDOW)
                        .intercept(new ReconnectPromptly(self)).build();
                self.set(ch);
                return ch;
            });
        }

        @Override
        public void close() {
            channels.values().forEach(ManagedChannel::shutdownNow);
        }
    }

    private record ReconnectPromptly(java.util.concurrent.atomic.AtomicReference<ManagedChannel> channel)
            implements io.grpc.ClientInterceptor {
        @Override
        public <Q, A> io.grpc.ClientCall<Q, A> interceptCall(io.grpc.MethodDescriptor<Q, A> method, io.grpc.CallOptions options,
                                                              io.grpc.Channel next) {
            return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<A> listener, Metadata headers) {
                    super.start(new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            ManagedChannel c = channel.get();
                            if (status.getCode() == Status.Code.UNAVAILABLE && c != null) {
                                c.resetConnectBackoff();
                            }
                            super.onClose(status, trailers);
                        }
                    }, headers);
                }
            };
        }
    }

    /** Runs a unary handler: its value, or the error mapped to a status the client can map back. */
    static <T> void unary(StreamObserver<T> out, Supplier<T> call) {
        T value;
        try {
            value = call.get();
        } catch (NotLeaderException e) {
            out.onError(notLeader(e.leaderHint()));
            return;
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (WorkerAtCapacityException e) {
            Metadata m = new Metadata();
            m.put(AT_CAPACITY, e.workerId()); // gRPC's own RESOURCE_EXHAUSTED (a message over the limit) has no such trailer
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException(m));
            return;
        } catch (LambdaException e) {
            Metadata m = new Metadata();
            m.put(ERROR_TYPE, e.type());
            m.put(ERROR_STATUS, Integer.toString(e.status()));
            out.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException(m));
            return;
        } catch (RuntimeException e) {
            LOG.warn("cluster call failed", e);
            out.onError(Status.INTERNAL.withDescription(e.getClass().getSimpleName() + ": " + e.getMessage()).asRuntimeException());
            return;
        }
        out.onNext(value);
        out.onCompleted();
    }

    static StatusRuntimeException notLeader(String leaderId) {
        Metadata m = new Metadata();
        if (leaderId != null) {
            m.put(LEADER, leaderId);
        }
        return Status.FAILED_PRECONDITION.withDescription(NOT_LEADER).asRuntimeException(m);
    }

    /** The leader a follower named when refusing, or null; only for not-leader refusals. */
    static boolean isNotLeader(StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION && NOT_LEADER.equals(e.getStatus().getDescription());
    }

    static String leaderHint(StatusRuntimeException e) {
        Metadata t = e.getTrailers();
        return t == null ? null : t.get(LEADER);
    }

    /** True when the call could not have reached the peer's handler (dead or unreachable node). */
    static boolean unreachable(StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.UNAVAILABLE;
    }

    /**
     * True when the call certainly never reached the peer: no connection could be made (refused, or
     * timed out connecting: a {@link java.net.ConnectException} among the causes). UNAVAILABLE alone
     * does not say it — gRPC reports a connection lost in the middle of a call the same way.
     */
    static boolean neverSent(StatusRuntimeException e) {
        if (!unreachable(e)) {
            return false;
        }
        for (Throwable t = e.getStatus().getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
    }

    /** True when a worker refused a sandbox for capacity (nothing was created there). */
    static boolean atCapacity(StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED && e.getTrailers() != null
                && e.getTrailers().get(AT_CAPACITY) != null;
    }

    /** Turns a remote failure back into what the local code would have thrown. */
    static RuntimeException local(StatusRuntimeException e) {
        Metadata t = e.getTrailers();
        if (t != null && t.get(ERROR_TYPE) != null) {
            return new LambdaException(Integer.parseInt(t.get(ERROR_STATUS)), t.get(ERROR_TYPE), e.getStatus().getDescription());
        }
        if (isNotLeader(e)) {
            return new NotLeaderException(leaderHint(e));
        }
        return e;
    }
}
