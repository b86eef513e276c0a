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
 * Resource policies are function configuration on the journal: a replica that replays the
 * records, and one restored from a snapshot, hold the same policies (so they survive a restart and
 * replicate); a snapshot from before policies restores with none; a refused change writes nothing.
 */
class FunctionPolicyTest {
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
        config.createFunction(account, new FunctionRequests.Create("fn", "python3.11", "arn:aws:iam::123456789012:role/r", "app.handler",
                null, null, null, null, Map.of(), new HostileZip().file("app.py", "x = 1").bytes(), true, List.of(), null));
    }

    @AfterEach
    void close() {
        config.close();
    }

    private static FunctionRequests.AddPermission allow(String sid, String principal) {
        return new FunctionRequests.AddPermission(sid, "lambda:InvokeFunction", principal, null, null, null);
    }

    @Test
    void replayedRecordsAndSnapshotsCarryThePolicies() throws Exception {
        config.addPermission(key, null, allow("a", "111111111111"));
        config.addPermission(key, null, allow("b", "s3.amazonaws.com"));
        config.addPermission(key, "1", allow("v", "222222222222"));
        config.removePermission(key, null, "b", null);
        var expected = config.function(key).policies();
        assertThat(expected).containsOnlyKeys(FunctionEntry.UNQUALIFIED, "1");
        assertThat(config.policy(key, null).statements()).extracting(PolicyStatement::sid).containsExactly("a");
        assertThat(config.policy(key, null).statements().getFirst().allowsInvoke("111111111111")).isTrue();
        assertThat(config.policy(key, null).statements().getFirst().allowsInvoke("222222222222")).isFalse();

        var replica = new ConfigStateMachine();
        for (int i = 0; i < log.size(); i++) {
            replica.apply(i + 1, log.get(i));
        }
        assertThat(replica.image().function(key).orElseThrow().policies()).isEqualTo(expected);

        byte[] snapshot = replica.takeSnapshot();
        var restored = new ConfigStateMachine();
        restored.restoreSnapshot(snapshot);
        assertThat(restored.image().function(key).orElseThrow().policies()).isEqualTo(expected);

        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) dev.ignis.common.Json.mapper().readTree(snapshot);
        assertThat(tree.path("functions").get(0).has("policies")).isTrue();
        tree.path("functions").forEach(f -> ((com.fasterxml.jackson.databind.node.ObjectNode) f).remove("policies"));
        var old = new ConfigStateMachine();
        old.restoreSnapshot(dev.ignis.common.Json.mapper().writeValueAsBytes(tree));
        assertThat(old.image().function(key).orElseThrow().policies()).isEmpty();

        // removing the last statement removes the policy; deleting a version removes its policy
        config.removePermission(key, null, "a", null);
        assertThatThrownBy(() -> config.policy(key, null)).isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(404));
        config.deleteFunction(new FunctionName(account, "fn", null), "1");
        assertThat(config.function(key).policies()).isEmpty();
    }

    @Test
    void refusedPolicyChangesWriteNothing() {
        var first = config.addPermission(key, null, allow("a", "111111111111"));
        assertThat(first.principal()).isEqualTo("arn:aws:iam::111111111111:root");
        int records = log.size();
        String revision = config.policy(key, null).revisionId();
        assertStatus(() -> config.addPermission(key, null, allow("a", "222222222222")), 409);
        assertStatus(() -> config.removePermission(key, null, "zzz", null), 404);
        assertStatus(() -> config.removePermission(key, null, "a", "wrong"), 412);
        assertStatus(() -> config.addPermission(key, null, new FunctionRequests.AddPermission("b", "lambda:InvokeFunction", "111111111111",
                null, null, "wrong")), 412);
        assertStatus(() -> config.addPermission(key, null, allow("b", "bogus principal")), 400);
        assertStatus(() -> config.addPermission(key, null, new FunctionRequests.AddPermission("b", "iam:PassRole", "111111111111",
                null, null, null)), 400);
        assertStatus(() -> config.addPermission(key, "7", allow("b", "111111111111")), 404);
        assertStatus(() -> config.addPermission(new FunctionKey(account, "missing"), null, allow("b", "111111111111")), 404);
        assertThat(log).hasSize(records);
        String longArn = "arn:aws:s3:::" + "b".repeat(1000);
        for (int i = 0; ; i++) { // the 20 KB policy limit
            int n = i;
            try {
                config.addPermission(key, "1", new FunctionRequests.AddPermission("s" + n, "lambda:InvokeFunction", "s3.amazonaws.com",
                        longArn, null, null));
            } catch (LambdaException e) {
                assertThat(e.type()).isEqualTo("PolicyLengthExceededException");
                assertThat(i).isBetween(10, 30);
                break;
            }
        }
        int afterLimit = log.size();
        assertStatus(() -> config.addPermission(key, "1", new FunctionRequests.AddPermission("over", "lambda:InvokeFunction",
                "s3.amazonaws.com", longArn, null, null)), 400);
        assertThat(log.size() - afterLimit).isZero();
        assertThat(config.policy(key, null).revisionId()).isEqualTo(revision);
        assertThat(config.policy(key, null).statements()).hasSize(1);
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
