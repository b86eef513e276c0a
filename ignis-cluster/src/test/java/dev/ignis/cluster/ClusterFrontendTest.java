package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.frontend.ApiRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which requests a frontend serves itself and which it forwards, and to which group's leader. */
class ClusterFrontendTest {
    static ApiRequest req(String method, String path, String type) {
        return new ApiRequest(method, path, "", type == null ? Map.of() : Map.of("x-amz-invocation-type", List.of(type)), new byte[0]);
    }

    @Test
    void syncInvokesStayDryRunStaysEventsGoToTheEventsLeaderEverythingElseToConfig() {
        String inv = "/2015-03-31/functions/f/invocations";
        assertThat(ClusterFrontend.groupFor(req("POST", inv, null))).isNull();
        assertThat(ClusterFrontend.groupFor(req("POST", inv, "RequestResponse"))).isNull();
        assertThat(ClusterFrontend.groupFor(req("POST", inv, "DryRun"))).isNull();
        assertThat(ClusterFrontend.groupFor(req("POST", inv, "Event"))).isEqualTo(Topology.EVENTS_GROUP);
        assertThat(ClusterFrontend.groupFor(req("POST", "/2015-03-31/functions", null))).isEqualTo(Topology.CONFIG_GROUP);
        assertThat(ClusterFrontend.groupFor(req("GET", "/2015-03-31/functions/f", null))).isEqualTo(Topology.CONFIG_GROUP);
        assertThat(ClusterFrontend.groupFor(req("POST", "/ignis-admin/account-list", null))).isEqualTo(Topology.CONFIG_GROUP);
        assertThat(ClusterFrontend.groupFor(req("GET", inv, null))).isEqualTo(Topology.CONFIG_GROUP); // not an invoke: 404 there
        // a forwarded answer cannot carry a stream: served (and, with remote workers, refused) by this frontend
        assertThat(ClusterFrontend.groupFor(req("POST", "/2021-11-15/functions/f/response-streaming-invocations", null))).isNull();
    }
}
