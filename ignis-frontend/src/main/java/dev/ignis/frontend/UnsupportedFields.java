package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import java.util.List;

/**
 * The CreateFunction / UpdateFunctionConfiguration members (botocore's model) that Ignis does not
 * implement. None is dropped without a word: a value that would change what the function does or
 * where it runs is refused with 400 {@code InvalidParameterValueException} naming the field and
 * why; a value that asks for what Ignis does anyway (an empty VpcConfig, {@code TracingConfig}
 * PassThrough, {@code SnapStart} None, text logs to the default log group, an empty KMSKeyArn) is
 * accepted, since that is what the response reports. Checked before anything is stored.
 */
final class UnsupportedFields {
    private UnsupportedFields() {}

    static void check(RequestBody b, String functionName) {
        if (!empty(b.strings("VpcConfig.SubnetIds")) || !empty(b.strings("VpcConfig.SecurityGroupIds"))) {
            throw refuse("VpcConfig", "Ignis does not attach functions to a VPC: each sandbox has its own network namespace "
                    + "with outbound access only; send VpcConfig with empty SubnetIds and SecurityGroupIds, or none");
        }
        if (b.node("FileSystemConfigs") != null && (!b.node("FileSystemConfigs").isArray() || !b.node("FileSystemConfigs").isEmpty())) {
            throw refuse("FileSystemConfigs", "Ignis does not mount EFS or other file systems into sandboxes");
        }
        if (b.node("ImageConfig") != null && (!empty(b.strings("ImageConfig.EntryPoint")) || !empty(b.strings("ImageConfig.Command"))
                || b.text("ImageConfig.WorkingDirectory") != null)) {
            throw refuse("ImageConfig", "it applies to container image packages, which Ignis does not run (PackageType Zip only)");
        }
        if (notEmpty(b.text("DeadLetterConfig.TargetArn"))) {
            throw refuse("DeadLetterConfig", "Ignis has no SQS or SNS to send failed events to; they are kept in its own dead-letter "
                    + "queue (ignis events list, redrive)");
        }
        if (notEmpty(b.text("KMSKeyArn"))) {
            throw refuse("KMSKeyArn", "Ignis has no KMS: environment variables are stored with the configuration, not encrypted "
                    + "with a customer managed key");
        }
        String tracing = b.text("TracingConfig.Mode");
        if (tracing != null && !tracing.equals("PassThrough")) {
            throw refuse("TracingConfig", "Ignis has no X-Ray: only Mode PassThrough is supported");
        }
        String snapStart = b.text("SnapStart.ApplyOn");
        if (snapStart != null && !snapStart.equals("None")) {
            throw refuse("SnapStart", "Ignis does not snapshot initialized execution environments: only ApplyOn None is supported");
        }
        String format = b.text("LoggingConfig.LogFormat");
        String logGroup = b.text("LoggingConfig.LogGroup");
        if ((format != null && !format.equals("Text")) || b.text("LoggingConfig.ApplicationLogLevel") != null
                || b.text("LoggingConfig.SystemLogLevel") != null
                || (logGroup != null && !logGroup.equals("/aws/lambda/" + functionName))) {
            throw refuse("LoggingConfig", "Ignis writes text logs to the function's own log (ignis logs FUNCTION): only LogFormat Text, "
                    + "no log levels and the default log group /aws/lambda/" + functionName + " are supported");
        }
        if (notEmpty(b.text("CodeSigningConfigArn"))) {
            throw refuse("CodeSigningConfigArn", "Ignis does not verify code signatures");
        }
        for (String field : List.of("CapacityProviderConfig", "DurableConfig", "TenancyConfig", "PublishTo")) {
            if (b.node(field) != null) {
                throw refuse(field, "Ignis does not implement it");
            }
        }
    }

    private static boolean empty(List<String> list) {
        return list == null || list.isEmpty();
    }

    private static boolean notEmpty(String s) {
        return s != null && !s.isEmpty();
    }

    private static LambdaException refuse(String field, String why) {
        return LambdaException.invalidParameter(field + " is not supported: " + why);
    }
}
