package dev.ignis.dist;

import com.fasterxml.jackson.databind.JsonNode;
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
    static Object run(ConfigStore config, String op, String arg) {
        return switch (op) {
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

    static final List<String> OPERATIONS = List.of("account-create", "account-list", "account-delete", "key-create", "key-rotate", "key-revoke");

    /** The server side: POST /ignis-admin/{op} with {"arg": "..."} and "Authorization: Bearer <token>". */
    record Endpoint(ConfigStore config, String token) implements LambdaApi.AdminHandler {
        @Override
        public ApiResponse handle(ApiRequest r) {
            String auth = r.header("authorization");
            if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8),
                    ("Bearer " + token).getBytes(StandardCharsets.UTF_8))) {
                throw LambdaException.accessDenied("admin token required");
            }
            String op = r.rawPath().substring("/ignis-admin/".length());
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
            return ApiResponse.json(200, run(config, op, arg));
        }
    }
}
