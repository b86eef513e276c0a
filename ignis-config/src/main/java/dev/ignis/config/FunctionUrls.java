package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.security.SecureRandom;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks Create/UpdateFunctionUrlConfig input as botocore's model bounds it (FunctionUrlQualifier,
 * FunctionUrlAuthType, InvokeMode, Cors) and chooses URL ids. Cors values are echoed by the
 * platform in response headers, so beyond the model's lengths every value must be visible ASCII
 * (a CR or LF there would let a URL's owner split the platform's responses).
 */
final class FunctionUrls {
    private static final Pattern QUALIFIER = Pattern.compile("(^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))");
    private static final Pattern METHOD = Pattern.compile("\\*|[A-Z]{1,6}");
    private static final Pattern VISIBLE = Pattern.compile("[\\x21-\\x7e]+");
    private static final Pattern URL_ID = Pattern.compile("[a-z0-9]{32}");
    private static final char[] ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private FunctionUrls() {}

    static void qualifier(String q) {
        if (q != null && (q.isEmpty() || q.length() > 128 || !QUALIFIER.matcher(q).matches())) {
            throw Limits.constraint("qualifier", q, "Member must satisfy regular expression pattern: " + QUALIFIER.pattern()
                    + " (a function URL belongs to the function, an alias or $LATEST; not to a version)");
        }
    }

    static String authType(String authType) {
        if (authType == null || !(authType.equals(FunctionUrl.AUTH_NONE) || authType.equals(FunctionUrl.AUTH_IAM))) {
            throw Limits.constraint("authType", authType, "Member must satisfy enum value set: [NONE, AWS_IAM]");
        }
        return authType;
    }

    static String invokeMode(String mode) {
        if (mode != null && !(mode.equals(FunctionUrl.BUFFERED) || mode.equals(FunctionUrl.RESPONSE_STREAM))) {
            throw Limits.constraint("invokeMode", mode, "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]");
        }
        return mode;
    }

    static FunctionUrl.Cors cors(FunctionUrl.Cors c) {
        if (c == null) {
            return null;
        }
        list("cors.allowHeaders", c.allowHeaders(), 100, 1024);
        list("cors.exposeHeaders", c.exposeHeaders(), 100, 1024);
        list("cors.allowOrigins", c.allowOrigins(), 100, 253);
        list("cors.allowMethods", c.allowMethods(), 6, 6);
        for (String m : c.allowMethods()) {
            if (!METHOD.matcher(m).matches()) {
                throw LambdaException.invalidParameter("Cors.AllowMethods must be HTTP methods in upper case (GET, POST, ...) or *: " + m);
            }
        }
        if (c.maxAge() != null && (c.maxAge() < 0 || c.maxAge() > 86400)) {
            throw Limits.constraint("cors.maxAge", c.maxAge(), "Member must have value less than or equal to 86400 and greater than or equal to 0");
        }
        return c;
    }

    private static void list(String field, List<String> values, int maxItems, int maxLength) {
        if (values.size() > maxItems) {
            throw Limits.constraint(field, values, "Member must have length less than or equal to " + maxItems);
        }
        for (String v : values) {
            if (v == null || v.isEmpty() || v.length() > maxLength) {
                throw Limits.constraint(field, v, "Member must have length less than or equal to " + maxLength + " and at least 1");
            }
            if (!VISIBLE.matcher(v).matches()) {
                throw LambdaException.invalidParameter(field + " values must be visible ASCII characters without spaces: " + v.strip());
            }
        }
    }

    /** A new id: 32 letters and digits (as Lambda's), from a strong random source, unused in the image. */
    static String newId(ConfigImage image) {
        while (true) {
            char[] id = new char[32];
            for (int i = 0; i < id.length; i++) {
                id[i] = ID_CHARS[RANDOM.nextInt(ID_CHARS.length)];
            }
            String s = new String(id);
            if (image.functions().values().stream().flatMap(f -> f.urls().values().stream()).noneMatch(u -> u.urlId().equals(s))) {
                return s;
            }
        }
    }

    static boolean isId(String s) {
        return s != null && URL_ID.matcher(s).matches();
    }
}
