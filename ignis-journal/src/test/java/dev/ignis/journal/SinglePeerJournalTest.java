package dev.ignis.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SinglePeerJournalTest {

    @TempDir Path dir;

    static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static long append(Journal j, String record) throws Exception {
        return j.append(bytes(record)).get(10, TimeUnit.SECONDS);
    }

    static RatisJournal openSingle(JournalConfig config, JournalStateMachine sm) {
        final RatisJournal j = RatisJournal.open(config, sm);
        assertThat(j.awaitLeader(Duration.ofSeconds(10))).as("single peer elects itself").isTrue();
        return j;
    }

    @Test
    void thousandAppendsAreAppliedOnceInOrderAndReadableRightAway() throws Exception {
        final RecordingStateMachine sm = new RecordingStateMachine();
        try (RatisJournal j = RatisJournal.single("thousand", dir, sm)) {
            assertThat(j.isLeader()).isTrue();
            assertThat(sm.leaderEvents()).containsExactly(true);
            final List<Long> indices = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                final long index = append(j, "r" + i);
                // Read-your-write: the record is in the image as soon as the future completes.
                assertThat(sm.entries().getLast()).isEqualTo(new RecordingStateMachine.Entry(index, "r" + i));
                indices.add(index);
            }
            assertThat(indices).isSorted().doesNotHaveDuplicates();
            assertThat(sm.records()).containsExactlyElementsOf(IntStream.range(0, 1000).mapToObj(i -> "r" + i).toList());
            assertThat(sm.entries()).extracting(RecordingStateMachine.Entry::index).containsExactlyElementsOf(indices);
            assertThat(sm.appliedFromSeveralThreads()).isFalse();
            assertThat(j.lastAppliedIndex()).isGreaterThanOrEqualTo(indices.getLast());
        }
        assertThat(sm.leaderEvents()).containsExactly(true, false);
    }

    @Test
    void concurrentAppendsGetDistinctIndicesAndAreEachAppliedOnce() throws Exception {
        final RecordingStateMachine sm = new RecordingStateMachine();
        try (RatisJournal j = RatisJournal.single("concurrent", dir, sm)) {
            final List<CompletableFuture<Long>> futures = IntStream.range(0, 300)
                    .mapToObj(i -> j.append(bytes("c" + i))).toList();
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            final List<Long> indices = futures.stream().map(CompletableFuture::join).toList();
            assertThat(new HashSet<>(indices)).hasSize(300);
            assertThat(sm.records()).hasSize(300).doesNotHaveDuplicates();
            for (int i = 0; i < 300; i++) {
                final long index = indices.get(i);
                assertThat(sm.entries()).contains(new RecordingStateMachine.Entry(index, "c" + i));
            }
        }
    }

    @Test
    void reopenRebuildsTheStateByReplayingTheLog() throws Exception {
        final JournalConfig config = JournalConfig.singlePeer("replay", dir).withAutoSnapshotEvery(0);
        final RecordingStateMachine before = new RecordingStateMachine();
        try (RatisJournal j = openSingle(config, before)) {
            for (int i = 0; i < 300; i++) {
                append(j, "p" + i);
            }
        }
        final RecordingStateMachine after = new RecordingStateMachine();
        try (RatisJournal j = openSingle(JournalConfig.singlePeer("replay", dir).withAutoSnapshotEvery(0), after)) {
            assertThat(after.restores()).as("no snapshot exists, so none is restored").isZero();
            assertThat(after.entries()).isEqualTo(before.entries());
            assertThat(snapshotFiles()).isEmpty();
            // ...and the reopened journal keeps going after the replayed tail.
            final long next = append(j, "after-reopen");
            assertThat(next).isGreaterThan(before.entries().getLast().index());
        }
    }

    @Test
    void reopenRestoresTheSnapshotThenReplaysOnlyTheTail() throws Exception {
        final RecordingStateMachine before = new RecordingStateMachine();
        final long snapshotIndex;
        try (RatisJournal j = openSingle(JournalConfig.singlePeer("snap", dir).withAutoSnapshotEvery(0), before)) {
            long last = 0;
            for (int i = 0; i < 200; i++) {
                last = append(j, "s" + i);
            }
            snapshotIndex = j.snapshot();
            assertThat(snapshotIndex).isGreaterThanOrEqualTo(last);
            for (int i = 200; i < 300; i++) {
                append(j, "s" + i);
            }
        }
        assertThat(snapshotFiles()).hasSize(1);
        assertThat(snapshotFiles().getFirst().getFileName().toString()).endsWith("_" + snapshotIndex);

        final RecordingStateMachine after = new RecordingStateMachine();
        try (RatisJournal ignored = openSingle(JournalConfig.singlePeer("snap", dir).withAutoSnapshotEvery(0), after)) {
            assertThat(after.restores()).isEqualTo(1);
            assertThat(after.entries()).isEqualTo(before.entries());
            final List<Long> tail = before.entries().stream().map(RecordingStateMachine.Entry::index)
                    .filter(i -> i > snapshotIndex).toList();
            assertThat(tail).hasSize(100);
            assertThat(after.appliedSinceRestore()).containsExactlyElementsOf(tail);
        }
    }

    @Test
    void defaultSingleSnapshotsOnCloseSoReopenSkipsReplay() throws Exception {
        final RecordingStateMachine before = new RecordingStateMachine();
        try (RatisJournal j = RatisJournal.single("closesnap", dir, before)) {
            for (int i = 0; i < 50; i++) {
                append(j, "k" + i);
            }
        }
        final RecordingStateMachine after = new RecordingStateMachine();
        try (RatisJournal ignored = RatisJournal.single("closesnap", dir, after)) {
            assertThat(after.restores()).isEqualTo(1);
            assertThat(after.appliedSinceRestore()).isEmpty();
            assertThat(after.entries()).isEqualTo(before.entries());
        }
    }

    @Test
    void autoSnapshotFiresEveryNEntries() throws Exception {
        try (RatisJournal j = openSingle(JournalConfig.singlePeer("auto", dir).withAutoSnapshotEvery(50),
                new RecordingStateMachine())) {
            for (int i = 0; i < 120; i++) {
                append(j, "a" + i);
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (snapshotFiles().size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(snapshotFiles()).as("snapshots near index 50 and 100").hasSize(2);
            for (Path snap : snapshotFiles()) {
                assertThat(snap.resolveSibling(snap.getFileName() + ".md5")).exists();
            }
        }
    }

    @Test
    void aDamagedSnapshotIsRefusedInsteadOfServedAsState() throws Exception {
        final JournalConfig config = JournalConfig.singlePeer("damaged", dir).withAutoSnapshotEvery(0);
        try (RatisJournal j = openSingle(config, new RecordingStateMachine())) {
            for (int i = 0; i < 20; i++) {
                append(j, "d" + i);
            }
            j.snapshot();
        }
        final Path snap = snapshotFiles().getFirst();
        final byte[] image = Files.readAllBytes(snap);
        image[image.length - 1] ^= 0x55;
        Files.write(snap, image);
        final RecordingStateMachine sm = new RecordingStateMachine();
        assertThatThrownBy(() -> RatisJournal.open(JournalConfig.singlePeer("damaged", dir), sm))
                .hasStackTraceContaining("does not match its .md5");
        assertThat(sm.entries()).isEmpty();
    }

    @Test
    void aRecordTheStateMachineRejectsFailsItsAppendButTheJournalKeepsGoing() throws Exception {
        final RecordingStateMachine sm = new RecordingStateMachine() {
            @Override
            public synchronized void apply(long index, byte[] record) {
                if (new String(record, StandardCharsets.UTF_8).equals("boom")) {
                    throw new IllegalArgumentException("rejected boom");
                }
                super.apply(index, record);
            }
        };
        try (RatisJournal j = RatisJournal.single("rejects", dir, sm)) {
            append(j, "before");
            assertThatThrownBy(() -> j.append(bytes("boom")).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasRootCauseInstanceOf(IllegalArgumentException.class)
                    .hasStackTraceContaining("rejected boom");
            append(j, "after");
            assertThat(sm.records()).containsExactly("before", "after");
        }
    }

    @Test
    void appendAfterCloseFailsAndCloseIsIdempotent() throws Exception {
        final RatisJournal j = RatisJournal.single("closed", dir, new RecordingStateMachine());
        j.close();
        j.close();
        assertThat(j.isLeader()).isFalse();
        assertThatThrownBy(() -> j.append(bytes("x")).get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void aTakenPortFailsTheOpenWithoutTouchingTheStateMachineOrTheJvm() throws Exception {
        try (java.net.ServerSocket squatter = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            final JournalConfig config = new JournalConfig("taken", "a",
                    Map.of("a", new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), squatter.getLocalPort())), dir);
            final RecordingStateMachine sm = new RecordingStateMachine();
            assertThatThrownBy(() -> RatisJournal.open(config, sm))
                    .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("is not available");
            assertThat(sm.restores()).isZero();
            assertThat(sm.entries()).isEmpty();
        }
    }

    @Test
    void badConfigIsRejectedBeforeAnythingStarts() {
        final Map<String, java.net.InetSocketAddress> peers =
                Map.of("a", new java.net.InetSocketAddress("127.0.0.1", 7000));
        assertThatThrownBy(() -> new JournalConfig("g", "b", peers, dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("selfId b");
        assertThatThrownBy(() -> new JournalConfig("g/../x", "a", peers, dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groupName");
        assertThatThrownBy(() -> new JournalConfig("g", "a", Map.of(), dir))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(new JournalConfig("g", "a", peers, dir).groupUuid())
                .isEqualTo(new JournalConfig("g", "a", peers, dir.resolve("other")).groupUuid());
    }

    @Test
    void openingAndClosingManyTimesLeaksNoThreads() throws Exception {
        // The first cycle starts Ratis's JVM-wide shared executors; count after it.
        RatisJournal.single("threads", dir, new RecordingStateMachine()).close();
        final int baseline = settledThreadCount(Integer.MAX_VALUE);
        for (int i = 0; i < 5; i++) {
            try (RatisJournal j = RatisJournal.single("threads", dir, new RecordingStateMachine())) {
                append(j, "t" + i);
            }
        }
        assertThat(settledThreadCount(baseline + 2)).isLessThanOrEqualTo(baseline + 2);
    }

    /** Thread count once it stops dropping (Netty event loops shut down asynchronously). */
    private static int settledThreadCount(int target) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int count = Thread.activeCount();
        while (System.nanoTime() < deadline && count > target) {
            Thread.sleep(100);
            count = Thread.activeCount();
        }
        if (target == Integer.MAX_VALUE) {
            // no target (the baseline): settled once five samples 100 ms apart agree, rather than after a fixed 500 ms
            for (int same = 0; same < 5 && System.nanoTime() < deadline; ) {
                Thread.sleep(100);
                final int now = Thread.activeCount();
                same = now == count ? same + 1 : 0;
                count = now;
            }
        }
        return count;
    }

    private List<Path> snapshotFiles() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+")).sorted().toList();
        }
    }
}
