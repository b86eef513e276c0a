package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Function URL configs are function configuration on the journal, like policies: a replica that
 * replays the records and one restored from a snapshot hold the same URLs (ids included), a
 * snapshot from before URLs restores with none, an alias's URL goes with the alias, and a refused
 * change writes nothing.
 */
class FunctionUrlConfigTest {
    @TempDir Path dir;
    private final List<byte[]> log = new ArrayList<>();
    private ConfigStore config;
    private String account;
    private FunctionKey key;

    @BeforeEach
    void open() {
        config = new ConfigStore(sm -> new RecordingJournal(sm, log), new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11"),
                Clock.systemUTC());
        account = config.createAccount("tenant").accountId();
        key = new FunctionKey(account, "fn");
        var fn = new FunctionName(account, "fn", null);
        config.createFunction(account, new FunctionRequests.Create("fn", "python3.11", "arn:aws:iam::123456789012:role/r", "app.handler",
                null, null, null, null, Map.of(), new HostileZip().file("app.py", "x = 1").bytes(), true, List.of(), null));
        config.createAlias(fn, new FunctionRequests.AliasInput("live", "1", null, null, null));
    }

    @AfterEach
    void close() {
        config.close();
    }

    private static FunctionRequests.UrlConfig none() {
        return new FunctionRequests.UrlConfig(FunctionUrl.AUTH_NONE, null, null);
    }

    @Test
    void replayedRecordsAndSnapshotsCarryTheUrls() throws Exception {
        var fnUrl = config.createUrl(key, null, none());
        var cors = new FunctionUrl.Cors(true, List.of("x-a"), List.of("GET"), List.of("https://a.example"), List.of(), 10);
        var aliasUrl = config.createUrl(key, "live", new FunctionRequests.UrlConfig(FunctionUrl.AUTH_IAM, cors, FunctionUrl.BUFFERED));
        assertThat(fnUrl.urlId()).matches("[a-z0-9]{32}").isNotEqualTo(aliasUrl.urlId());
        assertThat(fnUrl.invokeMode()).isEqualTo(FunctionUrl.BUFFERED);
        var updated = config.updateUrl(key, null, new FunctionRequests.UrlConfig(FunctionUrl.AUTH_IAM, null, null));
        assertThat(updated.urlId()).isEqualTo(fnUrl.urlId());
        assertThat(updated.creationTime()).isEqualTo(fnUrl.creationTime());
        var expected = config.function(key).urls();
        assertThat(expected).containsOnlyKeys(FunctionEntry.UNQUALIFIED, "live");

        var replica = new ConfigStateMachine();
        for (int i = 0; i < log.size(); i++) {
            replica.apply(i + 1, log.get(i));
        }
        assertThat(replica.image().function(key).orElseThrow().urls()).isEqualTo(expected);
        byte[] snapshot = replica.takeSnapshot();
        var restored = new ConfigStateMachine();
        restored.restoreSnapshot(snapshot);
        assertThat(restored.image().function(key).orElseThrow().urls()).isEqualTo(expected);

        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) dev.ignis.common.Json.mapper().readTree(snapshot);
        tree.path("functions").forEach(f -> ((com.fasterxml.jackson.databind.node.ObjectNode) f).remove("urls"));
        var old = new ConfigStateMachine();
        old.restoreSnapshot(dev.ignis.common.Json.mapper().writeValueAsBytes(tree));
        assertThat(old.image().function(key).orElseThrow().urls()).isEmpty();

        config.deleteAlias(new FunctionName(account, "fn", null), "live");
        assertThat(config.function(key).urls()).containsOnlyKeys(FunctionEntry.UNQUALIFIED);
        config.deleteUrl(key, null);
        assertThat(config.function(key).urls()).isEmpty();
    }

    @Test
    void refusedUrlChangesWriteNothing() {
        config.createUrl(key, null, none());
        int records = log.size();
        assertStatus(() -> config.createUrl(key, null, none()), 409);
        assertStatus(() -> config.createUrl(key, "1", none()), 400); // a version: not a URL qualifier
        assertStatus(() -> config.createUrl(key, "nope", none()), 404);
        assertStatus(() -> config.createUrl(new FunctionKey(account, "missing"), null, none()), 404);
        assertStatus(() -> config.createUrl(key, "$LATEST", new FunctionRequests.UrlConfig("BASIC", null, null)), 400);
        assertStatus(() -> config.createUrl(key, "$LATEST", new FunctionRequests.UrlConfig(null, null, null)), 400);
        assertStatus(() -> config.createUrl(key, "$LATEST", new FunctionRequests.UrlConfig(FunctionUrl.AUTH_NONE, null, "STREAM")), 400);
        for (var cors : List.of(
                new FunctionUrl.Cors(null, List.of(), List.of(), List.of("https://a.example\r\nSet-Cookie: x=1"), List.of(), null),
                new FunctionUrl.Cors(null, List.of("a b"), List.of(), List.of(), List.of(), null),
                new FunctionUrl.Cors(null, List.of(), List.of("get"), List.of(), List.of(), null),
                new FunctionUrl.Cors(null, List.of(), List.of("GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"), List.of(), List.of(), null),
                new FunctionUrl.Cors(null, List.of(), List.of(), List.of("x".repeat(254)), List.of(), null),
                new FunctionUrl.Cors(null, List.of(), List.of(), List.of(), List.of(), -1))) {
            assertStatus(() -> config.createUrl(key, "$LATEST", new FunctionRequests.UrlConfig(FunctionUrl.AUTH_NONE, cors, null)), 400);
        }
        assertStatus(() -> config.updateUrl(key, "$LATEST", none()), 404);
        assertStatus(() -> config.deleteUrl(key, "live"), 404);
        assertThat(log).hasSize(records);
    }

    @Test
    void urlGrantsNeedTheirActionsAndConditions() {
        var url = config.addPermission(key, null, new FunctionRequests.AddPermission("u", "lambda:InvokeFunctionUrl", "*", null, null, null,
                FunctionUrl.AUTH_NONE, null));
        var invoke = config.addPermission(key, null, new FunctionRequests.AddPermission("i", "lambda:InvokeFunction", "*", null, null, null,
                null, true));
        assertThat(url.grantsUrl(null, FunctionUrl.AUTH_NONE)).isTrue();
        assertThat(url.grantsUrl(null, FunctionUrl.AUTH_IAM)).as("conditioned on NONE").isFalse();
        assertThat(url.grantsInvokeViaUrl(null)).isFalse();
        assertThat(invoke.grantsInvokeViaUrl(null)).isTrue();
        assertThat(invoke.allowsInvoke("111111111111")).as("a URL-only grant opens nothing on the Invoke API").isFalse();
        int records = log.size();
        assertStatus(() -> config.addPermission(key, null, new FunctionRequests.AddPermission("x", "lambda:GetFunction", "*", null, null,
                null)), 400);
        assertStatus(() -> config.addPermission(key, null, new FunctionRequests.AddPermission("x", "lambda:InvokeFunction", "*", null, null,
                null, FunctionUrl.AUTH_NONE, null)), 400);
        assertStatus(() -> config.addPermission(key, null, new FunctionRequests.AddPermission("x", "lambda:InvokeFunctionUrl", "*", null,
                null, null, null, true)), 400);
        assertStatus(() -> config.addPermission(key, null, new FunctionRequests.AddPermission("x", "lambda:InvokeFunctionUrl", "*", null,
                null, null, "BASIC", null)), 400);
        assertThat(log).hasSize(records);
        assertThat(dev.ignis.common.Json.mapper().valueToTree(config.policy(key, null).document()).toString())
                .contains("\"Principal\":\"*\"", "\"lambda:FunctionUrlAuthType\":\"NONE\"", "\"lambda:InvokedViaFunctionUrl\":\"true\"");
    }

    private static void assertStatus(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, int status) {
        assertThatThrownBy(call).isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).as(e.getMessage()).isEqualTo(status));
    }

    /** Applies each record at once and keeps it, as a log would. */
    private record RecordingJournal(JournalStateMachine sm, List<byte[]> log) implements Journal {
        @Override
        public synchronized CompletableFuture<Long> append(byte[] record) {
            log.add(record);
            sm.apply(log.size(), record);
            return CompletableFuture.completedFuture((long) log.size());
        }

        @Override
        public boolean isLeader() { return true; }

        @Override
        public long snapshot() { return log.size(); }

        @Override
        public void close() {}
    }
}
