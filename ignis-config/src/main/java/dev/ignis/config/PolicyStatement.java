package dev.ignis.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One statement of a function's resource-based policy, as AddPermission takes it: an id unique in
 * the policy, a principal (an AWS account, given as its id or its {@code arn:aws:iam::ID:root}, an
 * IAM user or role ARN, or a service such as {@code s3.amazonaws.com}), a {@code lambda:} action, the
 * resource (the function's ARN, qualified when the policy is a version's or an alias's) and the
 * optional {@code SourceArn} / {@code SourceAccount} conditions.
 *
 * <p>What it grants in Ignis ({@link #allowsInvoke}): an AWS account principal in its root form,
 * for {@code lambda:InvokeFunction} or {@code lambda:*}, with no condition — a condition names the
 * resource or account a service acts for, and a direct call carries neither, so it never matches.
 * Service principals and IAM user/role ARNs are stored and returned but grant nothing: Ignis has
 * no AWS services and no IAM identities calling it.
 *
 * <p>Function URLs ({@link #grantsUrl}, {@link #grantsInvokeViaUrl}): a URL call needs both
 * {@code lambda:InvokeFunctionUrl} (conditioned, or not, on {@code lambda:FunctionUrlAuthType}) and
 * {@code lambda:InvokeFunction} (conditioned, or not, on {@code lambda:InvokedViaFunctionUrl}), as
 * Lambda requires of URLs created since October 2025. The public principal {@code *} is accepted
 * for these two actions only, and a public {@code lambda:InvokeFunction} grants URL calls only:
 * Ignis never opens the Invoke API itself to every account (narrower than IAM would read it).
 */
public record PolicyStatement(String sid, String principalKind, String principal, String action, String resource,
                              String sourceArn, String sourceAccount, String functionUrlAuthType, Boolean invokedViaFunctionUrl) {
    public static final String AWS = "AWS";
    public static final String SERVICE = "Service";
    /** The public principal. */
    public static final String EVERYONE = "*";
    private static final Pattern ACCOUNT_ROOT = Pattern.compile("arn:aws:iam::(\\d{12}):root");

    public PolicyStatement(String sid, String principalKind, String principal, String action, String resource, String sourceArn,
                           String sourceAccount) {
        this(sid, principalKind, principal, action, resource, sourceArn, sourceAccount, null, null);
    }

    /** True when the statement lets {@code callerAccount} invoke the function (the Invoke API, not a URL). */
    public boolean allowsInvoke(String callerAccount) {
        return AWS.equals(principalKind) && principal.equals("arn:aws:iam::" + callerAccount + ":root")
                && (action.equals("lambda:InvokeFunction") || action.equals("lambda:*"))
                && sourceArn == null && sourceAccount == null && !Boolean.TRUE.equals(invokedViaFunctionUrl);
    }

    /**
     * True when the statement grants {@code lambda:InvokeFunctionUrl} on a URL of {@code authType} to
     * the caller: {@code callerAccount} null for an anonymous caller (only {@code *} grants it).
     */
    public boolean grantsUrl(String callerAccount, String authType) {
        return principalMatches(callerAccount) && (action.equals("lambda:InvokeFunctionUrl") || action.equals("lambda:*"))
                && (functionUrlAuthType == null || functionUrlAuthType.equals(authType)) && sourceArn == null && sourceAccount == null;
    }

    /** True when the statement grants {@code lambda:InvokeFunction} to the caller of a function URL. */
    public boolean grantsInvokeViaUrl(String callerAccount) {
        return principalMatches(callerAccount) && (action.equals("lambda:InvokeFunction") || action.equals("lambda:*"))
                && functionUrlAuthType == null && sourceArn == null && sourceAccount == null;
    }

    private boolean principalMatches(String callerAccount) {
        return AWS.equals(principalKind)
                && (principal.equals(EVERYONE) || callerAccount != null && principal.equals("arn:aws:iam::" + callerAccount + ":root"));
    }

    /** The account of an account principal, or null. */
    public String principalAccount() {
        var m = ACCOUNT_ROOT.matcher(principal);
        return AWS.equals(principalKind) && m.matches() ? m.group(1) : null;
    }

    /** The statement as Lambda renders it in the policy document. */
    public Map<String, Object> document() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("Sid", sid);
        s.put("Effect", "Allow");
        s.put("Principal", EVERYONE.equals(principal) ? EVERYONE : Map.of(principalKind, principal));
        s.put("Action", action);
        s.put("Resource", resource);
        Map<String, Object> condition = new LinkedHashMap<>();
        Map<String, Object> equals = new LinkedHashMap<>();
        if (sourceAccount != null) {
            equals.put("AWS:SourceAccount", sourceAccount);
        }
        if (functionUrlAuthType != null) {
            equals.put("lambda:FunctionUrlAuthType", functionUrlAuthType);
        }
        if (!equals.isEmpty()) {
            condition.put("StringEquals", equals);
        }
        if (sourceArn != null) {
            condition.put("ArnLike", Map.of("AWS:SourceArn", sourceArn));
        }
        if (invokedViaFunctionUrl != null) {
            condition.put("Bool", Map.of("lambda:InvokedViaFunctionUrl", invokedViaFunctionUrl.toString()));
        }
        if (!condition.isEmpty()) {
            s.put("Condition", condition);
        }
        return s;
    }
}
