package dev.ignis.dist;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.async.Event;
import dev.ignis.async.EventQueue;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.frontend.ApiRequest;
import dev.ignis.frontend.ApiResponse;
import dev.ignis.frontend.LambdaApi;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;

/**
 * Accounts and keys administration. The same operations run against a running server (over
 * {@code /ignis-admin/}, with the data directory's admin token) or, when none runs, directly on
 * the data directory's config store.
 */
final class Admin {
    private Admin() {}

    /** One administrative operation with its single argument (a name or an id; empty for list). */
    static Object run(ConfigStore config, EventQueue events, String op, String arg) {
        return switch (op) {
            case "events-list" -> Map.of("pending", events.pending().stream().map(Admin::summary).toList(),
                    "deadLetters", events.deadLetters().stream().map(d -> {
                        var m = new java.util.LinkedHashMap<String, Object>(summary(d.event()));
                        m.put("condition", d.condition());
                        m.put("failedAt", java.time.Instant.ofEpochMilli(d.failedAt()).toString());
                        return m;
                    }).toList());
            case "events-show" -> events.deadLetter(arg).map(d -> (Object) Map.of("event", summary(d.event()), "condition", d.condition(),
                            "payload", new String(d.event().payload(), java.nio.charset.StandardCharsets.UTF_8),
                            "lastError", String.valueOf(d.event().lastError())))
                    .or(() -> events.pending().stream().filter(e -> e.requestId().equals(arg)).findFirst().map(e -> (Object) Map.of(
                            "event", summary(e), "payload", new String(e.payload(), java.nio.charset.StandardCharsets.UTF_8))))
                    .orElseThrow(() -> LambdaException.notFound("No event " + arg));
            case "events-redrive" -> {
                events.redrive(arg);
                yield Map.of("redriven", arg);
            }
            case "events-stats" -> events.stats();
            case "account-create" -> config.createAccount(arg);
            case "account-list" -> config.image().allAccounts().stream()
                    .sorted(java.util.Comparator.comparing(dev.ignis.config.Account::name))
                    .map(a -> Map.of("accountId", a.accountId(), "name", a.name(), "created", a.created().toString(),
                            "accessKeyIds", config.image().keys().values().stream()
                                    .filter(k -> k.accountId().equals(a.accountId())).map(k -> k.accessKeyId()).sorted().toList()))
                    .toList();
            case "account-delete" -> {
                config.deleteAccount(arg);
                yield Map.of("deleted", arg);
            }
            case "key-create" -> config.createKey(arg);
            case "key-rotate" -> config.rotateKey(arg);
            case "key-revoke" -> {
                config.revokeKey(arg);
                yield Map.of("revoked", arg);
            }
            default -> throw LambdaException.invalidParameter("unknown admin operation " + op);
        };
    }

    static final List<String> OPERATIONS = List.of("account-create", "account-list", "account-delete", "key-create", "key-rotate", "key-revoke",
            "events-list", "events-show", "events-redrive", "events-stats");

    private static Map<String, Object> summary(Event e) {
        return Map.of("requestId", e.requestId(), "accountId", e.accountId(), "function", e.functionName(),
                "qualifier", String.valueOf(e.qualifier()), "enqueuedAt", java.time.Instant.ofEpochMilli(e.enqueuedAt()).toString(),
                "attempts", e.attempts());
    }

    /** The server side: POST /ignis-admin/{op} with {"arg": "..."} and "Authorization: Bearer <token>". */
    record Endpoint(ConfigStore config, EventQueue events, Metrics metrics, String token) implements LambdaApi.AdminHandler {
        @Override
        public void authorize(ApiRequest head) {
            requireToken(head, token);
        }

        @Override
        public ApiResponse handle(ApiRequest r) {
            authorize(r);
            String op = r.rawPath().substring("/ignis-admin/".length());
            if ("metrics".equals(op) && "GET".equals(r.method())) {
                return scrape(metrics);
            }
            if (!"POST".equals(r.method()) || !OPERATIONS.contains(op)) {
                throw LambdaException.notFound("unknown admin operation " + op);
            }
            String arg;
            try {
                JsonNode body = r.body().length == 0 ? null : Json.mapper().readTree(r.body());
                arg = body == null || body.get("arg") == null ? "" : body.get("arg").asText();
            } catch (IOException e) {
                throw LambdaException.invalidRequestContent("admin request body must be JSON");
            }
            return ApiResponse.json(200, run(config, events, op, arg));
        }
    }

    /**
     * A cluster frontend's admin endpoint: it answers only {@code GET /ignis-admin/metrics} (its own
     * invokes' meters) itself; every other admin request is forwarded to the config leader, after this
     * check of the token here too.
     */
    record MetricsEndpoint(Metrics metrics, String token) implements LambdaApi.AdminHandler {
        @Override
        public void authorize(ApiRequest head) {
            requireToken(head, token);
        }

        @Override
        public ApiResponse handle(ApiRequest r) {
            authorize(r);
            if ("GET".equals(r.method()) && METRICS_PATH.equals(r.rawPath())) {
                return scrape(metrics);
            }
            throw LambdaException.notFound("unknown admin operation " + r.rawPath());
        }
    }

    static final String METRICS_PATH = "/ignis-admin/metrics";

    static ApiResponse scrape(Metrics metrics) {
        return new ApiResponse(200, Map.of("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }

    private static void requireToken(ApiRequest head, String token) {
        String auth = head.header("authorization");
        if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8),
                ("Bearer " + token).getBytes(StandardCharsets.UTF_8))) {
            throw LambdaException.accessDenied("admin token required");
        }
    }
}
