package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionKey;
import dev.ignis.config.FunctionName;
import dev.ignis.config.Region;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * TagResource, UntagResource and ListTags (the 2017-03-31 API) on function ARNs. The resource is
 * always a full ARN (botocore's TaggableResource); tags belong to the function, so a version or
 * alias ARN is refused, as Lambda refuses it. A function of another account is AccessDenied, as
 * for every other operation ({@link FunctionName#parse}). The limits are {@code Limits.tags}.
 */
final class TagsApi {
    private static final Pattern FUNCTION_ARN = Pattern.compile(
            "arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(-gov)?-[a-z]+-\\d):(\\d{12}):function:([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    /** Other taggable Lambda resources: Ignis has none of them yet. */
    private static final Pattern OTHER_ARN = Pattern.compile(
            "arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\\d:\\d{12}:(code-signing-config|event-source-mapping|capacity-provider):[a-zA-Z0-9-_]+");

    private final ConfigStore config;

    TagsApi(ConfigStore config) {
        this.config = config;
    }

    ApiResponse list(String account, String resource) {
        return ApiResponse.json(200, Map.of("Tags", config.function(function(account, resource)).tags()));
    }

    ApiResponse tag(String account, String resource, ApiRequest r) {
        FunctionKey key = function(account, resource);
        var b = RequestBody.parse(r.body());
        config.tag(key, b.stringMap("Tags"));
        return ApiResponse.empty(204);
    }

    ApiResponse untag(String account, String resource, ApiRequest r) {
        FunctionKey key = function(account, resource);
        config.untag(key, r.queryAll("tagKeys"));
        return ApiResponse.empty(204);
    }

    private static FunctionKey function(String account, String resource) {
        var m = FUNCTION_ARN.matcher(resource == null ? "" : resource);
        if (resource == null || resource.length() > 256 || !m.matches()) {
            if (resource != null && OTHER_ARN.matcher(resource).matches()) {
                throw LambdaException.notFound("Resource not found: " + resource);
            }
            throw new LambdaException(400, "ValidationException", "1 validation error detected: Value '" + resource
                    + "' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: " + FUNCTION_ARN.pattern());
        }
        var fn = FunctionName.parse(resource.substring(0, m.end(4)), account); // AccessDenied for another account's function
        if (m.group(6) != null) {
            throw LambdaException.invalidParameter("Tags are not supported on function versions or aliases: tag the unqualified function ARN "
                    + ConfigStore.functionArn(fn.accountId(), fn.name()));
        }
        if (!m.group(1).equals(Region.NAME)) {
            throw ConfigStore.notFound(fn.accountId(), fn.name(), null);
        }
        return fn.key();
    }
}
