package dev.ignis.frontend;

import dev.ignis.async.Event;
import dev.ignis.async.EventInvokeConfig;
import dev.ignis.async.EventQueue;
import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionConfig;
import dev.ignis.config.FunctionEntry;
import dev.ignis.config.FunctionName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) (the 2019-09-25 API). */
final class EventInvokeConfigApi {
    private final ConfigStore config;
    private final EventQueue events;

    EventInvokeConfigApi(ConfigStore config, EventQueue events) {
        this.config = config;
        this.events = events;
    }

    ApiResponse put(String account, String name, ApiRequest r, boolean merge) {
        var key = key(account, name, r);
        var b = RequestBody.parse(r.body());
        var saved = events.putConfig(key, b.integer("MaximumRetryAttempts"), b.integer("MaximumEventAgeInSeconds"),
                b.text("DestinationConfig.OnSuccess.Destination"), b.text("DestinationConfig.OnFailure.Destination"), merge);
        return ApiResponse.json(200, shape(key, saved));
    }

    ApiResponse get(String account, String name, ApiRequest r) {
        var key = key(account, name, r);
        return ApiResponse.json(200, shape(key, events.config(key).orElseThrow(() ->
                LambdaException.notFound("The function " + arn(key) + " doesn't have an EventInvokeConfig"))));
    }

    ApiResponse delete(String account, String name, ApiRequest r) {
        events.deleteConfig(key(account, name, r));
        return ApiResponse.empty(204);
    }

    ApiResponse list(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        config.function(fn.key());
        var configs = events.configs(fn.accountId(), fn.name()).stream()
                .sorted(java.util.Comparator.comparing((Map.Entry<Event.ConfigKey, EventInvokeConfig> e) -> order(e.getKey().qualifier())))
                .toList();
        return Paging.page(r, configs, e -> order(e.getKey().qualifier()), "FunctionEventInvokeConfigs", e -> shape(e.getKey(), e.getValue()));
    }

    /** $LATEST, then versions by number, then aliases by name. */
    private static String order(String qualifier) {
        return qualifier.matches("\\d{1,18}") ? "1" + ControlPlane.versionOrder(qualifier)
                : FunctionConfig.LATEST.equals(qualifier) ? "0" : "2" + qualifier;
    }

    private Event.ConfigKey key(String account, String name, ApiRequest r) {
        var fn = FunctionName.parse(name, account);
        String qualifier = fn.qualifierOr(r.query().get("Qualifier"));
        FunctionEntry entry = config.function(fn.key());
        if (entry.resolve(qualifier) == null) {
            throw ConfigStore.notFound(fn.accountId(), fn.name(), qualifier);
        }
        return new Event.ConfigKey(fn.accountId(), fn.name(), qualifier == null ? "$LATEST" : qualifier);
    }

    private static String arn(Event.ConfigKey key) {
        return ConfigStore.functionArn(key.accountId(), key.functionName()) + ":" + key.qualifier();
    }

    private static Map<String, Object> shape(Event.ConfigKey key, EventInvokeConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("LastModified", c.lastModifiedEpochMillis() / 1000.0);
        m.put("FunctionArn", arn(key));
        m.put("MaximumRetryAttempts", c.maximumRetryAttempts());
        m.put("MaximumEventAgeInSeconds", c.maximumEventAgeInSeconds());
        Map<String, Object> dest = new LinkedHashMap<>();
        if (c.onSuccess() != null) {
            dest.put("OnSuccess", Map.of("Destination", c.onSuccess()));
        }
        if (c.onFailure() != null) {
            dest.put("OnFailure", Map.of("Destination", c.onFailure()));
        }
        m.put("DestinationConfig", dest);
        return m;
    }
}
