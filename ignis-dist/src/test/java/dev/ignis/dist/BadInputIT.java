package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Every bad input gets an AWS-shaped error and changes nothing: the journal's applied index and
 * the code store are the same before and after, and the server still answers.
 */
class BadInputIT extends PlatformTestBase {
    @BeforeAll
    void setUp() {
        lambda.createFunction(b -> good(b, "existing"));
        lambda.publishVersion(b -> b.functionName("existing"));
    }

    static CreateFunctionRequest.Builder good(CreateFunctionRequest.Builder b, String name) {
        return b.functionName(name).runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return e\n"))));
    }

    long codeFiles() throws Exception {
        try (Stream<Path> s = Files.list(dir.resolve("code/sha256"))) {
            return s.count();
        }
    }

    /** Runs the call, expects the AWS error, and checks that nothing changed and the server still serves. */
    void rejected(Consumer<LambdaClient> call, int status, String errorCode) throws Exception {
        rejected(lambda, call, status, errorCode);
    }

    void rejected(LambdaClient client, Consumer<LambdaClient> call, int status, String errorCode) throws Exception {
        long index = platform.config().image().appliedIndex();
        long files = codeFiles();
        assertThatThrownBy(() -> call.accept(client)).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.statusCode()).as("status of %s", e.getMessage()).isEqualTo(status);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo(errorCode);
        });
        assertThat(platform.config().image().appliedIndex()).as("journal unchanged").isEqualTo(index);
        assertThat(codeFiles()).as("code store unchanged").isEqualTo(files);
        assertThat(lambda.getFunction(b -> b.functionName("existing")).configuration().functionName()).isEqualTo("existing");
    }

    @Test
    void authenticationFailures() throws Exception {
        try (var wrongSecret = TestPlatform.client(platform.port(), key.accessKeyId(), "x".repeat(40));
             var unknownKey = TestPlatform.client(platform.port(), "AKIGUNKNOWNUNKNOWN00", "x".repeat(40))) {
            rejected(wrongSecret, c -> c.createFunction(b -> good(b, "nope")), 403, "InvalidSignatureException");
            rejected(unknownKey, c -> c.createFunction(b -> good(b, "nope")), 403, "UnrecognizedClientException");
        }
        long index = platform.config().image().appliedIndex();
        var skewed = RawSigned.send(platform.port(), key.accessKeyId(), key.secretAccessKey(), "GET", "/2015-03-31/functions/", "",
                Instant.now().minusSeconds(600));
        assertThat(skewed.statusCode()).isEqualTo(403);
        assertThat(skewed.headers().firstValue("x-amzn-ErrorType")).hasValue("InvalidSignatureException");
        assertThat(skewed.body()).contains("Signature expired");
        var malformed = RawSigned.send(platform.port(), key.accessKeyId(), key.secretAccessKey(), "POST", "/2015-03-31/functions",
                "{\"FunctionName\": ", Instant.now());
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.headers().firstValue("x-amzn-ErrorType")).hasValue("InvalidRequestContentException");
        assertThat(platform.config().image().appliedIndex()).isEqualTo(index);
    }

    @Test
    void configurationLimits() throws Exception {
        rejected(c -> c.createFunction(b -> good(b, "bad").runtime("python2.9")), 400, "ValidationException");
        rejected(c -> c.createFunction(b -> good(b, "bad").memorySize(127)), 400, "ValidationException");
        rejected(c -> c.createFunction(b -> good(b, "bad").memorySize(10241)), 400, "ValidationException");
        rejected(c -> c.createFunction(b -> good(b, "bad").timeout(0)), 400, "ValidationException");
        rejected(c -> c.createFunction(b -> good(b, "bad").timeout(901)), 400, "ValidationException");
        rejected(c -> c.createFunction(b -> good(b, "bad").environment(e -> e.variables(Map.of("BIG", "x".repeat(4100))))),
                400, "InvalidParameterValueException");
        // a NUL would cut the variable short in the runtime's environment (or fail every start): refused up front
        rejected(c -> c.createFunction(b -> good(b, "bad").environment(e -> e.variables(Map.of("NUL", "a\u0000LD_PRELOAD=x")))),
                400, "InvalidParameterValueException");
        rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("existing").environment(e -> e.variables(Map.of("NUL", "\u0000")))),
                400, "InvalidParameterValueException");
        rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("existing").memorySize(127)), 400, "ValidationException");
        rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("existing").timeout(901)), 400, "ValidationException");
        rejected(c -> c.createFunction(b -> good(b, "existing")), 409, "ResourceConflictException");
        rejected(c -> c.createAlias(b -> b.functionName("existing").name("live").functionVersion("42")), 404, "ResourceNotFoundException");
        rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("existing").timeout(9).revisionId("stale")), 412,
                "PreconditionFailedException");
        rejected(c -> c.getFunction(b -> b.functionName("arn:aws:lambda:us-east-1:999999999999:function:existing")), 403,
                "AccessDeniedException");
    }

    @Test
    void hostilePackages() throws Exception {
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(Zips.random(4096, 1))))),
                400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("../../etc/evil", "x")))))),
                400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("/etc/evil", "x")))))),
                400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(Zips.symlink("link", "../../../etc/shadow"))))),
                400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(Zips.symlink("link", "/etc/shadow"))))),
                400, "InvalidParameterValueException");
        rejected(c -> c.updateFunctionCode(b -> b.functionName("existing").zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("a/../../x", "x"))))),
                400, "InvalidParameterValueException");
        // 260 MB of zeros deflates to a few hundred KB: the unpacked size is counted while inflating
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(
                Zips.withEntry("zeros.bin", new byte[260 * 1024 * 1024], 9))))), 400, "InvalidParameterValueException");
        // 51 MB of random bytes does not compress
        rejected(c -> c.createFunction(b -> good(b, "bad").code(z -> z.zipFile(SdkBytes.fromByteArray(
                Zips.withEntry("random.bin", Zips.random(51 * 1024 * 1024, 2), 0))))), 413, "RequestEntityTooLargeException");
        assertThat(lambda.listFunctions().functions()).extracting(f -> f.functionName()).containsExactly("existing");
    }
}
