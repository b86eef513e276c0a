package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.config.ConfigStore;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.LayerVersionsListItem;
import software.amazon.awssdk.services.lambda.model.PublishLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Layers through the AWS SDK v2, under two accounts (alice, the owner, and bob): publish, read,
 * list, share and delete layer versions; functions that use them see them merged read-only at
 * /opt in the order given, with the runtimes' conventional paths working (a python module from
 * {@code python/}, a node module from {@code nodejs/node_modules}, unchanged handlers); every bad
 * input gets Lambda's error and leaves the journal where it was.
 */
class LayersIT extends PlatformTestBase {
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

    PublishLayerVersionResponse publish(LambdaClient client, String name, Map<String, String> files, String... runtimes) {
        return client.publishLayerVersion(b -> b.layerName(name).description("d").compatibleRuntimesWithStrings(runtimes)
                .content(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(files)))));
    }

    String invoke(String function) {
        var r = lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String("{}")));
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        return r.payload().asUtf8String();
    }

    @Test
    void aPythonFunctionImportsAModuleFromALayerAndLaterLayersWinAtTheSamePath() throws Exception {
        var first = publish(lambda, "py-deps", Map.of("python/greet.py", "WHO = 'first'\n", "python/only_first.py", "X = 1\n",
                "lib/data.txt", "first"), "python3.11");
        var second = publish(lambda, "py-over", Map.of("python/greet.py", "WHO = 'second'\n"), "python3.11");
        assertThat(first.version()).isEqualTo(1L);
        assertThat(first.layerVersionArn()).isEqualTo("arn:aws:lambda:us-east-1:" + key.accountId() + ":layer:py-deps:1");
        String handler = """
                import os, greet, only_first
                def handler(e, c):
                    writable = True
                    try:
                        open('/opt/python/new.txt', 'w')
                    except OSError:
                        writable = False
                    return {'who': greet.WHO, 'first': only_first.X, 'data': open('/opt/lib/data.txt').read(), 'writable': writable}
                """;
        var created = lambda.createFunction(b -> b.functionName("py-layers").runtime(Runtime.PYTHON3_11)
                .handler("app.handler").role(TestPlatform.ROLE).layers(first.layerVersionArn(), second.layerVersionArn())
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python(handler)))));
        assertThat(created.layers()).extracting(Layer::arn).containsExactly(first.layerVersionArn(), second.layerVersionArn());
        assertThat(created.layers()).extracting(Layer::codeSize).containsExactly(first.content().codeSize(), second.content().codeSize());
        assertThat(lambda.getFunction(b -> b.functionName("py-layers")).configuration().layers()).isEqualTo(created.layers());

        JsonNode out = Json.mapper().readTree(invoke("py-layers"));
        assertThat(out.path("who").asText()).isEqualTo("second");
        assertThat(out.path("first").asInt()).isEqualTo(1);
        assertThat(out.path("data").asText()).isEqualTo("first");
        assertThat(out.path("writable").asBoolean()).as("/opt is read-only").isFalse();

        // the other order: the first layer wins
        lambda.updateFunctionConfiguration(b -> b.functionName("py-layers").layers(second.layerVersionArn(), first.layerVersionArn()));
        assertThat(Json.mapper().readTree(invoke("py-layers")).path("who").asText()).isEqualTo("first");

        // a deleted layer version stays with the functions that use it, and cannot be added any more
        lambda.deleteLayerVersion(b -> b.layerName("py-over").versionNumber(1L));
        assertThat(Json.mapper().readTree(invoke("py-layers")).path("who").asText()).isEqualTo("first");
        rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("py-layers").layers(second.layerVersionArn())), 400,
                "InvalidParameterValueException");
        // an empty list removes the layers
        assertThat(lambda.updateFunctionConfiguration(b -> b.functionName("py-layers").layers(List.of())).layers()).isEmpty();
    }

    @Test
    void aNodeFunctionRequiresAModuleFromNodeModulesOfALayer() {
        var layer = publish(lambda, "node-deps", Map.of("nodejs/node_modules/shout/index.js",
                "module.exports = (s) => s.toUpperCase() + '!';\n"), "nodejs20.x");
        lambda.createFunction(b -> b.functionName("node-layers").runtime(Runtime.NODEJS20_X).handler("index.handler")
                .role(TestPlatform.ROLE).layers(layer.layerVersionArn())
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("index.js",
                        "const shout = require('shout');\nexports.handler = async () => ({said: shout('hello')});\n"))))));
        assertThat(invoke("node-layers")).contains("\"said\":\"HELLO!\"");
    }

    @Test
    void versionsAreReadListedAndDeletedAsLambdaDoes() {
        var v1 = publish(lambda, "lister", Map.of("a.txt", "1"), "python3.11");
        var v2 = lambda.publishLayerVersion(b -> b.layerName("lister").licenseInfo("MIT")
                .compatibleArchitectures(Architecture.X86_64).content(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("a.txt", "2"))))));
        assertThat(v2.version()).isEqualTo(2L);
        assertThat(v2.layerArn()).isEqualTo("arn:aws:lambda:us-east-1:" + key.accountId() + ":layer:lister");
        assertThat(v2.content().codeSha256()).isNotEqualTo(v1.content().codeSha256());
        assertThat(v2.content().location()).startsWith("http");

        var got = lambda.getLayerVersion(b -> b.layerName("lister").versionNumber(1L));
        assertThat(got.layerVersionArn()).isEqualTo(v1.layerVersionArn());
        assertThat(got.compatibleRuntimesAsStrings()).containsExactly("python3.11");
        assertThat(got.content().codeSha256()).isEqualTo(v1.content().codeSha256());
        var byArn = lambda.getLayerVersionByArn(b -> b.arn(v2.layerVersionArn()));
        assertThat(byArn.licenseInfo()).isEqualTo("MIT");
        assertThat(byArn.compatibleArchitectures()).containsExactly(Architecture.X86_64);

        assertThat(lambda.listLayerVersions(b -> b.layerName("lister")).layerVersions()).extracting(LayerVersionsListItem::version)
                .containsExactly(2L, 1L);
        assertThat(lambda.listLayerVersions(b -> b.layerName("lister").compatibleRuntime("python3.11")).layerVersions())
                .extracting(LayerVersionsListItem::version).containsExactly(1L);
        // the SDK's paginator, one item a page
        assertThat(lambda.listLayerVersionsPaginator(b -> b.layerName("lister").maxItems(1)).layerVersions().stream()
                .map(LayerVersionsListItem::version).toList()).containsExactly(2L, 1L);
        var layers = lambda.listLayers(b -> b.maxItems(50)).layers();
        assertThat(layers).anySatisfy(l -> {
            assertThat(l.layerName()).isEqualTo("lister");
            assertThat(l.latestMatchingVersion().version()).isEqualTo(2L);
        });
        assertThat(lambda.listLayers(b -> b.compatibleRuntime("python3.11")).layers())
                .filteredOn(l -> l.layerName().equals("lister")).singleElement()
                .satisfies(l -> assertThat(l.latestMatchingVersion().version()).isEqualTo(1L));

        lambda.deleteLayerVersion(b -> b.layerName("lister").versionNumber(2L));
        lambda.deleteLayerVersion(b -> b.layerName("lister").versionNumber(2L)); // idempotent, as in Lambda
        rejected(c -> c.getLayerVersion(b -> b.layerName("lister").versionNumber(2L)), 404, "ResourceNotFoundException");
        assertThat(lambda.listLayerVersions(b -> b.layerName("lister")).layerVersions()).hasSize(1);
        // numbers are never reused
        assertThat(publish(lambda, "lister", Map.of("a.txt", "3")).version()).isEqualTo(3L);
        assertThat(lambda.listLayerVersions(b -> b.layerName("never-published")).layerVersions()).isEmpty();
    }

    @Test
    void anotherAccountUsesALayerOnlyOnceItsPolicyGrantsIt() throws Exception {
        var v = publish(lambda, "shared-layer", Map.of("python/shared_mod.py", "VALUE = 42\n"), "python3.11");
        String arn = v.layerVersionArn();
        rejected(bob, c -> c.getLayerVersionByArn(b -> b.arn(arn)), 403, "AccessDeniedException");
        var handler = Zips.python("import shared_mod\ndef handler(e, c):\n    return shared_mod.VALUE\n");
        rejected(bob, c -> c.createFunction(b -> b.functionName("uses-shared").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers(arn).code(k -> k.zipFile(SdkBytes.fromByteArray(handler)))), 403, "AccessDeniedException");
        rejected(bob, c -> c.deleteLayerVersion(b -> b.layerName("arn:aws:lambda:us-east-1:" + key.accountId() + ":layer:shared-layer")
                .versionNumber(1L)), 403, "AccessDeniedException");

        var added = lambda.addLayerVersionPermission(b -> b.layerName("shared-layer").versionNumber(1L).statementId("bob")
                .action("lambda:GetLayerVersion").principal(bobKey.accountId()));
        JsonNode statement = Json.mapper().readTree(added.statement());
        assertThat(statement.path("Principal").path("AWS").asText()).isEqualTo("arn:aws:iam::" + bobKey.accountId() + ":root");
        assertThat(statement.path("Resource").asText()).isEqualTo(arn);
        var policy = lambda.getLayerVersionPolicy(b -> b.layerName("shared-layer").versionNumber(1L));
        assertThat(policy.revisionId()).isEqualTo(added.revisionId());
        assertThat(Json.mapper().readTree(policy.policy()).path("Statement")).hasSize(1);
        rejected(c -> c.addLayerVersionPermission(b -> b.layerName("shared-layer").versionNumber(1L).statementId("bob")
                .action("lambda:GetLayerVersion").principal(bobKey.accountId())), 409, "ResourceConflictException");

        assertThat(bob.getLayerVersionByArn(b -> b.arn(arn)).version()).isEqualTo(1L);
        bob.createFunction(b -> b.functionName("uses-shared").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers(arn).code(k -> k.zipFile(SdkBytes.fromByteArray(handler))));
        assertThat(bob.invoke(b -> b.functionName("uses-shared")).payload().asUtf8String()).isEqualTo("42");

        rejected(c -> c.removeLayerVersionPermission(b -> b.layerName("shared-layer").versionNumber(1L).statementId("nobody")), 404,
                "ResourceNotFoundException");
        rejected(c -> c.removeLayerVersionPermission(b -> b.layerName("shared-layer").versionNumber(1L).statementId("bob")
                .revisionId("stale")), 412, "PreconditionFailedException");
        lambda.removeLayerVersionPermission(b -> b.layerName("shared-layer").versionNumber(1L).statementId("bob"));
        rejected(c -> c.getLayerVersionPolicy(b -> b.layerName("shared-layer").versionNumber(1L)), 404, "ResourceNotFoundException");
        rejected(bob, c -> c.getLayerVersion(b -> b.layerName("arn:aws:lambda:us-east-1:" + key.accountId() + ":layer:shared-layer")
                .versionNumber(1L)), 403, "AccessDeniedException");
    }

    @Test
    void badLayerInputsAreRefusedAndChangeNothing() {
        var v = publish(lambda, "for-bad", Map.of("x.txt", "x"), "nodejs20.x");
        var zip = SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 1\n"));
        String missing = "arn:aws:lambda:us-east-1:" + key.accountId() + ":layer:nope:1";
        rejected(c -> c.createFunction(b -> b.functionName("bad").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers(missing).code(k -> k.zipFile(zip))), 400, "InvalidParameterValueException");
        rejected(c -> c.createFunction(b -> b.functionName("bad").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers("not-an-arn").code(k -> k.zipFile(zip))), 400, "ValidationException");
        var incompatible = rejected(c -> c.createFunction(b -> b.functionName("bad").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers(v.layerVersionArn()).code(k -> k.zipFile(zip))), 400, "InvalidParameterValueException");
        assertThat(incompatible.getMessage()).contains("not compatible with runtime python3.11");

        // a 6th layer
        List<String> six = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            six.add(publish(lambda, "many" + i, Map.of("f" + i, "x")).layerVersionArn());
        }
        lambda.createFunction(b -> b.functionName("five").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers(six.subList(0, 5)).code(k -> k.zipFile(zip)));
        var sixth = rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("five").layers(six)), 400,
                "InvalidParameterValueException");
        assertThat(sixth.getMessage()).contains("more than 5 layers");
        rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("five").layers(six.get(0), six.get(0))), 400, "InvalidParameterValueException");
        assertThat(lambda.getFunctionConfiguration(b -> b.functionName("five")).layers()).hasSize(5);

        rejected(c -> c.publishLayerVersion(b -> b.layerName("bad name!").content(k -> k.zipFile(zip))), 400, "ValidationException");
        rejected(c -> c.publishLayerVersion(b -> b.layerName("no-content")), 400, "InvalidParameterValueException");
        rejected(c -> c.publishLayerVersion(b -> b.layerName("not-a-zip").content(k -> k.zipFile(SdkBytes.fromUtf8String("plain text")))),
                400, "InvalidParameterValueException");
        rejected(c -> c.publishLayerVersion(b -> b.layerName("arch").compatibleArchitecturesWithStrings("sparc")
                .content(k -> k.zipFile(zip))), 400, "ValidationException");
        var s3 = rejected(c -> c.publishLayerVersion(b -> b.layerName("s3").content(k -> k.s3Bucket("bucket").s3Key("key.zip"))), 400,
                "InvalidParameterValueException");
        assertThat(s3.awsErrorDetails().errorMessage()).contains("--s3-endpoint"); // this platform has no S3 store configured
        rejected(c -> c.getLayerVersion(b -> b.layerName("for-bad").versionNumber(7L)), 404, "ResourceNotFoundException");
        rejected(c -> c.getLayerVersionByArn(b -> b.arn("arn:aws:lambda:us-east-1:" + key.accountId() + ":layer:for-bad")), 400,
                "ValidationException");
        rejected(c -> c.addLayerVersionPermission(b -> b.layerName("for-bad").versionNumber(1L).statementId("s")
                .action("lambda:InvokeFunction").principal("*")), 400, "ValidationException");
        rejected(c -> c.addLayerVersionPermission(b -> b.layerName("for-bad").versionNumber(1L).statementId("s")
                .action("lambda:GetLayerVersion").principal("*").organizationId("o-123456")), 400, "InvalidParameterValueException");
    }

    @Test
    void functionCodeAndLayersTogetherAreHeldTo250MegabytesUnzipped() {
        byte[] big = new byte[130 * 1024 * 1024]; // zeros: a small zip, 130 MB unzipped
        var a = lambda.publishLayerVersion(b -> b.layerName("big-a")
                .content(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withEntry("a.bin", big, 9)))));
        var b2 = lambda.publishLayerVersion(b -> b.layerName("big-b")
                .content(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withEntry("b.bin", big, 9)))));
        var zip = SdkBytes.fromByteArray(Zips.python("def handler(e, c):\n    return 1\n"));
        lambda.createFunction(b -> b.functionName("big-one").runtime(Runtime.PYTHON3_11).handler("app.handler")
                .role(TestPlatform.ROLE).layers(a.layerVersionArn()).code(k -> k.zipFile(zip)));
        var over = rejected(c -> c.updateFunctionConfiguration(b -> b.functionName("big-one").layers(a.layerVersionArn(),
                b2.layerVersionArn())), 400, "InvalidParameterValueException");
        assertThat(over.getMessage()).contains("exceeds the maximum allowed size of 262144000 bytes");
    }
}
