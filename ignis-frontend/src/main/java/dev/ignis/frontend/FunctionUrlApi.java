package dev.ignis.frontend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionName;
import dev.ignis.config.FunctionRequests;
import dev.ignis.config.FunctionUrl;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Create/Get/Update/Delete/ListFunctionUrlConfig(s) (the 2021-10-31 API) in botocore's shapes. The
 * rules live in {@code ConfigStore.createUrl} and its neighbours; the serving in {@link FunctionUrlGateway}.
 */
final class FunctionUrlApi {
    private final ConfigStore config;
    private final UrlHosts hosts;

    FunctionUrlApi(ConfigStore config, UrlHosts hosts) {
        this.config = config;
        this.hosts = hosts;
    }

    ApiResponse create(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        String qualifier = fn.qualifierOr(r.query().get("Qualifier"));
        var b = RequestBody.parse(r.body());
        if (b.text("AuthType") == null) {
            throw LambdaException.invalidParameter("AuthType is required: NONE or AWS_IAM");
        }
        var url = config.createUrl(fn.key(), qualifier, input(b));
        var out = shape(fn, url, r);
        out.remove("LastModifiedTime"); // CreateFunctionUrlConfigResponse has none
        return ApiResponse.json(201, out);
    }

    ApiResponse get(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        return ApiResponse.json(200, shape(fn, config.url(fn.key(), fn.qualifierOr(r.query().get("Qualifier"))), r));
    }

    ApiResponse update(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        var url = config.updateUrl(fn.key(), fn.qualifierOr(r.query().get("Qualifier")), input(RequestBody.parse(r.body())));
        return ApiResponse.json(200, shape(fn, url, r));
    }

    ApiResponse delete(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        config.deleteUrl(fn.key(), fn.qualifierOr(r.query().get("Qualifier")));
        return ApiResponse.empty(204);
    }

    ApiResponse list(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        List<FunctionUrl> urls = config.function(fn.key()).urls().values().stream().sorted(Comparator.comparing(FunctionUrl::key)).toList();
        return Paging.page(r, urls, u -> "k" + u.key(), "FunctionUrlConfigs", u -> shape(fn, u, r));
    }

    private static FunctionRequests.UrlConfig input(RequestBody b) {
        FunctionUrl.Cors cors = null;
        if (b.node("Cors") != null) {
            JsonNode credentials = b.node("Cors.AllowCredentials");
            if (credentials != null && !credentials.isBoolean()) {
                throw LambdaException.invalidRequestContent("Could not parse request body into json: Cors.AllowCredentials must be a boolean");
            }
            cors = new FunctionUrl.Cors(credentials == null ? null : credentials.booleanValue(), b.strings("Cors.AllowHeaders"),
                    b.strings("Cors.AllowMethods"), b.strings("Cors.AllowOrigins"), b.strings("Cors.ExposeHeaders"), b.integer("Cors.MaxAge"));
        }
        return new FunctionRequests.UrlConfig(b.text("AuthType"), cors, b.text("InvokeMode"));
    }

    private Map<String, Object> shape(FunctionName fn, FunctionUrl u, ApiRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("FunctionUrl", hosts.url(u.urlId(), r.header("host")));
        m.put("FunctionArn", ConfigStore.functionArn(fn.accountId(), fn.name()) + (u.qualifier() == null ? "" : ":" + u.qualifier()));
        m.put("AuthType", u.authType());
        if (u.cors() != null) {
            var c = u.cors();
            Map<String, Object> cors = new LinkedHashMap<>();
            if (c.allowCredentials() != null) {
                cors.put("AllowCredentials", c.allowCredentials());
            }
            cors.put("AllowHeaders", c.allowHeaders());
            cors.put("AllowMethods", c.allowMethods());
            cors.put("AllowOrigins", c.allowOrigins());
            cors.put("ExposeHeaders", c.exposeHeaders());
            if (c.maxAge() != null) {
                cors.put("MaxAge", c.maxAge());
            }
            m.put("Cors", cors);
        }
        m.put("CreationTime", u.creationTime());
        m.put("LastModifiedTime", u.lastModifiedTime());
        m.put("InvokeMode", u.invokeMode());
        return m;
    }
}
