package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * `ignis account` and `ignis keys`, run as the command a user types, against a running server and
 * offline; every key change is checked by what SigV4 then accepts.
 */
class AdminCommandsIT {
    @TempDir Path dir;

    record Result(int code, String out) {
        JsonNode json() throws Exception {
            return Json.mapper().readTree(out);
        }
    }

    Result ignis(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "dev.ignis.dist.Main"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--data-dir", dir.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    static void assertRejected(ChildServer server, String keyId, String secret, String errorCode) {
        try (var lambda = TestPlatform.client(server.port(), keyId, secret)) {
            assertThatThrownBy(lambda::listFunctions).isInstanceOfSatisfying(LambdaException.class, e -> {
                assertThat(e.statusCode()).isEqualTo(403);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo(errorCode);
            });
        }
    }

    @Test
    void accountsAndKeysOnlineAndOffline() throws Exception {
        // offline: no server runs on the data directory yet
        Result created = ignis("account", "create", "bob");
        assertThat(created.code()).isZero();
        String bobId = created.json().get("accountId").asText();
        String key1 = created.json().get("accessKeyId").asText();
        String secret1 = created.json().get("secretAccessKey").asText();
        assertThat(ignis("account", "create", "bob").code()).as("duplicate name").isEqualTo(1);

        ChildServer server = ChildServer.start(dir);
        try {
            try (var lambda = TestPlatform.client(server.port(), key1, secret1)) {
                lambda.createFunction(b -> b.functionName("f").runtime("python3.11").handler("app.handler").role(TestPlatform.ROLE)
                        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("x = 1\n")))));
            }
            // online: the commands go to the running server
            Result second = ignis("keys", "create", "bob");
            String key2 = second.json().get("accessKeyId").asText();
            String secret2 = second.json().get("secretAccessKey").asText();
            Result rotated = ignis("keys", "rotate", key1);
            String key3 = rotated.json().get("accessKeyId").asText();
            String secret3 = rotated.json().get("secretAccessKey").asText();
            assertRejected(server, key1, secret1, "UnrecognizedClientException");
            try (var lambda = TestPlatform.client(server.port(), key3, secret3)) {
                assertThat(lambda.listFunctions().functions()).extracting(f -> f.functionName()).containsExactly("f");
            }
            assertThat(ignis("keys", "revoke", key2).code()).isZero();
            assertRejected(server, key2, secret2, "UnrecognizedClientException");
            assertThat(ignis("keys", "revoke", key2).code()).as("already revoked").isEqualTo(1);

            JsonNode accounts = ignis("account", "list").json();
            assertThat(accounts).hasSize(1);
            assertThat(accounts.get(0).get("accountId").asText()).isEqualTo(bobId);
            assertThat(accounts.get(0).get("accessKeyIds")).extracting(JsonNode::asText).containsExactly(key3);
            assertThat(accounts.toString()).doesNotContain(secret3);

            assertThat(ignis("account", "delete", "bob").code()).isZero();
            assertRejected(server, key3, secret3, "UnrecognizedClientException");
            assertThat(ignis("account", "delete", "bob").code()).as("already deleted").isEqualTo(1);
        } finally {
            server.kill();
        }
        // offline again, after a kill -9: the deletion is durable
        assertThat(ignis("account", "list").json()).isEmpty();
    }
}
