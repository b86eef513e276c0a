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
 */
public record PolicyStatement(String sid, String principalKind, String principal, String action, String resource,
                              String sourceArn, String sourceAccount) {
    public static final String AWS = "AWS";
    public static final String SERVICE = "Service";
    private static final Pattern ACCOUNT_ROOT = Pattern.compile("arn:aws:iam::(\\d{12}):root");

    /** True when the statement lets {@code callerAccount} invoke the function. */
    public boolean allowsInvoke(String callerAccount) {
        return AWS.equals(principalKind) && principal.equals("arn:aws:iam::" + callerAccount + ":root")
                && (action.equals("lambda:InvokeFunction") || action.equals("lambda:*"))
                && sourceArn == null && sourceAccount == null;
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
        s.put("Principal", Map.of(principalKind, principal));
        s.put("Action", action);
        s.put("Resource", resource);
        Map<String, Object> condition = new LinkedHashMap<>();
        if (sourceAccount != null) {
            condition.put("StringEquals", Map.of("AWS:SourceAccount", sourceAccount));
        }
        if (sourceArn != null) {
            condition.put("ArnLike", Map.of("AWS:SourceArn", sourceArn));
        }
        if (!condition.isEmpty()) {
            s.put("Condition", condition);
        }
        return s;
    }
}
