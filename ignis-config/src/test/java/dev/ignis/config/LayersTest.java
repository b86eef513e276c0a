package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
 * Layer versions on the journal (replayed and snapshotted like functions), counted in the code
 * storage quota, and merged for /opt in order without ever writing through a link a layer made.
 */
class LayersTest {
    private static final String ROLE = "arn:aws:iam::123456789012:role/r";
    @TempDir Path dir;
    private final List<byte[]> log = new ArrayList<>();
    private ConfigStore config;
    private String account;

    @BeforeEach
    void open() {
        config = new ConfigStore(sm -> new RecordingJournal(sm, log), new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11"),
                Clock.systemUTC());
        account = config.createAccount("tenant").accountId();
    }

    @AfterEach
    void close() {
        config.close();
    }

    private LayerVersion publish(String name, HostileZip zip) {
        return config.layers().publish(account, new FunctionRequests.PublishLayer(name, null, zip.bytes(), List.of("python3.11"), null, null));
    }

    @Test
    void layerVersionsReplayAndSnapshotAndCountInTheCodeStorage() throws Exception {
        long before = config.codeStorageUsed(account);
        var v1 = publish("deps", new HostileZip().file("python/a.py", "A = 1"));
        var v2 = publish("deps", new HostileZip().file("python/a.py", "A = 2"));
        assertThat(config.codeStorageUsed(account)).isEqualTo(before + v1.codeSize() + v2.codeSize());
        config.layers().addPermission(account, v1.key(), 1, new FunctionRequests.AddLayerPermission("all", "lambda:GetLayerVersion", "*", null));
        config.layers().delete(account, v2.key(), 2);
        assertThat(v1.unzippedSize()).isEqualTo(5);

        var replica = new ConfigStateMachine();
        for (int i = 0; i < log.size(); i++) {
            replica.apply(i + 1, log.get(i));
        }
        var restored = new ConfigStateMachine();
        restored.restoreSnapshot(replica.takeSnapshot());
        for (var image : List.of(replica.image(), restored.image(), config.image())) {
            LayerEntry e = image.layer(v1.key()).orElseThrow();
            assertThat(e.versions().keySet()).containsExactly(1L);
            assertThat(e.lastVersion()).isEqualTo(2);
            assertThat(e.versions().get(1L).grants("999999999999")).isTrue();
        }
        // a snapshot from before layers restores with none
        String json = new String(replica.takeSnapshot(), StandardCharsets.UTF_8);
        var old = new ConfigStateMachine();
        old.restoreSnapshot(json.replaceAll(",\"layers\":\\[.*\\]}$", "}").getBytes(StandardCharsets.UTF_8));
        assertThat(old.image().layers()).isEmpty();
        assertThat(old.image().account(account)).isPresent();
    }

    @Test
    void aRefusedLayerOrFunctionWritesNothing() {
        var v = publish("deps", new HostileZip().file("x", "x"));
        int records = log.size();
        assertThatThrownBy(() -> publish("deps", new HostileZip().file("../escape", "x"))).isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> config.layers().publish("999999999999", new FunctionRequests.PublishLayer(v.key().arn(), null,
                new HostileZip().file("x", "y").bytes(), null, null, null)))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThatThrownBy(() -> config.createFunction(account, new FunctionRequests.Create("fn", "python3.11", ROLE, "app.handler", null,
                null, null, null, Map.of(), new HostileZip().file("app.py", "").bytes(), false, null, null, null,
                List.of(v.arn(), v.arn()))))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.type()).isEqualTo("InvalidParameterValueException"));
        assertThat(log).hasSize(records);
    }

    @Test
    void aLayerAFunctionStillUsesCountsInTheCodeStorageAfterItsVersionIsDeleted() {
        var v = publish("kept", new HostileZip().file("python/k.py", "K = 1"));
        var fn = new HostileZip().file("app.py", "").bytes();
        config.createFunction(account, new FunctionRequests.Create("fn", "python3.11", ROLE, "app.handler", null, null, null, null,
                Map.of(), fn, false, null, null, null, List.of(v.arn())));
        long used = config.codeStorageUsed(account);
        assertThat(used).isEqualTo(fn.length + v.codeSize());
        config.layers().delete(account, v.key(), v.version());
        assertThat(config.codeStorageUsed(account)).isEqualTo(used);
    }

    @Test
    void layersMergeInOrderAndNothingIsWrittenThroughALinkOfALayer() throws Exception {
        // layer 1: python is a link to lib; d is a directory with a file; x is a file
        var one = publish("one", new HostileZip().dir("lib").file("lib/keep.txt", "keep").symlink("python", "lib")
                .file("d/inner.txt", "inner").file("x", "file-x").file("same.txt", "one"));
        // layer 2: python is a directory (must not land in lib); d is a file; x is a link
        var two = publish("two", new HostileZip().file("python/mod.py", "M = 2").file("d", "file-d").symlink("x", "same.txt")
                .file("same.txt", "two"));
        Path opt = config.code().layers(List.of(one.codeSha256Hex(), two.codeSha256Hex()));

        assertThat(Files.isSymbolicLink(opt.resolve("python"))).isFalse();
        assertThat(Files.readString(opt.resolve("python/mod.py"))).isEqualTo("M = 2");
        assertThat(Files.exists(opt.resolve("lib/mod.py"), LinkOption.NOFOLLOW_LINKS)).as("nothing written through layer 1's link").isFalse();
        assertThat(Files.readString(opt.resolve("lib/keep.txt"))).isEqualTo("keep");
        assertThat(Files.isRegularFile(opt.resolve("d"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readString(opt.resolve("d"))).isEqualTo("file-d");
        assertThat(Files.readSymbolicLink(opt.resolve("x")).toString()).isEqualTo("same.txt");
        assertThat(Files.readString(opt.resolve("same.txt"))).isEqualTo("two");
        assertThat(Files.getPosixFilePermissions(opt.resolve("python"))).isEqualTo(PosixFilePermissions.fromString("r-xr-xr-x"));
        assertThat(Files.getPosixFilePermissions(opt)).isEqualTo(PosixFilePermissions.fromString("r-xr-xr-x"));
        // the layers' own trees are untouched
        Path layerOne = config.code().unpacked(one.codeSha256Hex());
        assertThat(Files.isSymbolicLink(layerOne.resolve("python"))).isTrue();
        assertThat(Files.list(layerOne.resolve("lib")).toList()).hasSize(1);
        assertThat(Files.readString(layerOne.resolve("same.txt"))).isEqualTo("one");

        // the other order: layer 1 wins where they meet
        Path reversed = config.code().layers(List.of(two.codeSha256Hex(), one.codeSha256Hex()));
        assertThat(reversed).isNotEqualTo(opt);
        assertThat(Files.isSymbolicLink(reversed.resolve("python"))).isTrue();
        assertThat(Files.exists(reversed.resolve("python/mod.py"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.readString(reversed.resolve("d/inner.txt"))).isEqualTo("inner");
        assertThat(Files.readString(reversed.resolve("same.txt"))).isEqualTo("one");
        // made once: the same list gives the same directory
        assertThat(config.code().layers(List.of(one.codeSha256Hex(), two.codeSha256Hex()))).isEqualTo(opt);
        assertThat(config.code().layers(List.of())).isNull();
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
