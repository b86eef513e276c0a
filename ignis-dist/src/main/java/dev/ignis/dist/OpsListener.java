package dev.ignis.dist;

import dev.ignis.common.LambdaException;
import dev.ignis.frontend.ApiRequest;
import dev.ignis.frontend.ApiResponse;
import dev.ignis.frontend.FrontendServer;
import dev.ignis.frontend.Health;

/**
 * The operator's port ({@code --metrics-port}): {@code GET /metrics} without a token, and the health
 * probes, on 127.0.0.1 only, so that a local Prometheus agent (or a sidecar) can scrape without the
 * admin token and nothing off the host can. Every other request is refused by its head.
 */
final class OpsListener implements FrontendServer.Handler {
    static final String HOST = "127.0.0.1";
    private final Metrics metrics;

    private OpsListener(Metrics metrics) {
        this.metrics = metrics;
    }

    /** Listens on 127.0.0.1:{@code port} (0: a free port). */
    static FrontendServer start(int port, Metrics metrics, Health health) {
        return new FrontendServer(HOST, port, new OpsListener(metrics), health);
    }

    @Override
    public FrontendServer.Admission admit(ApiRequest head) {
        if ("GET".equals(head.method()) && "/metrics".equals(head.rawPath())) {
            return new FrontendServer.Admission("Metrics", 0, null);
        }
        throw LambdaException.notFound("Only GET /metrics, /healthz and /readyz are served here");
    }

    @Override
    public ApiResponse handle(ApiRequest request, FrontendServer.Admission admission) {
        return Admin.scrape(metrics);
    }
}
