package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import dev.ignis.journal.Journal;
import dev.ignis.journal.JournalStateMachine;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An account that uploads more code than its quota is refused as Lambda refuses it, and nothing is created or stored. */
class CodeStorageQuotaTest {
    private static final String ROLE = "arn:aws:iam::123456789012:role/r";

    @TempDir Path dir;
    private ConfigStore config;
    private String account;
    private String other;

    @BeforeEach
    void open() {
        byte[] probe = zip("a", 1);
        // room for two small packages of this shape, not three
        long quota = 2L * probe.length + probe.length / 2;
        config = new ConfigStore(DirectJournal::new, new CodeStore(dir, new CodeStore.Settings(quota, PackageUnpacker.DEFAULT_UID)),
                SecretSealer.open(dir), Set.of("python3.11"), Clock.systemUTC());
        account = config.createAccount("tenant").accountId();
        other = config.createAccount("neighbour").accountId();
    }

    @AfterEach
    void close() {
        config.close();
    }

    @Test
    void uploadsBeyondTheAccountsCodeStorageAreRefusedAndCreateNothing() {
        create(account, "one", zip("a", 1));
        config.publishVersion(FunctionName.parse("one", account), new FunctionRequests.Publish(null, null, null));
        create(account, "two", zip("b", 2));
        byte[] third = zip("c", 3);

        assertThatThrownBy(() -> create(account, "three", third)).isInstanceOfSatisfying(LambdaException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.type()).isEqualTo("CodeStorageExceededException");
        });
        assertThat(config.image().function(new FunctionKey(account, "three"))).isEmpty();
        assertThat(config.code().contains(CodeStore.sha256(third))).as("the refused package is not stored").isFalse();
        // version 1 keeps holding one's package: replacing $LATEST would add the third
        assertThatThrownBy(() -> config.updateCode(FunctionName.parse("one", account), new FunctionRequests.UpdateCode(third, false, null, null, false)))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.type()).isEqualTo("CodeStorageExceededException"));
        assertThat(config.function(new FunctionKey(account, "one")).latest().codeSha256Hex()).isEqualTo(CodeStore.sha256(zip("a", 1)));

        // the same package again costs nothing (stored once); replacing $LATEST frees what it held; other accounts are unaffected
        create(account, "again", zip("a", 1));
        config.updateCode(FunctionName.parse("two", account), new FunctionRequests.UpdateCode(third, false, null, null, false));
        create(other, "three", third);
        assertThat(config.codeStorageUsed(account)).isEqualTo(2L * third.length).isLessThanOrEqualTo(config.codeStorageLimit());
    }

    /** A one-file package whose size does not depend on its content's letter. */
    private static byte[] zip(String letter, int n) {
        return new HostileZip().file("app.py", letter.repeat(64) + n).bytes();
    }

    private void create(String accountId, String name, byte[] zip) {
        config.createFunction(accountId, new FunctionRequests.Create(name, "python3.11", ROLE, "app.handler", null, null, null, null,
                Map.of(), zip, false, List.of(), null));
    }

    /** Applies each record at once (the platform tests in ignis-dist run the real journal). */
    private static final class DirectJournal implements Journal {
        private final JournalStateMachine sm;
        private long index;

        DirectJournal(JournalStateMachine sm) {
            this.sm = sm;
        }

        @Override
        public synchronized CompletableFuture<Long> append(byte[] record) {
            sm.apply(++index, record);
            return CompletableFuture.completedFuture(index);
        }

        @Override
        public boolean isLeader() { return true; }

        @Override
        public synchronized long snapshot() { return index; }

        @Override
        public void close() {}
    }
}
