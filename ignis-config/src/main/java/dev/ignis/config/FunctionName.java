package dev.ignis.config;

import dev.ignis.common.LambdaException;
import java.util.regex.Pattern;

/**
 * The FunctionName path parameter: a name ({@code my-function}), a partial ARN
 * ({@code 123456789012:function:my-function}) or a full ARN, each optionally with a qualifier.
 */
public record FunctionName(String accountId, String name, String qualifier) {
    private static final Pattern PATTERN = Pattern.compile(
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9-_]{1,64}");

    /**
     * Parses the parameter for a caller. Naming a function of another account is
     * AccessDeniedException: a caller sees and touches only its own account.
     */
    public static FunctionName parse(String raw, String callerAccountId) {
        FunctionName fn = parseAnyAccount(raw, callerAccountId);
        if (!fn.accountId().equals(callerAccountId)) {
            throw crossAccount(raw);
        }
        return fn;
    }

    /**
     * As {@link #parse}, but an ARN may name another account's function: for Invoke, which lets
     * that account's resource policy decide ({@code InvokePath}). The caller must check it.
     */
    public static FunctionName parseAnyAccount(String raw, String callerAccountId) {
        if (raw == null || raw.isEmpty() || raw.length() > 256) {
            throw LambdaException.invalidParameter("FunctionName must be 1 to 256 characters");
        }
        if (NAME.matcher(raw).matches()) {
            return new FunctionName(callerAccountId, raw, null); // a plain name, as nearly every invoke sends it: no ARN to take apart
        }
        var m = PATTERN.matcher(raw);
        if (!m.matches()) {
            throw new LambdaException(400, "ValidationException",
                    "1 validation error detected: Value '" + raw + "' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                            + PATTERN.pattern());
        }
        String account = m.group(5) == null ? callerAccountId : m.group(5).substring(0, 12);
        String name = m.group(7);
        if (!NAME.matcher(name).matches()) {
            throw LambdaException.invalidParameter("Function name must be 1 to 64 characters of letters, numbers, hyphens and underscores");
        }
        return new FunctionName(account, name, m.group(9));
    }

    /** The refusal of an operation on another account's function that its policy does not allow. */
    public static LambdaException crossAccount(String raw) {
        return LambdaException.accessDenied("User is not authorized to perform this action on resource " + raw
                + " because the function belongs to another account");
    }

    public FunctionKey key() {
        return new FunctionKey(accountId, name);
    }

    /** The qualifier from the ARN, or else the one from the query string; they must not disagree. */
    public String qualifierOr(String queryQualifier) {
        if (qualifier != null && queryQualifier != null && !qualifier.equals(queryQualifier)) {
            throw LambdaException.invalidParameter("The derived qualifier from the function name does not match the specified qualifier.");
        }
        return qualifier != null ? qualifier : queryQualifier;
    }
}
