package dev.ignis.config;

import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Checks an AddPermission request as Lambda does and builds its {@link PolicyStatement}: the
 * statement id and action patterns of botocore's model, a principal that is an account (its id is
 * rewritten to {@code arn:aws:iam::ID:root}, as Lambda stores it), an IAM user or role ARN or a
 * service principal, and the 20 KB policy size limit. A public principal ({@code *}) is accepted
 * only for what function URLs need ({@code lambda:InvokeFunctionUrl}, {@code lambda:InvokeFunction});
 * {@code FunctionUrlAuthType} only on {@code lambda:InvokeFunctionUrl} and {@code InvokedViaFunctionUrl}
 * only on {@code lambda:InvokeFunction} (see {@link PolicyStatement}).
 */
final class Permissions {
    static final int MAX_POLICY_BYTES = 20 * 1024;
    private static final Pattern SID = Pattern.compile("[a-zA-Z0-9-_.]{1,100}");
    private static final Pattern ACTION = Pattern.compile("lambda:(\\*|[a-zA-Z]{1,128})");
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
    private static final Pattern IAM = Pattern.compile("arn:aws:iam::\\d{12}:(root|(user|role)/[a-zA-Z0-9+=,.@_/-]{1,512})");
    private static final Pattern SERVICE = Pattern.compile("[a-z0-9]([a-z0-9-]{0,62}\\.){1,5}amazonaws\\.com(\\.cn)?");
    private static final Pattern SOURCE_ARN = Pattern.compile(
            "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.{0,1024})");

    private Permissions() {}

    static PolicyStatement statement(FunctionRequests.AddPermission r, String resource) {
        if (r.statementId() == null || !SID.matcher(r.statementId()).matches()) {
            throw Limits.constraint("statementId", r.statementId(), "Member must satisfy regular expression pattern: " + SID.pattern());
        }
        if (r.action() == null || !ACTION.matcher(r.action()).matches()) {
            throw Limits.constraint("action", r.action(), "Member must satisfy regular expression pattern: " + ACTION.pattern()
                    + " (a function's policy grants only lambda: actions)");
        }
        String p = r.principal();
        String kind;
        String principal;
        if (p == null || p.isEmpty()) {
            throw Limits.constraint("principal", p, "Member must not be null");
        } else if (ACCOUNT.matcher(p).matches()) {
            kind = PolicyStatement.AWS;
            principal = "arn:aws:iam::" + p + ":root";
        } else if (IAM.matcher(p).matches()) {
            kind = PolicyStatement.AWS;
            principal = p;
        } else if (SERVICE.matcher(p).matches()) {
            kind = PolicyStatement.SERVICE;
            principal = p;
        } else if (p.equals(PolicyStatement.EVERYONE)) {
            if (!r.action().equals("lambda:InvokeFunctionUrl") && !r.action().equals("lambda:InvokeFunction")) {
                throw LambdaException.invalidParameter("The provided principal was invalid: Ignis grants everyone (*) only "
                        + "lambda:InvokeFunctionUrl and lambda:InvokeFunction, for function URLs; name an account id or arn:aws:iam::ACCOUNT:root");
            }
            kind = PolicyStatement.AWS;
            principal = PolicyStatement.EVERYONE;
        } else {
            throw LambdaException.invalidParameter("The provided principal was invalid. Please check the principal and try again.");
        }
        if (r.sourceAccount() != null && !ACCOUNT.matcher(r.sourceAccount()).matches()) {
            throw Limits.constraint("sourceAccount", r.sourceAccount(), "Member must satisfy regular expression pattern: \\d{12}");
        }
        if (r.sourceArn() != null && !SOURCE_ARN.matcher(r.sourceArn()).matches()) {
            throw Limits.constraint("sourceArn", r.sourceArn(), "Member must satisfy regular expression pattern: " + SOURCE_ARN.pattern());
        }
        String urlAuth = r.functionUrlAuthType();
        if (urlAuth != null) {
            if (!urlAuth.equals(FunctionUrl.AUTH_NONE) && !urlAuth.equals(FunctionUrl.AUTH_IAM)) {
                throw Limits.constraint("functionUrlAuthType", urlAuth, "Member must satisfy enum value set: [NONE, AWS_IAM]");
            }
            if (!r.action().equals("lambda:InvokeFunctionUrl")) {
                throw LambdaException.invalidParameter("FunctionUrlAuthType applies only to the lambda:InvokeFunctionUrl action");
            }
        }
        if (r.invokedViaFunctionUrl() != null && !r.action().equals("lambda:InvokeFunction")) {
            throw LambdaException.invalidParameter("InvokedViaFunctionUrl applies only to the lambda:InvokeFunction action");
        }
        return new PolicyStatement(r.statementId(), kind, principal, r.action(), resource, r.sourceArn(), r.sourceAccount(), urlAuth,
                Boolean.TRUE.equals(r.invokedViaFunctionUrl()) ? Boolean.TRUE : null);
    }

    static void size(FunctionPolicy policy) {
        int bytes = json(policy.document()).getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_POLICY_BYTES) {
            throw new LambdaException(400, "PolicyLengthExceededException",
                    "The final policy size (" + bytes + ") is bigger than the limit (" + MAX_POLICY_BYTES + ").");
        }
    }

    static String json(Object document) {
        try {
            return Json.mapper().writeValueAsString(document);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
