package dev.ignis.frontend;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /healthz} and {@code GET /readyz}, as Kubernetes probes and load balancers expect:
 * unauthenticated, answered from the request's head alone (no body byte is read), 200 or 503 with
 * a small JSON body. {@code /healthz} says the process serves HTTP; {@code /readyz} runs this
 * node's checks (journal leader known, worker up, runtimes installed, ...). The body names each
 * check and says {@code ok} or {@code failing}: no ids, addresses, versions or counts.
 */
public record Health(List<Check> checks) {
    public static final String HEALTHZ = "/healthz";
    public static final String READYZ = "/readyz";

    /** One readiness condition; {@code name} is a fixed phrase of Ignis, never tenant data. */
    public record Check(String name, BooleanSupplier passed) {}

    public Health {
        checks = List.copyOf(checks);
    }

    /** True when the path is one of the probes (GET or HEAD). */
    static boolean isProbe(String method, String rawPath) {
        return ("GET".equals(method) || "HEAD".equals(method)) && (HEALTHZ.equals(rawPath) || READYZ.equals(rawPath));
    }

    ApiResponse answer(String rawPath) {
        if (HEALTHZ.equals(rawPath)) {
            return ApiResponse.json(200, Map.of("status", "ok"));
        }
        Map<String, String> results = new LinkedHashMap<>();
        boolean ready = true;
        for (Check c : checks) {
            boolean ok;
            try {
                ok = c.passed().getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            results.put(c.name(), ok ? "ok" : "failing");
            ready &= ok;
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("status", ready ? "ready" : "not ready");
        body.put("checks", results);
        return ApiResponse.json(ready ? 200 : 503, body).withHeader("Cache-Control", "no-store");
    }
}
