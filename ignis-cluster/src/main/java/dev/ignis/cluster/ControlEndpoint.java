package dev.ignis.cluster;

import com.google.protobuf.ByteString;
import dev.ignis.cluster.rpc.ConfigEntryMsg;
import dev.ignis.cluster.rpc.ControlServiceGrpc;
import dev.ignis.cluster.rpc.HttpRequestMsg;
import dev.ignis.cluster.rpc.HttpResponseMsg;
import dev.ignis.cluster.rpc.WatchConfigMsg;
import dev.ignis.config.ConfigStore;
import dev.ignis.frontend.ApiRequest;
import dev.ignis.frontend.ApiResponse;
import dev.ignis.frontend.FrontendServer;
import dev.ignis.journal.Journal;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A config node's face to the frontends: the configuration log as a stream (each frontend's replica
 * is fed from it), and the Lambda API requests that write, forwarded by frontends to the leader of
 * the group that owns the write (config for the control plane, events for Event invokes).
 */
public final class ControlEndpoint extends ControlServiceGrpc.ControlServiceImplBase {
    private final ConfigStore config;
    private final Map<String, Journal> groups;
    private final FrontendServer.Handler api;

    /**
     * @param groups the groups this node is a member of, by name ({@link Topology#CONFIG_GROUP}, {@link Topology#EVENTS_GROUP})
     * @param api    this node's Lambda API (SigV4 is verified here, on the request exactly as the client sent it)
     */
    public ControlEndpoint(ConfigStore config, Map<String, ? extends Journal> groups, FrontendServer.Handler api) {
        this.config = config;
        this.groups = Map.copyOf(groups);
        this.api = api;
    }

    @Override
    public void watchConfig(WatchConfigMsg request, StreamObserver<ConfigEntryMsg> out) {
        var o = (ServerCallStreamObserver<ConfigEntryMsg>) out;
        Runnable cancel = config.watch(new ConfigStore.RecordSink() {
            @Override
            public void snapshot(long index, byte[] snapshot) {
                send(ConfigEntryMsg.newBuilder().setIndex(index).setSnapshot(ByteString.copyFrom(snapshot)).build());
            }

            @Override
            public void record(long index, byte[] record) {
                send(ConfigEntryMsg.newBuilder().setIndex(index).setRecord(ByteString.copyFrom(record)).build());
            }

            private void send(ConfigEntryMsg m) {
                if (!o.isCancelled()) {
                    try {
                        o.onNext(m);
                    } catch (RuntimeException gone) {
                        // the subscriber went away; its cancel handler removes this sink
                    }
                }
            }
        });
        o.setOnCancelHandler(cancel::run);
    }

    @Override
    public void forward(HttpRequestMsg request, StreamObserver<HttpResponseMsg> out) {
        Rpc.unary(out, () -> {
            Journal group = groups.get(request.getGroup());
            if (group == null) {
                throw new IllegalArgumentException("this node holds no group " + request.getGroup());
            }
            if (!group.isLeader()) {
                throw Rpc.notLeader(group.leaderId().orElse(null));
            }
            // A new leader takes writes once its first entry of the term is applied; until then the
            // frontend waits and asks again (a request is never half-handled by a member about to step down).
            if (!group.awaitLeader(java.time.Duration.ofSeconds(2))) {
                throw Rpc.notLeader(null);
            }
            Map<String, List<String>> headers = new LinkedHashMap<>();
            request.getHeadersMap().forEach((k, v) -> headers.put(k, List.of(v)));
            ApiResponse r = api.handle(new ApiRequest(request.getMethod(), request.getPath(),
                    request.getRawQuery(), headers, request.getBody().toByteArray()));
            return HttpResponseMsg.newBuilder().setStatus(r.status()).putAllHeaders(r.headers())
                    .setBody(ByteString.copyFrom(r.body())).setConfigIndex(config.image().appliedIndex()).build();
        });
    }
}
