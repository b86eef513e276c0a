package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * What deployment tools (Terraform's AWS provider, the CDK, boto3 scripts) call besides the basic
 * operations: code signing config reads. Every
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
}
