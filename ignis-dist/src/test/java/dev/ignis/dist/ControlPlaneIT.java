package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.State;

/** Every control-plane operation through the real AWS SDK for Java v2 against a real platform. */
class ControlPlaneIT extends PlatformTestBase {

    CreateFunctionResponse create(String name, String body, boolean publish) {
        return lambda.createFunction(b -> b.functionName(name).runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                .publish(publish).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python(body)))));
    }

    @Test
    void createAndGetReportAwsShapes() throws Exception {
        byte[] zip = Zips.python("def handler(e, c):\n    return e\n");
        var created = lambda.createFunction(b -> b.functionName("shapes").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).description("d").timeout(10).memorySize(256)
                .environment(e -> e.variables(Map.of("KEY", "V"))).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
        assertThat(created.functionArn()).isEqualTo("arn:aws:lambda:us-east-1:" + key.accountId() + ":function:shapes");
        assertThat(created.codeSha256()).isEqualTo(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(zip)));
        assertThat(created.codeSize()).isEqualTo(zip.length);
        assertThat(created.timeout()).isEqualTo(10);
        assertThat(created.memorySize()).isEqualTo(256);
        assertThat(created.ephemeralStorage().size()).isEqualTo(512);
        assertThat(created.environment().variables()).containsEntry("KEY", "V");
        assertThat(created.version()).isEqualTo("$LATEST");
        assertThat(created.state()).isEqualTo(State.ACTIVE);
        assertThat(created.lastUpdateStatus()).isEqualTo(LastUpdateStatus.SUCCESSFUL);
        assertThat(created.revisionId()).isNotBlank();

        var got = lambda.getFunction(b -> b.functionName("shapes"));
        assertThat(got.configuration().codeSha256()).isEqualTo(created.codeSha256());
        assertThat(got.code().repositoryType()).isEqualTo("S3");
        try (var http = HttpClient.newHttpClient()) {
            var download = http.send(HttpRequest.newBuilder(URI.create(got.code().location())).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(download.statusCode()).isEqualTo(200);
            assertThat(download.body()).isEqualTo(zip);
            String forged = got.code().location().replaceAll("token=[0-9a-f]+", "token=" + "0".repeat(64));
            assertThat(http.send(HttpRequest.newBuilder(URI.create(forged)).build(), HttpResponse.BodyHandlers.discarding()).statusCode())
                    .isEqualTo(403);
        }
        var conf = lambda.getFunctionConfiguration(b -> b.functionName(created.functionArn()));
        assertThat(conf.revisionId()).isEqualTo(created.revisionId());
        assertThat(conf.description()).isEqualTo("d");
    }

    @Test
    void identicalZipsAreStoredOnce() {
        var a = create("same-a", "def handler(e, c):\n    return 1\n", false);
        var b = create("same-b", "def handler(e, c):\n    return 1\n", false);
        assertThat(a.codeSha256()).isEqualTo(b.codeSha256());
        String hex = java.util.HexFormat.of().formatHex(Base64.getDecoder().decode(a.codeSha256()));
        assertThat(platform.config().code().zipPath(hex)).exists();
    }

    @Test
    void listFunctionsPagesWithMarker() {
        for (int i = 0; i < 5; i++) {
            create("page-" + i, "x = " + i + "\n", false);
        }
        var seen = new java.util.ArrayList<String>();
        String marker = null;
        do {
            String m = marker;
            var page = lambda.listFunctions(b -> b.maxItems(2).marker(m));
            assertThat(page.functions()).hasSizeLessThanOrEqualTo(2);
            page.functions().stream().map(FunctionConfiguration::functionName).forEach(seen::add);
            marker = page.nextMarker();
        } while (marker != null);
        assertThat(seen).contains("page-0", "page-1", "page-2", "page-3", "page-4").doesNotHaveDuplicates();
        assertThat(seen).isSorted();
    }

    @Test
    void updateCodeAndConfigurationWithRevisionPreconditions() {
        var created = create("upd", "def handler(e, c):\n    return 1\n", false);
        assertThatThrownBy(() -> lambda.updateFunctionConfiguration(b -> b.functionName("upd").timeout(5).revisionId("stale")))
                .isInstanceOf(PreconditionFailedException.class).extracting(e -> ((LambdaException) e).statusCode()).isEqualTo(412);
        var conf = lambda.updateFunctionConfiguration(b -> b.functionName("upd").revisionId(created.revisionId()).timeout(30)
                .memorySize(512).handler("app.other").description("new").ephemeralStorage(e -> e.size(1024))
                .environment(e -> e.variables(Map.of("AB", "1"))).runtime(Runtime.PYTHON3_11));
        assertThat(conf.timeout()).isEqualTo(30);
        assertThat(conf.memorySize()).isEqualTo(512);
        assertThat(conf.handler()).isEqualTo("app.other");
        assertThat(conf.description()).isEqualTo("new");
        assertThat(conf.ephemeralStorage().size()).isEqualTo(1024);
        assertThat(conf.environment().variables()).isEqualTo(Map.of("AB", "1"));
        assertThat(conf.revisionId()).isNotEqualTo(created.revisionId());

        var code = lambda.updateFunctionCode(b -> b.functionName("upd").publish(true)
                .zipFile(SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 2\n"))));
        assertThat(code.version()).isEqualTo("1");
        assertThat(code.codeSha256()).isNotEqualTo(created.codeSha256());
        assertThat(code.timeout()).isEqualTo(30);
    }

    @Test
    void versionsAliasesAndDeletes() {
        var created = create("ver", "v = 1\n", true);
        assertThat(created.version()).isEqualTo("1");
        // nothing changed since version 1: AWS returns the same version
        assertThat(lambda.publishVersion(b -> b.functionName("ver")).version()).isEqualTo("1");
        lambda.updateFunctionCode(b -> b.functionName("ver").zipFile(SdkBytes.fromByteArray(Zips.python("v = 2\n"))));
        var v2 = lambda.publishVersion(b -> b.functionName("ver").description("second"));
        assertThat(v2.version()).isEqualTo("2");
        assertThat(v2.functionArn()).endsWith(":function:ver:2");
        assertThat(lambda.listVersionsByFunction(b -> b.functionName("ver")).versions())
                .extracting(FunctionConfiguration::version).containsExactly("$LATEST", "1", "2");

        var alias = lambda.createAlias(b -> b.functionName("ver").name("live").functionVersion("1")
                .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.25))));
        assertThat(alias.aliasArn()).endsWith(":function:ver:live");
        assertThat(alias.routingConfig().additionalVersionWeights()).containsEntry("2", 0.25);
        assertThatThrownBy(() -> lambda.createAlias(b -> b.functionName("ver").name("live").functionVersion("1")))
                .isInstanceOf(ResourceConflictException.class);
        assertThat(lambda.getFunctionConfiguration(b -> b.functionName("ver").qualifier("live")).version()).isEqualTo("1");
        assertThat(lambda.getFunctionConfiguration(b -> b.functionName("ver:2")).version()).isEqualTo("2");

        assertThatThrownBy(() -> lambda.updateAlias(b -> b.functionName("ver").name("live").functionVersion("2").revisionId("stale")))
                .isInstanceOf(PreconditionFailedException.class);
        var updated = lambda.updateAlias(b -> b.functionName("ver").name("live").functionVersion("2").revisionId(alias.revisionId())
                .routingConfig(r -> r.additionalVersionWeights(Map.of())));
        assertThat(updated.functionVersion()).isEqualTo("2");
        assertThat(lambda.getAlias(b -> b.functionName("ver").name("live")).functionVersion()).isEqualTo("2");
        assertThat(lambda.listAliases(b -> b.functionName("ver")).aliases()).hasSize(1);

        // a version an alias points to cannot be deleted
        assertThatThrownBy(() -> lambda.deleteFunction(b -> b.functionName("ver").qualifier("2"))).isInstanceOf(ResourceConflictException.class);
        lambda.deleteFunction(b -> b.functionName("ver").qualifier("1"));
        assertThat(lambda.listVersionsByFunction(b -> b.functionName("ver")).versions())
                .extracting(FunctionConfiguration::version).containsExactly("$LATEST", "2");
        lambda.deleteAlias(b -> b.functionName("ver").name("live"));
        assertThatThrownBy(() -> lambda.getAlias(b -> b.functionName("ver").name("live"))).isInstanceOf(ResourceNotFoundException.class);
        lambda.deleteFunction(b -> b.functionName("ver"));
        assertThatThrownBy(() -> lambda.getFunction(b -> b.functionName("ver"))).isInstanceOf(ResourceNotFoundException.class);
    }

    @Test
    void reservedConcurrency() {
        create("conc", "x = 1\n", false);
        assertThat(lambda.getFunctionConcurrency(b -> b.functionName("conc")).reservedConcurrentExecutions()).isNull();
        assertThat(lambda.putFunctionConcurrency(b -> b.functionName("conc").reservedConcurrentExecutions(7)).reservedConcurrentExecutions())
                .isEqualTo(7);
        assertThat(lambda.getFunctionConcurrency(b -> b.functionName("conc")).reservedConcurrentExecutions()).isEqualTo(7);
        assertThat(lambda.getFunction(b -> b.functionName("conc")).concurrency().reservedConcurrentExecutions()).isEqualTo(7);
        lambda.deleteFunctionConcurrency(b -> b.functionName("conc"));
        assertThat(lambda.getFunctionConcurrency(b -> b.functionName("conc")).reservedConcurrentExecutions()).isNull();
    }

    @Test
    void accountsSeeOnlyTheirOwnFunctions() {
        create("mine", "x = 1\n", false);
        var bob = platform.config().createAccount("bob");
        try (var other = TestPlatform.client(platform.port(), bob.accessKeyId(), bob.secretAccessKey())) {
            assertThat(other.listFunctions().functions()).isEmpty();
            assertThatThrownBy(() -> other.getFunction(b -> b.functionName("mine"))).isInstanceOf(ResourceNotFoundException.class);
            String arn = "arn:aws:lambda:us-east-1:" + key.accountId() + ":function:mine";
            assertThatThrownBy(() -> other.getFunction(b -> b.functionName(arn)))
                    .isInstanceOfSatisfying(LambdaException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(403);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
                    });
            assertThatThrownBy(() -> other.deleteFunction(b -> b.functionName(arn))).isInstanceOf(LambdaException.class);
        }
        assertThat(lambda.getFunction(b -> b.functionName("mine")).configuration().functionName()).isEqualTo("mine");
    }
}
