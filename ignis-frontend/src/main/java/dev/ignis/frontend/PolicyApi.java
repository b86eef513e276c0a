package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionName;
import dev.ignis.config.FunctionRequests;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AddPermission, RemovePermission and GetPolicy (the 2015-03-31 API) on a function, or on one of
 * its versions or aliases ({@code Qualifier}, or a qualified ARN). Only the owner manages a
 * policy: another account's function is AccessDenied here as everywhere ({@link FunctionName#parse});
 * what a policy grants is enforced on Invoke ({@link InvokePath}). The members Ignis cannot honour
 * (organization principals, event source tokens) are refused by name, never stored and ignored;
 * the function URL conditions ({@code FunctionUrlAuthType}, {@code InvokedViaFunctionUrl}) are
 * stored and enforced by {@link FunctionUrlGateway}. The statement rules live in {@code ConfigStore.addPermission}.
 */
final class PolicyApi {
    private static final List<String> UNSUPPORTED = List.of("EventSourceToken", "PrincipalOrgID");

    private final ConfigStore config;

    PolicyApi(ConfigStore config) {
        this.config = config;
    }

    ApiResponse add(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        String qualifier = fn.qualifierOr(r.query().get("Qualifier"));
        var b = RequestBody.parse(r.body());
        for (String field : UNSUPPORTED) {
            if (b.node(field) != null) {
                throw LambdaException.invalidParameter(field + " is not supported: Ignis has no AWS Organizations or event sources "
                        + "to condition a permission on");
            }
        }
        var statement = config.addPermission(fn.key(), qualifier, new FunctionRequests.AddPermission(b.text("StatementId"),
                b.text("Action"), b.text("Principal"), b.text("SourceArn"), b.text("SourceAccount"), b.text("RevisionId"),
                b.text("FunctionUrlAuthType"), b.node("InvokedViaFunctionUrl") == null ? null : b.bool("InvokedViaFunctionUrl")));
        return ApiResponse.json(201, Map.of("Statement", ConfigStore.json(statement.document())));
    }

    ApiResponse remove(String account, String name, String statementId, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var q = r.query();
        config.removePermission(fn.key(), fn.qualifierOr(q.get("Qualifier")), statementId, q.get("RevisionId"));
        return ApiResponse.empty(204);
    }

    ApiResponse get(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var policy = config.policy(fn.key(), fn.qualifierOr(r.query().get("Qualifier")));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Policy", ConfigStore.json(policy.document()));
        out.put("RevisionId", policy.revisionId());
        return ApiResponse.json(200, out);
    }
}
