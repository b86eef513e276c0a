package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tags are function configuration on the journal: a replica that replays the records, and one
 * restored from a snapshot, hold the same tags; a snapshot from before tags restores with none.
 */
class FunctionTagsTest {
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
                null, null, null, null, Map.of(), new HostileZip().file("app.py", "x = 1").bytes(), false, List.of(), null,
                Map.of("team", "a", "stage", "dev")));
    }

    @AfterEach
    void close() {
        config.close();
    }

    @Test
    void replayedRecordsAndSnapshotsCarryTheTags() throws Exception {
        config.tag(key, Map.of("team", "b", "cost", "1"));
        config.untag(key, List.of("stage", "absent"));
        Map<String, String> expected = Map.of("team", "b", "cost", "1");
        assertThat(config.function(key).tags()).isEqualTo(expected);

        var replica = new ConfigStateMachine();
        for (int i = 0; i < log.size(); i++) {
            replica.apply(i + 1, log.get(i));
        }
        assertThat(replica.image().function(key).orElseThrow().tags()).isEqualTo(expected);

        byte[] snapshot = replica.takeSnapshot();
        var restored = new ConfigStateMachine();
        restored.restoreSnapshot(snapshot);
        assertThat(restored.image().function(key).orElseThrow().tags()).isEqualTo(expected);

        String json = new String(snapshot, StandardCharsets.UTF_8);
        assertThat(json).contains("\"tags\":{");
        var old = new ConfigStateMachine();
        old.restoreSnapshot(json.replaceAll(",\"tags\":\\{[^}]*\\}", "").getBytes(StandardCharsets.UTF_8));
        assertThat(old.image().function(key).orElseThrow().tags()).isEmpty();
    }

    @Test
    void refusedTagChangesWriteNothing() {
        int records = log.size();
        Map<String, String> fifty = new HashMap<>();
        IntStream.range(0, 49).forEach(i -> fifty.put("k" + i, "v"));
        assertThatThrownBy(() -> config.tag(key, fifty)).isInstanceOfSatisfying(LambdaException.class,
                e -> assertThat(e.type()).isEqualTo("InvalidParameterValueException")); // 2 + 49 = 51
        assertThatThrownBy(() -> config.tag(key, Map.of("aws:x", "v"))).isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> config.tag(new FunctionKey(account, "missing"), Map.of("a", "b")))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(404));
        config.untag(key, List.of("absent")); // nothing to remove: no record
        config.tag(key, Map.of("team", "a")); // no change: no record
        assertThat(log).hasSize(records);
        assertThat(config.function(key).tags()).isEqualTo(Map.of("team", "a", "stage", "dev"));
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
