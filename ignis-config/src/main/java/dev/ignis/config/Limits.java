package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** AWS Lambda's limits and defaults, checked before anything is written. */
public final class Limits {
    public static final int DEFAULT_TIMEOUT = 3;
    public static final int DEFAULT_MEMORY = 128;
    public static final int DEFAULT_EPHEMERAL = 512;
    public static final int ENVIRONMENT_MAX_BYTES = 4096;
    private static final Pattern ROLE = Pattern.compile("arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z]([a-zA-Z0-9_])+");
    private static final Pattern ALIAS = Pattern.compile("(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    private static final Set<String> RESERVED_ENV = Set.of("_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
            "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
            "LAMBDA_RUNTIME_DIR");

    private Limits() {}

    public static void timeout(int seconds) {
        if (seconds < 1 || seconds > 900) {
            throw constraint("timeout", seconds, "Member must have value less than or equal to 900 and greater than or equal to 1");
        }
    }

    public static void memory(int mb) {
        if (mb < 128 || mb > 10240) {
            throw constraint("memorySize", mb, "Member must have value less than or equal to 10240 and greater than or equal to 128");
        }
    }

    public static void ephemeral(int mb) {
        if (mb < 512 || mb > 10240) {
            throw constraint("ephemeralStorage.size", mb, "Member must have value less than or equal to 10240 and greater than or equal to 512");
        }
    }

    public static void description(String d) {
        if (d != null && d.length() > 256) {
            throw constraint("description", "(" + d.length() + " characters)", "Member must have length less than or equal to 256");
        }
    }

    public static void handler(String h) {
        if (h != null && (h.length() > 128 || !h.matches("[^\\s]+"))) {
            throw constraint("handler", h, "Member must satisfy regular expression pattern: [^\\s]+ and have length less than or equal to 128");
        }
    }

    public static void role(String role) {
        if (role == null || !ROLE.matcher(role).matches()) {
            throw constraint("role", role, "Member must satisfy regular expression pattern: " + ROLE.pattern());
        }
    }

    public static void environment(Map<String, String> env) {
        if (env == null) {
            return;
        }
        int bytes = 0;
        for (var e : env.entrySet()) {
            if (!ENV_KEY.matcher(e.getKey()).matches()) {
                throw LambdaException.invalidParameter("Environment variable name " + e.getKey()
                        + " is invalid: names start with a letter and contain only letters, numbers and underscores");
            }
            if (RESERVED_ENV.contains(e.getKey())) {
                throw LambdaException.invalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: " + e.getKey());
            }
            if (e.getValue() != null && e.getValue().indexOf('\0') >= 0) {
                // a C string cannot hold it: the runtime's environment would end there or fail to start
                throw LambdaException.invalidParameter("Environment variable " + e.getKey()
                        + " is invalid: values cannot contain the NUL character");
            }
            bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length
                    + (e.getValue() == null ? 0 : e.getValue().getBytes(StandardCharsets.UTF_8).length);
        }
        if (bytes > ENVIRONMENT_MAX_BYTES) {
            throw LambdaException.invalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: " + bytes);
        }
    }

    public static void aliasName(String name) {
        if (name == null || name.isEmpty() || name.length() > 128 || !ALIAS.matcher(name).matches()) {
            throw constraint("name", name, "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+) and have length 1 to 128");
        }
    }

    public static final int MAX_TAGS = 50;
    /** The characters AWS allows in tag keys and values: letters, digits, spaces and _ . : / = + - @. */
    private static final Pattern TAG_TEXT = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");

    /**
     * A function's tags after a change: at most 50, keys 1 to 128 characters, values 0 to 256, in
     * AWS's tag character set, no key starting with {@code aws:} (any case; AWS reserves them).
     */
    public static void tags(Map<String, String> tags) {
        if (tags == null) {
            return;
        }
        if (tags.size() > MAX_TAGS) {
            throw LambdaException.invalidParameter("Number of tags exceeds resource tag limit: a function has at most " + MAX_TAGS
                    + " tags, this change would give it " + tags.size());
        }
        for (var e : tags.entrySet()) {
            String k = e.getKey();
            if (k.isEmpty() || k.length() > 128 || !TAG_TEXT.matcher(k).matches()) {
                throw LambdaException.invalidParameter("Invalid tag key: a key is 1 to 128 letters, digits, spaces or _ . : / = + - @");
            }
            if (k.regionMatches(true, 0, "aws:", 0, 4)) {
                throw LambdaException.invalidParameter("Invalid tag key. Tag keys cannot start with 'aws:' (case insensitive): they are reserved for AWS use");
            }
            String v = e.getValue();
            if (v == null || v.length() > 256 || !TAG_TEXT.matcher(v).matches()) {
                throw LambdaException.invalidParameter("Invalid tag value for key " + k + ": a value is 0 to 256 letters, digits, spaces or _ . : / = + - @");
            }
        }
    }

    static LambdaException constraint(String field, Object value, String rule) {
        return new LambdaException(400, "ValidationException",
                "1 validation error detected: Value '" + value + "' at '" + field + "' failed to satisfy constraint: " + rule);
    }
}
