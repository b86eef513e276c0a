package dev.ignis.cluster;

import com.google.protobuf.ByteString;
import dev.ignis.cluster.rpc.ControlServiceGrpc;
import dev.ignis.cluster.rpc.HttpRequestMsg;
import dev.ignis.cluster.rpc.HttpResponseMsg;
import dev.ignis.common.LambdaException;
import dev.ignis.frontend.ApiRequest;
import dev.ignis.frontend.ApiResponse;
import dev.ignis.frontend.FrontendServer;
import dev.ignis.frontend.LambdaApi;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A frontend in cluster mode. Synchronous invokes are served here, from the local configuration
 * replica, leasing from the assignment leaders and calling workers directly — the talk's invoke
 * path. Every request that writes (the control plane, Event invokes) and every administrative call
 * is forwarded, as the client sent it, to the leader of the group that owns it; after a write the
 * frontend waits until its replica holds it, so a client that created a function can invoke it at
 * once through the same frontend.
 */
public final class ClusterFrontend implements FrontendServer.Handler {
    private static final Pattern INVOKE = Pattern.compile("/2015-03-31/functions/[^/]+/invocations");
    private static final Pattern STREAMING_INVOKE = Pattern.compile("/2021-11-15/functions/[^/]+/response-streaming-invocations");
    private static final Duration RETRY_FOR = Duration.ofSeconds(15);
    private static final Duration READ_YOUR_WRITES = Duration.ofSeconds(5);

    private final FrontendServer.Handler local;
    private final ConfigReplica replica;
    private final LeaderWatch leaders;
    private final Rpc.Channels channels;
    private final Topology topology;

    public ClusterFrontend(FrontendServer.Handler local, ConfigReplica replica, LeaderWatch leaders, Rpc.Channels channels,
                           Topology topology) {
        this.local = local;
        this.replica = replica;
        this.leaders = leaders;
        this.channels = channels;
        this.topology = topology;
    }

    /** Every request's head is judged here, by the local API, before its body is read, forwarded or not. */
    @Override
    public FrontendServer.Admission admit(ApiRequest head) {
        return local.admit(head);
    }

    @Override
    public ApiResponse refuse(ApiRequest head, LambdaException e) {
        return local.refuse(head, e);
    }

    @Override
    public ApiResponse handle(ApiRequest r, FrontendServer.Admission admission) {
        String group = local.servesLocally(r) ? null : groupFor(r); // a function URL request is an invoke: served here
        if (group == null) {
            return local.handle(r, admission);
        }
        try {
            return forward(r, group);
        } catch (LambdaException e) {
            return ApiResponse.error(e, UUID.randomUUID().toString());
        }
    }

    /** Which group's leader must take the request; null when this frontend serves it itself. */
    static String groupFor(ApiRequest r) {
        if ("GET".equals(r.method()) && "/ignis-admin/metrics".equals(r.rawPath())) {
            return null; // each frontend's invokes are its own: its metrics are scraped from it
        }
        if ("POST".equals(r.method()) && INVOKE.matcher(r.rawPath()).matches()) {
            return "Event".equals(r.header("x-amz-invocation-type")) ? Topology.EVENTS_GROUP : null;
        }
        if ("POST".equals(r.method()) && STREAMING_INVOKE.matcher(r.rawPath()).matches()) {
            return null; // an invoke, served here: a forwarded answer could not carry a stream (and workers refuse it for now)
        }
        return Topology.CONFIG_GROUP;
    }

    private ApiResponse forward(ApiRequest r, String group) {
        Map<String, String> headers = new LinkedHashMap<>();
        r.headers().forEach((k, v) -> headers.put(k, String.join(",", v)));
        var msg = HttpRequestMsg.newBuilder().setMethod(r.method()).setPath(r.rawPath())
                .setRawQuery(r.rawQuery() == null ? "" : r.rawQuery()).putAllHeaders(headers)
                .setBody(ByteString.copyFrom(r.body())).setGroup(group).build();
        List<Topology.Node> members = topology.withRole(Topology.Role.CONFIG);
        long deadline = System.nanoTime() + RETRY_FOR.toNanos();
        for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
            Topology.Node node = leaders.leaderOf(group).flatMap(topology::node)
                    .orElse(members.get(attempt % members.size()));
            HttpResponseMsg out;
            try {
                out = ControlServiceGrpc.newBlockingStub(channels.to(node.rpcTarget()))
                        .withDeadlineAfter(120, TimeUnit.SECONDS).forward(msg);
            } catch (StatusRuntimeException e) {
                if (Rpc.isNotLeader(e) || Rpc.unreachable(e)) {
                    String hint = Rpc.leaderHint(e);
                    leaders.forget(group, node.id());
                    leaders.learned(group, hint != null && !hint.equals(node.id()) ? hint : null);
                    sleep(Math.min(200, 20L * (attempt + 1)));
                    continue;
                }
                throw LambdaException.service("forwarding to " + group + " leader failed: " + e.getStatus());
            }
            if (out.getHeadersMap().containsKey(LambdaApi.RETRY_ELSEWHERE)) {
                // the member stopped leading between its check and its append: nothing changed, ask the leader
                leaders.forget(group, node.id());
                sleep(Math.min(200, 20L * (attempt + 1)));
                continue;
            }
            if (out.getConfigIndex() > 0) {
                replica.awaitIndex(out.getConfigIndex(), READ_YOUR_WRITES);
            }
            return new ApiResponse(out.getStatus(), out.getHeadersMap(), out.getBody().toByteArray());
        }
        throw new LambdaException(503, "ServiceException", "No " + group + " leader answered within " + RETRY_FOR.toSeconds() + " s");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw LambdaException.service("interrupted");
        }
    }
}
