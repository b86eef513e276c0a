package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.ApplicationLogLevel;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionEventInvokeConfig;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LogFormat;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.SnapStartApplyOn;
import software.amazon.awssdk.services.lambda.model.SystemLogLevel;
import software.amazon.awssdk.services.lambda.model.TracingMode;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationRequest;

/**
 * What deployment tools (Terraform's AWS provider, the CDK, boto3 scripts) call besides the basic
 * operations: code signing config reads, tags, paging as the SDK paginators drive it, and no
 * request field silently dropped. Every
 * bad input gets an AWS-shaped error and leaves the journal where it was.
 */
class DeployToolsIT extends PlatformTestBase {
    String arn;

    @BeforeAll
    void setUp() {
        arn = lambda.createFunction(b -> b.functionName("tool").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return e\n"))))).functionArn();
    }

    /** Runs the call, expects the AWS error (and message fragment), and checks that the journal did not move. */
    LambdaException rejected(LambdaClient client, Consumer<LambdaClient> call, int status, String errorCode) {
        long index = platform.config().image().appliedIndex();
        var thrown = new LambdaException[1];
        assertThatThrownBy(() -> call.accept(client)).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.statusCode()).as("status of %s", e.getMessage()).isEqualTo(status);
            assertThat(e.awsErrorDetails().errorCode()).as(e.getMessage()).isEqualTo(errorCode);
            thrown[0] = e;
        });
        assertThat(platform.config().image().appliedIndex()).as("journal unchanged").isEqualTo(index);
        return thrown[0];
    }

    LambdaException rejected(Consumer<LambdaClient> call, int status, String errorCode) {
        return rejected(lambda, call, status, errorCode);
    }

    // ---- code signing ------------------------------------------------------------------------

    @Test
    void codeSigningConfigIsReadAsLambdaAnswersForAFunctionWithoutOne() {
        for (String name : List.of("tool", arn)) {
            var got = lambda.getFunctionCodeSigningConfig(b -> b.functionName(name));
            assertThat(got.codeSigningConfigArn()).isEmpty();
            assertThat(got.functionName()).isEqualTo("tool");
        }
        rejected(c -> c.getFunctionCodeSigningConfig(b -> b.functionName("missing")), 404, "ResourceNotFoundException");
        rejected(c -> c.getFunctionCodeSigningConfig(b -> b.functionName(arn.replace(key.accountId(), "999999999999"))), 403,
                "AccessDeniedException");
    }

    @Test
    void attachingOrCreatingACodeSigningConfigIsRefusedBecauseSignaturesAreNotVerified() {
        String csc = "arn:aws:lambda:us-east-1:" + key.accountId() + ":code-signing-config:csc-0123456789abcdefg";
        var put = rejected(c -> c.putFunctionCodeSigningConfig(b -> b.functionName("tool").codeSigningConfigArn(csc)), 400,
                "InvalidParameterValueException");
        assertThat(put.awsErrorDetails().errorMessage()).contains("does not verify code signatures");
        rejected(c -> c.deleteFunctionCodeSigningConfig(b -> b.functionName("tool")), 400, "InvalidParameterValueException");
        var create = rejected(c -> c.createCodeSigningConfig(b -> b.allowedPublishers(p -> p.signingProfileVersionArns(
                "arn:aws:signer:us-east-1:" + key.accountId() + ":/signing-profiles/p/abcdefghij"))), 400, "InvalidParameterValueException");
        assertThat(create.awsErrorDetails().errorMessage()).contains("does not verify code signatures");
        rejected(c -> c.putFunctionCodeSigningConfig(b -> b.functionName("missing").codeSigningConfigArn(csc)), 404, "ResourceNotFoundException");
        rejected(c -> c.deleteFunctionCodeSigningConfig(b -> b.functionName("missing")), 404, "ResourceNotFoundException");
        assertThat(lambda.getFunctionCodeSigningConfig(b -> b.functionName("tool")).codeSigningConfigArn()).isEmpty();
    }

    // ---- tags --------------------------------------------------------------------------------

    @Test
    void tagsOnCreateTagUntagListAndGetFunction() {
        String tagged = lambda.createFunction(b -> b.functionName("tagged").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).tags(Map.of("team", "a", "empty", ""))
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("x = 1\n"))))).functionArn();
        assertThat(lambda.getFunction(b -> b.functionName("tagged")).tags()).isEqualTo(Map.of("team", "a", "empty", ""));
        assertThat(lambda.listTags(b -> b.resource(tagged)).tags()).isEqualTo(Map.of("team", "a", "empty", ""));

        lambda.tagResource(b -> b.resource(tagged).tags(Map.of("team", "b", "cost center", "42 / x:y=z+@_.-")));
        assertThat(lambda.listTags(b -> b.resource(tagged)).tags())
                .isEqualTo(Map.of("team", "b", "empty", "", "cost center", "42 / x:y=z+@_.-"));
        lambda.untagResource(b -> b.resource(tagged).tagKeys("team", "empty", "never-set"));
        assertThat(lambda.listTags(b -> b.resource(tagged)).tags()).isEqualTo(Map.of("cost center", "42 / x:y=z+@_.-"));
        assertThat(lambda.getFunction(b -> b.functionName("tagged").qualifier("$LATEST")).tags()).containsOnlyKeys("cost center");
        // untagged functions have none; a new function of the same name does not inherit the old one's tags
        assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEmpty();
        lambda.deleteFunction(b -> b.functionName("tagged"));
        lambda.createFunction(b -> b.functionName("tagged").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("x = 1\n")))));
        assertThat(lambda.listTags(b -> b.resource(tagged)).tags()).isEmpty();
    }

    @Test
    void tagLimitsAndBadResourcesChangeNothing() {
        Map<String, String> fifty = new HashMap<>();
        IntStream.range(0, 50).forEach(i -> fifty.put("k" + i, "v" + i));
        lambda.tagResource(b -> b.resource(arn).tags(fifty));
        var limit = rejected(c -> c.tagResource(b -> b.resource(arn).tags(Map.of("k50", "v"))), 400, "InvalidParameterValueException");
        assertThat(limit.awsErrorDetails().errorMessage()).contains("tag limit");
        lambda.tagResource(b -> b.resource(arn).tags(Map.of("k0", "replaced"))); // replacing one keeps 50
        assertThat(lambda.listTags(b -> b.resource(arn)).tags()).hasSize(50).containsEntry("k0", "replaced");
        lambda.untagResource(b -> b.resource(arn).tagKeys(fifty.keySet()));
        assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEmpty();

        Map<String, String> fiftyOne = new HashMap<>(fifty);
        fiftyOne.put("k50", "v");
        rejected(c -> c.createFunction(b -> b.functionName("too-many").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).tags(fiftyOne).code(z -> z.zipFile(SdkBytes.fromByteArray(Zips.python("x = 2\n"))))),
                400, "InvalidParameterValueException");
        assertThat(lambda.listFunctions().functions()).extracting(FunctionConfiguration::functionName).doesNotContain("too-many");

        for (Map<String, String> bad : List.of(Map.of("k".repeat(129), "v"), Map.of("k", "v".repeat(257)), Map.of("", "v"),
                Map.of("aws:owner", "me"), Map.of("AWS:Owner", "me"), Map.of("bad\nkey", "v"), Map.of("k", "bad\u0000value"))) {
            rejected(c -> c.tagResource(b -> b.resource(arn).tags(bad)), 400, "InvalidParameterValueException");
        }
        lambda.tagResource(b -> b.resource(arn).tags(Map.of("k".repeat(128), "v".repeat(256))));
        lambda.untagResource(b -> b.resource(arn).tagKeys("k".repeat(128)));

        rejected(c -> c.tagResource(b -> b.resource(arn).tags(Map.of())), 400, "InvalidParameterValueException");
        rejected(c -> c.untagResource(b -> b.resource(arn).tagKeys(List.of())), 400, "InvalidParameterValueException");
        rejected(c -> c.tagResource(b -> b.resource(arn + ":1").tags(Map.of("a", "b"))), 400, "InvalidParameterValueException");
        rejected(c -> c.tagResource(b -> b.resource("tool").tags(Map.of("a", "b"))), 400, "ValidationException");
        rejected(c -> c.tagResource(b -> b.resource(arn.replace("tool", "missing")).tags(Map.of("a", "b"))), 404, "ResourceNotFoundException");
        rejected(c -> c.listTags(b -> b.resource(arn.replace("tool", "missing"))), 404, "ResourceNotFoundException");
        String otherAccount = arn.replace(key.accountId(), "999999999999");
        rejected(c -> c.tagResource(b -> b.resource(otherAccount).tags(Map.of("a", "b"))), 403, "AccessDeniedException");
        rejected(c -> c.untagResource(b -> b.resource(otherAccount).tagKeys("a")), 403, "AccessDeniedException");
        rejected(c -> c.listTags(b -> b.resource(otherAccount)), 403, "AccessDeniedException");
        assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEmpty();
    }

    @Test
    void anotherAccountCannotReadOrChangeTags() {
        lambda.tagResource(b -> b.resource(arn).tags(Map.of("secret", "s")));
        var bob = platform.config().createAccount("bob-tags");
        try (var other = TestPlatform.client(platform.port(), bob.accessKeyId(), bob.secretAccessKey())) {
            rejected(other, c -> c.listTags(b -> b.resource(arn)), 403, "AccessDeniedException");
            rejected(other, c -> c.tagResource(b -> b.resource(arn).tags(Map.of("secret", "mine"))), 403, "AccessDeniedException");
            rejected(other, c -> c.untagResource(b -> b.resource(arn).tagKeys("secret")), 403, "AccessDeniedException");
        } finally {
            assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEqualTo(Map.of("secret", "s"));
            lambda.untagResource(b -> b.resource(arn).tagKeys("secret"));
        }
    }

    // ---- no field silently dropped -----------------------------------------------------------

    static CreateFunctionRequest.Builder good(CreateFunctionRequest.Builder b, String name) {
        return b.functionName(name).runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return e\n"))));
    }

    @Test
    void fieldsIgnisDoesNotImplementAreRefusedNamingTheFieldNotDropped() {
        Map<String, Consumer<CreateFunctionRequest.Builder>> create = new java.util.LinkedHashMap<>();
        create.put("VpcConfig", b -> b.vpcConfig(v -> v.subnetIds("subnet-0123").securityGroupIds("sg-0123")));
        create.put("FileSystemConfigs", b -> b.fileSystemConfigs(f -> f.arn(
                "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0").localMountPath("/mnt/efs")));
        create.put("ImageConfig", b -> b.imageConfig(i -> i.command("app.handler")));
        create.put("DeadLetterConfig", b -> b.deadLetterConfig(d -> d.targetArn("arn:aws:sqs:us-east-1:123456789012:dlq")));
        create.put("KMSKeyArn", b -> b.kmsKeyArn("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
        create.put("TracingConfig", b -> b.tracingConfig(t -> t.mode(TracingMode.ACTIVE)));
        create.put("SnapStart", b -> b.snapStart(x -> x.applyOn(SnapStartApplyOn.PUBLISHED_VERSIONS)));
        create.put("LoggingConfig", b -> b.loggingConfig(l -> l.logFormat(LogFormat.JSON)));
        create.put("CodeSigningConfigArn", b -> b.codeSigningConfigArn(
                "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdefg"));
        create.forEach((field, set) -> {
            var e = rejected(c -> c.createFunction(b -> set.accept(good(b, "dropped"))), 400, "InvalidParameterValueException");
            assertThat(e.awsErrorDetails().errorMessage()).startsWith(field + " is not supported: ");
        });
        rejected(c -> c.createFunction(b -> good(b, "dropped").loggingConfig(l -> l.applicationLogLevel(ApplicationLogLevel.DEBUG))),
                400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "dropped").loggingConfig(l -> l.logGroup("/custom/group"))),
                400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "dropped").packageType(PackageType.IMAGE)), 400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "dropped").architectures(Architecture.ARM64)), 400, "InvalidParameterValueException");
        assertThat(lambda.listFunctions().functions()).extracting(FunctionConfiguration::functionName).doesNotContain("dropped");

        Map<String, Consumer<UpdateFunctionConfigurationRequest.Builder>> update = new java.util.LinkedHashMap<>();
        update.put("VpcConfig", b -> b.vpcConfig(v -> v.subnetIds("subnet-0123")));
        update.put("DeadLetterConfig", b -> b.deadLetterConfig(d -> d.targetArn("arn:aws:sns:us-east-1:123456789012:topic")));
        update.put("TracingConfig", b -> b.tracingConfig(t -> t.mode(TracingMode.ACTIVE)));
        update.put("LoggingConfig", b -> b.loggingConfig(l -> l.systemLogLevel(SystemLogLevel.WARN)));
        String revision = lambda.getFunctionConfiguration(b -> b.functionName("tool")).revisionId();
        update.forEach((field, set) -> {
            var e = rejected(c -> c.updateFunctionConfiguration(b -> set.accept(b.functionName("tool").timeout(7))), 400,
                    "InvalidParameterValueException");
            assertThat(e.awsErrorDetails().errorMessage()).startsWith(field + " is not supported: ");
        });
        var after = lambda.getFunctionConfiguration(b -> b.functionName("tool"));
        assertThat(after.revisionId()).isEqualTo(revision);
        assertThat(after.timeout()).isEqualTo(3);
    }

    @Test
    void valuesThatAskForWhatIgnisDoesAreAcceptedAndReported() {
        var created = lambda.createFunction(b -> good(b, "defaults").description("kept").vpcConfig(v -> v.subnetIds(List.of()).securityGroupIds(List.of()))
                .tracingConfig(t -> t.mode(TracingMode.PASS_THROUGH)).snapStart(x -> x.applyOn(SnapStartApplyOn.NONE))
                .loggingConfig(l -> l.logFormat(LogFormat.TEXT).logGroup("/aws/lambda/defaults")).kmsKeyArn("").layers(List.of())
                .deadLetterConfig(d -> d.targetArn("")));
        assertThat(created.description()).isEqualTo("kept");
        assertThat(created.tracingConfig().mode()).isEqualTo(TracingMode.PASS_THROUGH);
        assertThat(created.loggingConfig().logFormat()).isEqualTo(LogFormat.TEXT);
        var updated = lambda.updateFunctionConfiguration(b -> b.functionName("defaults").description("changed")
                .tracingConfig(t -> t.mode(TracingMode.PASS_THROUGH)).vpcConfig(v -> v.subnetIds(List.of())));
        assertThat(updated.description()).isEqualTo("changed");
        lambda.deleteFunction(b -> b.functionName("defaults"));
    }

    // ---- paging ------------------------------------------------------------------------------

    @Test
    void paginatorsWithOneItemPerPageSeeEveryItemExactlyOnce() {
        lambda.createFunction(b -> b.functionName("paged").runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .publish(true).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("v = 1\n")))));
        for (int v = 2; v <= 3; v++) {
            int n = v;
            lambda.updateFunctionCode(b -> b.functionName("paged").publish(true).zipFile(SdkBytes.fromByteArray(Zips.python("v = " + n + "\n"))));
        }
        for (String alias : List.of("blue", "green", "red")) {
            lambda.createAlias(b -> b.functionName("paged").name(alias).functionVersion("1"));
        }
        for (String q : List.of("$LATEST", "1", "2", "blue")) {
            lambda.putFunctionEventInvokeConfig(b -> b.functionName("paged").qualifier(q).maximumRetryAttempts(1));
        }

        var versionPages = lambda.listVersionsByFunctionPaginator(b -> b.functionName("paged").maxItems(1));
        versionPages.forEach(p -> assertThat(p.versions()).hasSizeLessThanOrEqualTo(1));
        assertThat(versionPages.versions()).extracting(FunctionConfiguration::version).containsExactly("$LATEST", "1", "2", "3");

        var aliasPages = lambda.listAliasesPaginator(b -> b.functionName("paged").maxItems(1));
        aliasPages.forEach(p -> assertThat(p.aliases()).hasSizeLessThanOrEqualTo(1));
        assertThat(aliasPages.aliases()).extracting(AliasConfiguration::name).containsExactly("blue", "green", "red");

        var eicPages = lambda.listFunctionEventInvokeConfigsPaginator(b -> b.functionName("paged").maxItems(1));
        eicPages.forEach(p -> assertThat(p.functionEventInvokeConfigs()).hasSizeLessThanOrEqualTo(1));
        assertThat(eicPages.functionEventInvokeConfigs()).extracting(FunctionEventInvokeConfig::functionArn)
                .extracting(a -> a.substring(a.lastIndexOf(':') + 1)).containsExactly("$LATEST", "1", "2", "blue");

        List<String> all = lambda.listFunctions(b -> b.functionVersion("ALL").maxItems(10000)).functions().stream()
                .map(f -> f.functionName() + ":" + f.version()).toList();
        assertThat(all).contains("paged:$LATEST", "paged:1", "paged:2", "paged:3", "tool:$LATEST");
        var functionPages = lambda.listFunctionsPaginator(b -> b.functionVersion("ALL").maxItems(1));
        functionPages.forEach(p -> assertThat(p.functions()).hasSizeLessThanOrEqualTo(1));
        assertThat(functionPages.functions()).extracting(f -> f.functionName() + ":" + f.version()).containsExactlyElementsOf(all);
        assertThat(lambda.listFunctionsPaginator(b -> b.maxItems(1)).functions()).extracting(FunctionConfiguration::functionName)
                .doesNotHaveDuplicates().contains("paged", "tool");

        // the last page carries no NextMarker; a full page before it carries a non-empty one
        assertThat(lambda.listVersionsByFunction(b -> b.functionName("paged").maxItems(4)).nextMarker()).isNull();
        assertThat(lambda.listVersionsByFunction(b -> b.functionName("paged").maxItems(3)).nextMarker()).isNotEmpty();

        rejected(c -> c.listVersionsByFunction(b -> b.functionName("paged").maxItems(0)), 400, "InvalidParameterValueException");
        rejected(c -> c.listVersionsByFunction(b -> b.functionName("paged").marker("not a marker")), 400, "InvalidParameterValueException");
        rejected(c -> c.listAliases(b -> b.functionName("paged").marker("Ym9ndXM")), 400, "InvalidParameterValueException");
        rejected(c -> c.listFunctions(b -> b.maxItems(10001)), 400, "InvalidParameterValueException");
    }
}
