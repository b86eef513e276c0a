package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.runtimes.RuntimeCatalog;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Runtime;

/** State survives a clean stop and a kill -9: the config store is its journal. */
class RestartIT {
    @TempDir Path dir;

    /** Everything a user could observe about the account's functions. */
    static Map<String, Object> observe(LambdaClient lambda) {
        Map<String, Object> seen = new TreeMap<>();
        for (FunctionConfiguration f : lambda.listFunctions(b -> b.functionVersion("ALL")).functions()) {
            seen.put(f.functionName() + ":" + f.version(), List.of(f.codeSha256(), f.revisionId(), f.timeout(), f.memorySize(),
                    f.layers().stream().map(l -> l.arn() + "/" + l.codeSize()).toList()));
        }
        lambda.listLayerVersions(b -> b.layerName("deps")).layerVersions().forEach(v ->
                seen.put("deps:" + v.version(), List.of(v.layerVersionArn(), v.description(), v.createdDate())));
        var policy = lambda.getLayerVersionPolicy(b -> b.layerName("deps").versionNumber(2L));
        seen.put("deps:2#policy", List.of(policy.policy(), policy.revisionId()));
        for (String name : List.of("alpha", "beta")) {
            lambda.listAliases(b -> b.functionName(name)).aliases().forEach(a ->
                    seen.put(name + "@" + a.name(), List.of(a.functionVersion(), a.revisionId(), a.routingConfig() == null ? Map.of()
                            : a.routingConfig().additionalVersionWeights())));
            seen.put(name + "#tags", lambda.getFunction(b -> b.functionName(name)).tags());
            for (String q : new String[] {null, "live"}) {
                try {
                    var p = lambda.getPolicy(b -> b.functionName(name).qualifier(q));
                    seen.put(name + "#policy:" + q, List.of(p.policy(), p.revisionId()));
                } catch (software.amazon.awssdk.services.lambda.model.ResourceNotFoundException e) {
                    seen.put(name + "#policy:" + q, "none");
                }
            }
            seen.put(name + "#concurrency", String.valueOf(lambda.getFunctionConcurrency(b -> b.functionName(name)).reservedConcurrentExecutions()));
        }
        return seen;
    }

    static void populate(LambdaClient lambda) {
        for (String v : List.of("1", "2", "3")) {
            lambda.publishLayerVersion(b -> b.layerName("deps").description("v" + v)
                    .content(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("python/deps.py", "V = " + v + "\n"))))));
        }
        lambda.deleteLayerVersion(b -> b.layerName("deps").versionNumber(3L)); // the next is still 4 after a restart
        lambda.addLayerVersionPermission(b -> b.layerName("deps").versionNumber(2L).statementId("all").action("lambda:GetLayerVersion")
                .principal("*"));
        for (String name : List.of("alpha", "beta")) {
            lambda.createFunction(b -> b.functionName(name).runtime(Runtime.PYTHON3_11).handler("app.handler").role(TestPlatform.ROLE)
                    .publish(true).tags(Map.of("name", name, "stage", "dev"))
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("v = '" + name + "1'\n")))));
            lambda.updateFunctionCode(b -> b.functionName(name).publish(true).zipFile(SdkBytes.fromByteArray(Zips.python("v = '" + name + "2'\n"))));
            lambda.updateFunctionConfiguration(b -> b.functionName(name).timeout(42).memorySize(512));
            lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("1").routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.5))));
        }
        String deps = lambda.getLayerVersion(b -> b.layerName("deps").versionNumber(2L)).layerVersionArn();
        lambda.updateFunctionConfiguration(b -> b.functionName("beta").layers(deps));
        lambda.putFunctionConcurrency(b -> b.functionName("alpha").reservedConcurrentExecutions(3));
        String alpha = lambda.getFunction(b -> b.functionName("alpha")).configuration().functionArn();
        lambda.tagResource(b -> b.resource(alpha).tags(Map.of("stage", "prod", "owner", "ops")));
        lambda.untagResource(b -> b.resource(alpha).tagKeys("name"));
        lambda.addPermission(b -> b.functionName("alpha").statementId("peer").action("lambda:InvokeFunction").principal("111111111111"));
        lambda.addPermission(b -> b.functionName("alpha").qualifier("live").statementId("s3").action("lambda:InvokeFunction")
                .principal("s3.amazonaws.com").sourceArn("arn:aws:s3:::bucket"));
    }

    @Test
    void cleanStopAndStart() {
        Map<String, Object> before;
        dev.ignis.config.ConfigStore.IssuedKey key;
        try (var platform = TestPlatform.start(dir)) {
            key = platform.config().createAccount("alice");
            try (var lambda = TestPlatform.client(platform.port(), key.accessKeyId(), key.secretAccessKey())) {
                populate(lambda);
                before = observe(lambda);
            }
        }
        try (var platform = TestPlatform.start(dir);
             var lambda = TestPlatform.client(platform.port(), key.accessKeyId(), key.secretAccessKey())) {
            assertThat(observe(lambda)).isEqualTo(before);
            assertThat(before).hasSizeGreaterThan(8).containsEntry("alpha#tags", Map.of("stage", "prod", "owner", "ops"))
                    .containsEntry("beta#tags", Map.of("name", "beta", "stage", "dev")).containsEntry("beta#policy:null", "none");
            assertThat(before.get("alpha#policy:null").toString()).contains("arn:aws:iam::111111111111:root");
            assertThat(before.get("alpha#policy:live").toString()).contains("s3.amazonaws.com");
            assertThat(before).containsKeys("deps:1", "deps:2").doesNotContainKey("deps:3");
            assertThat(before.get("beta:$LATEST").toString()).contains(":layer:deps:2/");
            var next = lambda.publishLayerVersion(b -> b.layerName("deps")
                    .content(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("x", "4"))))));
            assertThat(next.version()).isEqualTo(4L);
        }
    }

    @Test
    void killMinusNine() throws Exception {
        dev.ignis.config.ConfigStore.IssuedKey key;
        try (var config = Platform.openConfig(dir, RuntimeCatalog.knownAwsRuntimeIds())) {
            key = config.createAccount("alice");
        }
        Map<String, Object> before;
        ChildServer server = ChildServer.start(dir);
        try (var lambda = TestPlatform.client(server.port(), key.accessKeyId(), key.secretAccessKey())) {
            populate(lambda);
            before = observe(lambda);
        } finally {
            server.kill();
        }
        ChildServer again = ChildServer.start(dir);
        try (var lambda = TestPlatform.client(again.port(), key.accessKeyId(), key.secretAccessKey())) {
            assertThat(observe(lambda)).isEqualTo(before);
        } finally {
            again.kill();
        }
    }
}
