package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.config.ConfigStore;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Resource-based policies under two accounts, alice (the owner) and bob: AddPermission lets bob
 * invoke alice's function by ARN (and nothing else), RemovePermission takes it back; only the
 * policy of exactly what is invoked counts; service principals and conditioned statements grant
 * nothing; every bad input gets Lambda's error and leaves the journal where it was.
 */
class ResourcePolicyIT extends PlatformTestBase {
    ConfigStore.IssuedKey bobKey;
    LambdaClient bob;

    @BeforeAll
    void setUp() {
        bobKey = platform.config().createAccount("bob");
        bob = TestPlatform.client(platform.port(), bobKey.accessKeyId(), bobKey.secretAccessKey());
    }

    @AfterAll
    void closeBob() {
        bob.close();
    }

    /** Creates the function with version 1 published; returns its unqualified ARN. */
    String create(String name) {
        lambda.createFunction(b -> b.functionName(name).runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .publish(true).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python(
                        "import os\ndef handler(e, c):\n    return {'arn': c.invoked_function_arn, 'fn': os.environ['AWS_LAMBDA_FUNCTION_NAME']}\n")))));
        return "arn:aws:lambda:us-east-1:" + key.accountId() + ":function:" + name;
    }

    /** Runs the call, expects the AWS error, and checks that the journal did not move. */
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

    static JsonNode json(String s) throws Exception {
        return Json.mapper().readTree(s);
    }

    long succeededEvents() {
        return ((Number) platform.events().stats().get("succeeded")).longValue();
    }

    @Test
    void crossAccountInvokeIsAllowedByAddPermissionAndDeniedAgainAfterRemovePermission() throws Exception {
        String arn = create("shared");
        rejected(bob, c -> c.invoke(b -> b.functionName(arn)), 403, "AccessDeniedException");

        var added = lambda.addPermission(b -> b.functionName("shared").statementId("bob-invoke").action("lambda:InvokeFunction")
                .principal(bobKey.accountId()));
        JsonNode statement = json(added.statement());
        assertThat(statement.path("Sid").asText()).isEqualTo("bob-invoke");
        assertThat(statement.path("Effect").asText()).isEqualTo("Allow");
        assertThat(statement.path("Principal").path("AWS").asText()).isEqualTo("arn:aws:iam::" + bobKey.accountId() + ":root");
        assertThat(statement.path("Action").asText()).isEqualTo("lambda:InvokeFunction");
        assertThat(statement.path("Resource").asText()).isEqualTo(arn);
        var policy = lambda.getPolicy(b -> b.functionName(arn));
        assertThat(policy.revisionId()).isNotBlank();
        JsonNode doc = json(policy.policy());
        assertThat(doc.path("Version").asText()).isEqualTo("2012-10-17");
        assertThat(doc.path("Id").asText()).isEqualTo("default");
        assertThat(doc.path("Statement")).hasSize(1);
        assertThat(doc.path("Statement").get(0)).isEqualTo(statement);

        // allowed: synchronously, running as alice's function
        var r = bob.invoke(b -> b.functionName(arn).payload(SdkBytes.fromUtf8String("{}")));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.functionError()).isNull();
        JsonNode out = json(r.payload().asUtf8String());
        assertThat(out.path("arn").asText()).isEqualTo(arn);
        assertThat(out.path("fn").asText()).isEqualTo("shared");
        // and as an event, queued and run in alice's account
        long before = succeededEvents();
        assertThat(bob.invoke(b -> b.functionName(arn).invocationType(InvocationType.EVENT)).statusCode()).isEqualTo(202);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (succeededEvents() == before && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
        }
        assertThat(succeededEvents()).isEqualTo(before + 1);

        // nothing else: not the version or alias (their own policies), not reading or managing the function
        rejected(bob, c -> c.invoke(b -> b.functionName(arn + ":1")), 403, "AccessDeniedException");
        rejected(bob, c -> c.invoke(b -> b.functionName(arn).qualifier("1")), 403, "AccessDeniedException");
        rejected(bob, c -> c.getFunction(b -> b.functionName(arn)), 403, "AccessDeniedException");
        rejected(bob, c -> c.getPolicy(b -> b.functionName(arn)), 403, "AccessDeniedException");
        rejected(bob, c -> c.addPermission(b -> b.functionName(arn).statementId("mine").action("lambda:*")
                .principal(bobKey.accountId())), 403, "AccessDeniedException");
        rejected(bob, c -> c.removePermission(b -> b.functionName(arn).statementId("bob-invoke")), 403, "AccessDeniedException");
        rejected(bob, c -> c.invoke(b -> b.functionName("shared")), 404, "ResourceNotFoundException"); // a name is bob's own
        // a third account is not bob
        var carol = platform.config().createAccount("carol");
        try (var c3 = TestPlatform.client(platform.port(), carol.accessKeyId(), carol.secretAccessKey())) {
            rejected(c3, c -> c.invoke(b -> b.functionName(arn)), 403, "AccessDeniedException");
        }

        lambda.removePermission(b -> b.functionName("shared").statementId("bob-invoke"));
        rejected(bob, c -> c.invoke(b -> b.functionName(arn)), 403, "AccessDeniedException");
        rejected(bob, c -> c.invoke(b -> b.functionName(arn).invocationType(InvocationType.EVENT)), 403, "AccessDeniedException");
        rejected(lambda, c -> c.getPolicy(b -> b.functionName("shared")), 404, "ResourceNotFoundException");
        // another account's function that does not exist is refused as one that does
        rejected(bob, c -> c.invoke(b -> b.functionName(arn.replace("shared", "absent"))), 403, "AccessDeniedException");
    }

    @Test
    void aVersionOrAliasPolicyGrantsThatQualifierOnly() throws Exception {
        String arn = create("versioned");
        lambda.createAlias(b -> b.functionName("versioned").name("live").functionVersion("1"));
        lambda.addPermission(b -> b.functionName("versioned").qualifier("live").statementId("bob-all").action("lambda:*")
                .principal("arn:aws:iam::" + bobKey.accountId() + ":root"));
        assertThat(json(lambda.getPolicy(b -> b.functionName(arn + ":live")).policy()).path("Statement").get(0).path("Resource").asText())
                .isEqualTo(arn + ":live");
        rejected(lambda, c -> c.getPolicy(b -> b.functionName("versioned")), 404, "ResourceNotFoundException");

        assertThat(bob.invoke(b -> b.functionName(arn + ":live")).statusCode()).isEqualTo(200);
        assertThat(bob.invoke(b -> b.functionName(arn).qualifier("live")).executedVersion()).isEqualTo("1");
        rejected(bob, c -> c.invoke(b -> b.functionName(arn)), 403, "AccessDeniedException");
        rejected(bob, c -> c.invoke(b -> b.functionName(arn + ":1")), 403, "AccessDeniedException");

        lambda.removePermission(b -> b.functionName(arn + ":live").statementId("bob-all"));
        rejected(bob, c -> c.invoke(b -> b.functionName(arn + ":live")), 403, "AccessDeniedException");

        // deleting the alias deletes its policy: an alias created again under the name grants nothing
        lambda.addPermission(b -> b.functionName("versioned").qualifier("live").statementId("again").action("lambda:InvokeFunction")
                .principal(bobKey.accountId()));
        lambda.deleteAlias(b -> b.functionName("versioned").name("live"));
        lambda.createAlias(b -> b.functionName("versioned").name("live").functionVersion("1"));
        rejected(bob, c -> c.invoke(b -> b.functionName(arn + ":live")), 403, "AccessDeniedException");
    }

    @Test
    void servicePrincipalsAndConditionedStatementsAreStoredButGrantNothing() throws Exception {
        String arn = create("bucket-hook");
        String bucket = "arn:aws:s3:::my-bucket";
        lambda.addPermission(b -> b.functionName("bucket-hook").statementId("s3").action("lambda:InvokeFunction")
                .principal("s3.amazonaws.com").sourceArn(bucket).sourceAccount(key.accountId()));
        lambda.addPermission(b -> b.functionName("bucket-hook").statementId("bob-if").action("lambda:InvokeFunction")
                .principal(bobKey.accountId()).sourceAccount(bobKey.accountId()));
        JsonNode s3 = json(lambda.getPolicy(b -> b.functionName("bucket-hook")).policy()).path("Statement").get(0);
        assertThat(s3.path("Principal").path("Service").asText()).isEqualTo("s3.amazonaws.com");
        assertThat(s3.path("Condition").path("ArnLike").path("AWS:SourceArn").asText()).isEqualTo(bucket);
        assertThat(s3.path("Condition").path("StringEquals").path("AWS:SourceAccount").asText()).isEqualTo(key.accountId());
        rejected(bob, c -> c.invoke(b -> b.functionName(arn)), 403, "AccessDeniedException");
    }

    @Test
    void badInputsGetLambdasErrorsAndChangeNothing() throws Exception {
        String arn = create("guarded");
        lambda.addPermission(b -> b.functionName("guarded").statementId("keep").action("lambda:InvokeFunction").principal(bobKey.accountId()));
        var before = lambda.getPolicy(b -> b.functionName("guarded"));

        rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("keep").action("lambda:GetFunction")
                .principal(bobKey.accountId())), 409, "ResourceConflictException");
        rejected(lambda, c -> c.removePermission(b -> b.functionName("guarded").statementId("never-added")), 404, "ResourceNotFoundException");
        rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("new").action("lambda:InvokeFunction")
                .principal(bobKey.accountId()).revisionId("00000000-0000-0000-0000-000000000000")), 412, "PreconditionFailedException");
        rejected(lambda, c -> c.removePermission(b -> b.functionName("guarded").statementId("keep")
                .revisionId("00000000-0000-0000-0000-000000000000")), 412, "PreconditionFailedException");
        for (String principal : new String[] {"not a principal", "12345", "arn:aws:iam::12:root", "evil.example.com"}) {
            rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("p").action("lambda:InvokeFunction")
                    .principal(principal)), 400, "InvalidParameterValueException");
        }
        // everyone (*) only for what function URLs need (FunctionUrlIT covers those)
        rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("p").action("lambda:GetFunction")
                .principal("*")), 400, "InvalidParameterValueException");
        for (String action : new String[] {"s3:GetObject", "*", "lambda:", "lambda:Invoke Function"}) {
            rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("a").action(action)
                    .principal(bobKey.accountId())), 400, "ValidationException");
        }
        rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("bad sid!").action("lambda:InvokeFunction")
                .principal(bobKey.accountId())), 400, "ValidationException");
        rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").statementId("org").action("lambda:InvokeFunction")
                .principal(bobKey.accountId()).principalOrgID("o-abcdefghij")), 400, "InvalidParameterValueException");
        rejected(lambda, c -> c.addPermission(b -> b.functionName("guarded").qualifier("no-such-alias").statementId("q")
                .action("lambda:InvokeFunction").principal(bobKey.accountId())), 404, "ResourceNotFoundException");
        rejected(lambda, c -> c.addPermission(b -> b.functionName("absent").statementId("x").action("lambda:InvokeFunction")
                .principal(bobKey.accountId())), 404, "ResourceNotFoundException");
        rejected(lambda, c -> c.getPolicy(b -> b.functionName("guarded").qualifier("1")), 404, "ResourceNotFoundException");
        rejected(lambda, c -> c.addPermission(b -> b.functionName(arn.replace(key.accountId(), bobKey.accountId())).statementId("x")
                .action("lambda:InvokeFunction").principal(key.accountId())), 403, "AccessDeniedException");

        var after = lambda.getPolicy(b -> b.functionName("guarded"));
        assertThat(after.revisionId()).isEqualTo(before.revisionId());
        assertThat(after.policy()).isEqualTo(before.policy());
        // the right revision id is accepted
        lambda.removePermission(b -> b.functionName("guarded").statementId("keep").revisionId(before.revisionId()));
        rejected(bob, c -> c.invoke(b -> b.functionName(arn)), 403, "AccessDeniedException");
    }
}
