package dev.ignis.worker.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogFilesTest {
    @TempDir
    Path data;

    @Test
    void rotatesAtTheBoundAndKeepsOnlyNFiles() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        try (FunctionLogFile f = new FunctionLogFile(dir, 2048, 3)) {
            for (int i = 0; i < 200; i++) {
                f.append(Instant.EPOCH, "stream", "line " + i + " " + "x".repeat(40));
            }
        }
        assertThat(Files.exists(dir.resolve("current.log.1"))).isTrue();
        assertThat(Files.exists(dir.resolve("current.log.2"))).isTrue();
        assertThat(Files.exists(dir.resolve("current.log.3"))).isFalse();
        for (String n : List.of("current.log", "current.log.1", "current.log.2")) {
            assertThat(Files.size(dir.resolve(n))).isLessThanOrEqualTo(2048);
        }
        List<String> tail = LogFiles.tail(data, "123456789012", "fn", 3);
        assertThat(tail).hasSize(3);
        assertThat(tail.get(2)).endsWith("line 199 " + "x".repeat(40));
        assertThat(tail.get(0)).startsWith("1970-01-01T00:00:00.000000Z\tstream\tline 197");
    }

    @Test
    void rejectsNamesThatEscapeTheLogsTree() {
        assertThatThrownBy(() -> LogFiles.directory(data, "123456789012", "../x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LogFiles.directory(data, "12", "fn")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void framesAnInvokeAndTailsTheLastFourKilobytes() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            byte[] out = ("hello\n" + "x".repeat(10_000) + "\npartial").getBytes();
            SandboxLog log = new SandboxLog(f, "s", InstantSource.fixed(Instant.EPOCH), new ByteArrayInputStream(out));
            log.start("r1", "$LATEST");
            log.drain();
            String tail = new String(java.util.Base64.getDecoder().decode(log.end("r1", "REPORT RequestId: r1", true)));
            assertThat(tail.length()).isLessThanOrEqualTo(SandboxLog.TAIL_BYTES);
            assertThat(tail).endsWith("END RequestId: r1\nREPORT RequestId: r1\n");
            String file = Files.readString(dir.resolve("current.log"));
            assertThat(file).contains("\ts\tSTART RequestId: r1 Version: $LATEST\n", "\ts\thello\n", "\ts\tpartial\n", "\ts\tEND RequestId: r1\n");
        }
    }

    @Test
    void followSeesNewLines() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2);
        f.append(Instant.EPOCH, "s", "old");
        List<String> seen = new CopyOnWriteArrayList<>();
        var following = new java.util.concurrent.CountDownLatch(1);
        Thread follower = Thread.ofVirtual().start(() -> {
            try {
                LogFiles.follow(data, "123456789012", "fn", seen::add, following(following, () -> seen.size() >= 2), Duration.ofMillis(5));
            } catch (InterruptedException ignored) {
                // done
            }
        });
        following.await();
        f.append(Instant.EPOCH, "s", "new1");
        f.append(Instant.EPOCH, "s", "new2");
        assertThat(follower.join(Duration.ofSeconds(30))).as("follow returned once it saw both lines").isTrue();
        f.close();
        assertThat(seen).containsExactly("1970-01-01T00:00:00.000000Z\ts\tnew1", "1970-01-01T00:00:00.000000Z\ts\tnew2");
    }

    @Test
    void followGoesOnAfterTheFileIsCutInPlace() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        List<String> seen = new CopyOnWriteArrayList<>();
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            for (int i = 0; i < 20; i++) {
                f.append(Instant.EPOCH, "s", "old line " + i + " " + "o".repeat(100));
            }
            var following = new java.util.concurrent.CountDownLatch(1);
            Thread follower = Thread.ofVirtual().start(() -> {
                try {
                    LogFiles.follow(data, "123456789012", "fn", seen::add,
                            following(following, () -> seen.contains("1970-01-01T00:00:00.000000Z\ts\tafter the cut")), Duration.ofMillis(5));
                } catch (InterruptedException ignored) {
                    // done
                }
            });
            following.await();
            f.append(Instant.EPOCH, "s", "before the cut");
            waitFor(() -> seen.size() == 1);
            try (var ch = java.nio.channels.FileChannel.open(dir.resolve("current.log"), java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(0); // logrotate copytruncate
            }
            // whether the follower polls before or after this append, it finds the file cut under it
            f.append(Instant.EPOCH, "s", "after the cut");
            assertThat(follower.join(Duration.ofSeconds(30))).as("follow returned once it saw the line after the cut").isTrue();
        }
        assertThat(seen).containsExactly("1970-01-01T00:00:00.000000Z\ts\tbefore the cut", "1970-01-01T00:00:00.000000Z\ts\tafter the cut");
    }

    /**
     * The follower's stop condition, counting {@code following} down when first asked: follow asks it only
     * once it holds its position at the end of the file, so a line appended after the latch opens is new.
     */
    private static java.util.function.BooleanSupplier following(java.util.concurrent.CountDownLatch following,
                                                                java.util.function.BooleanSupplier stop) {
        return () -> {
            following.countDown();
            return stop.getAsBoolean();
        };
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }

    @Test
    void linesSurviveTheWriterBeingKilledAndTheNextOpenContinuesAfterThem() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process writer = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), WriteAndWait.class.getName(),
                dir.toString()).redirectErrorStream(true).start();
        // it says "written" once its lines are appended (never closed), then waits to be killed
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(writer.getInputStream())).readLine()).isEqualTo("written");
        writer.destroyForcibly().waitFor();
        // the kernel's page cache kept them; the mapped window left NULs after them, which readers skip
        assertThat(Files.size(dir.resolve("current.log"))).isGreaterThanOrEqualTo(FunctionLogFile.WINDOW);
        assertThat(LogFiles.tail(data, "123456789012", "fn", 10)).containsExactly(
                "1970-01-01T00:00:00.000000Z\ts\tbefore the kill 0", "1970-01-01T00:00:00.000000Z\ts\tbefore the kill 1",
                "1970-01-01T00:00:00.000000Z\ts\tbefore the kill 2");
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            f.append(Instant.EPOCH, "s", "after\0the restart");
        }
        assertThat(Files.readString(dir.resolve("current.log"))).as("closed: cut at its content")
                .endsWith("before the kill 2\n1970-01-01T00:00:00.000000Z\ts\tafter\uFFFDthe restart\n");
    }

    @Test
    void aLineCutShortByACrashIsEndedBeforeTheNextOne() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        Files.createDirectories(dir);
        Files.write(dir.resolve("current.log"), ("whole\nhalf a li" + "\0".repeat(5000)).getBytes());
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            f.append(Instant.EPOCH, "s", "next");
            assertThat(LogFiles.tail(data, "123456789012", "fn", 10)).containsExactly("whole", "half a li",
                    "1970-01-01T00:00:00.000000Z\ts\tnext");
        }
    }

    /** Output that never ends: the pipe always holds 64 KB of 100-byte lines, as under writers faster than the pump. */
    static final class EndlessOutput extends java.io.InputStream {
        private final byte[] line = ("z".repeat(99) + "\n").getBytes();
        private long pos;
        volatile boolean closed;

        @Override
        public int available() {
            return closed ? 0 : 65536;
        }

        @Override
        public int read() {
            return closed ? -1 : line[(int) (pos++ % line.length)];
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (closed) {
                return -1;
            }
            for (int i = 0; i < len; i++) {
                b[off + i] = line[(int) (pos++ % line.length)];
            }
            return len;
        }
    }

    @Test
    void anInvokeEndsAlthoughItsFunctionNeverStopsPrintingAndTheExcessIsDroppedAndSaidOnce() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        EndlessOutput endless = new EndlessOutput();
        try (FunctionLogFile f = new FunctionLogFile(dir, 64L << 20, 2)) {
            SandboxLog log = new SandboxLog(f, "s", InstantSource.fixed(Instant.EPOCH), endless, new SandboxLog.Budget(1 << 20, 200_000));
            try {
                log.start("r1", "$LATEST");
                // the function is past its budget and the pump is dropping what it prints
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (log.droppedBytes() == 0) {
                    assertThat(System.nanoTime()).as("the pump drops output within 30 s").isLessThan(deadline);
                    Thread.sleep(5);
                }
                // today: the END drain reads for as long as the pipe has data, i.e. forever
                String tail = assertTimeoutPreemptively(Duration.ofSeconds(5),
                        () -> new String(java.util.Base64.getDecoder().decode(log.end("r1", "REPORT RequestId: r1", true))));
                assertThat(tail).containsPattern("LOGS_DROPPED Lines: \\d+\tBytes: \\d+\tReason: over the sandbox's log budget "
                        + "\\(200000 bytes per second, 1048576 bytes per invoke\\)\nEND RequestId: r1\nREPORT RequestId: r1\n$");
                assertThat(log.droppedBytes()).isPositive();
            } finally {
                endless.closed = true;
                log.finish();
            }
            // what reached the file is the budget's worth, not the flood: ~0.3 s of it at 200 KB/s, plus one second more at most
            long written = LogFiles.tail(data, "123456789012", "fn", 1_000_000).stream().filter(l -> l.endsWith("zzz")).count() * 100;
            assertThat(written).isBetween(100_000L, 2 * 200_000L + 100);
        }
    }

    @Test
    void theBudgetPerInvokeHoldsWithinASecondAndStartsAgainAtTheNextInvoke() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        byte[] out = ("a".repeat(99) + "\n").repeat(50).getBytes(); // 50 lines of 100 bytes
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            java.io.PipedOutputStream feed = new java.io.PipedOutputStream();
            java.io.PipedInputStream pipe = new java.io.PipedInputStream(feed, 1 << 16);
            SandboxLog log = new SandboxLog(f, "s", InstantSource.fixed(Instant.EPOCH), pipe, new SandboxLog.Budget(1000, 1 << 20));
            log.start("r1", "$LATEST");
            feed.write(out);
            String first = new String(java.util.Base64.getDecoder().decode(log.end("r1", "REPORT RequestId: r1", true)));
            assertThat(first.lines().filter(l -> l.startsWith("aaa"))).hasSize(10);
            assertThat(first).contains("LOGS_DROPPED Lines: 40\tBytes: 4000\t");
            log.start("r2", "$LATEST");
            feed.write(out, 0, 500);
            String second = new String(java.util.Base64.getDecoder().decode(log.end("r2", "REPORT RequestId: r2", true)));
            assertThat(second.lines().filter(l -> l.startsWith("aaa"))).hasSize(5);
            assertThat(second).doesNotContain("LOGS_DROPPED");
            feed.close();
            log.finish();
        }
    }

    @Test
    void aLineWrittenInPiecesStaysOneLineWhenThePumpReadsBetweenThePieces() throws Exception {
        // python's print("handling", event) unbuffered is three writes; the microVM's log channel delivers them apart
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            java.io.PipedOutputStream feed = new java.io.PipedOutputStream();
            java.io.PipedInputStream pipe = new java.io.PipedInputStream(feed, 1 << 16);
            SandboxLog log = new SandboxLog(f, "s", InstantSource.fixed(Instant.EPOCH), pipe);
            log.start("r1", "$LATEST");
            for (String piece : List.of("handling", " ", "{'hello': 'world'}")) {
                feed.write(piece.getBytes());
                feed.flush();
                long until = System.nanoTime() + 10_000_000_000L;
                while (pipe.available() > 0 && System.nanoTime() < until) {
                    Thread.sleep(1); // the pump's own turn reads the piece
                }
                assertThat(pipe.available()).as("the pump read the piece").isZero();
            }
            feed.write("\nno newline yet".getBytes());
            String tail = new String(java.util.Base64.getDecoder().decode(log.end("r1", "REPORT RequestId: r1", true)));
            assertThat(tail).isEqualTo("START RequestId: r1 Version: $LATEST\nhandling {'hello': 'world'}\nno newline yet\n"
                    + "END RequestId: r1\nREPORT RequestId: r1\n");
            feed.close();
            log.finish();
        }
    }

    @Test
    void aFileCutUnderTheWriterIsWrittenAgainFromItsNewEnd() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            f.append(Instant.EPOCH, "s", "before the cut");
            try (var ch = java.nio.channels.FileChannel.open(dir.resolve("current.log"), java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(0); // logrotate copytruncate
            }
            for (int i = 0; i < 3; i++) {
                f.append(Instant.EPOCH, "s", "after the cut " + i); // today: InternalError (SIGBUS), now and on every later line
            }
            assertThat(f.droppedLines()).isZero();
        }
        assertThat(Files.readString(dir.resolve("current.log"))).isEqualTo(
                "1970-01-01T00:00:00.000000Z\ts\tafter the cut 0\n1970-01-01T00:00:00.000000Z\ts\tafter the cut 1\n"
                        + "1970-01-01T00:00:00.000000Z\ts\tafter the cut 2\n");
    }

    /** An invoke whose caller gave up writes its END with the thread's interrupt set: that must not close the shared file. */
    @Test
    void anInterruptedWriterNeitherLosesTheFileForOthersNorItsInterrupt() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        try (FunctionLogFile f = new FunctionLogFile(dir, 1 << 20, 2)) {
            f.append(Instant.EPOCH, "s", "first");
            Thread.currentThread().interrupt();
            try {
                f.append(Instant.EPOCH, "s", "interrupted");
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
            }
            f.append(Instant.EPOCH, "s", "after");
            assertThat(f.droppedLines()).isZero();
        }
        assertThat(LogFiles.tail(data, "123456789012", "fn", 10)).containsExactly("1970-01-01T00:00:00.000000Z\ts\tfirst",
                "1970-01-01T00:00:00.000000Z\ts\tinterrupted", "1970-01-01T00:00:00.000000Z\ts\tafter");
    }

    @Test
    void aFullDiskDropsAndCountsLinesAndTheFileIsWrittenAgainWhenThereIsSpace() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        Files.createDirectories(dir);
        mount(dir);
        try {
            Path filler = dir.resolve("filler");
            try (var out = Files.newOutputStream(filler)) {
                byte[] block = new byte[64 * 1024];
                while (true) {
                    out.write(block);
                }
            } catch (java.io.IOException full) {
                // the disk is full
            }
            try (FunctionLogFile f = new FunctionLogFile(dir, 4L << 20, 2)) {
                for (int i = 0; i < 100; i++) {
                    f.append(Instant.EPOCH, "s", "line " + i); // today: InternalError (SIGBUS on the first touched page)
                }
                assertThat(f.droppedLines()).isEqualTo(100);
                Files.delete(filler);
                Thread.sleep(FunctionLogFile.RETRY_NANOS / 1_000_000 + 50);
                f.append(Instant.EPOCH, "s", "space again");
                assertThat(f.droppedLines()).isEqualTo(100);
            }
            assertThat(LogFiles.tail(data, "123456789012", "fn", 10)).containsExactly("1970-01-01T00:00:00.000000Z\ts\tspace again");
        } finally {
            new ProcessBuilder("umount", "-l", dir.toString()).start().waitFor();
        }
    }

    /** A full disk at the window's end: what fits is written, the rest dropped, nothing faults. */
    @Test
    void aNearlyFullDiskIsUsedToItsEnd() throws Exception {
        Path dir = LogFiles.directory(data, "123456789012", "fn");
        Files.createDirectories(dir);
        mount(dir);
        try {
            Files.write(dir.resolve("filler"), new byte[1024 * 1024 - 64 * 1024]); // 64 KB left of 1 MB
            try (FunctionLogFile f = new FunctionLogFile(dir, 4L << 20, 2)) {
                for (int i = 0; i < 2000; i++) {
                    f.append(Instant.EPOCH, "s", "line " + i + " " + "x".repeat(60));
                }
                assertThat(f.droppedLines()).isBetween(1L, 1999L);
                long kept = 2000 - f.droppedLines();
                assertThat(LogFiles.tail(data, "123456789012", "fn", 5000)).hasSize((int) kept)
                        .last().asString().contains("line " + (kept - 1) + " ");
            }
        } finally {
            new ProcessBuilder("umount", "-l", dir.toString()).start().waitFor();
        }
    }

    private static void mount(Path dir) throws Exception {
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "ignis-test-full", dir.toString()).inheritIO().start();
        assertThat(p.waitFor()).as("mount a 1 MB tmpfs (the tests run as root)").isZero();
    }

    @Test
    void controlCharactersAreEscapedForATerminalAndTabsAndTextKept() {
        assertThat(LogFiles.printable("plain\tline é ✓")).isEqualTo("plain\tline é ✓");
        assertThat(LogFiles.printable("\u001b[2J\u001b]0;owned\u0007red\u001b[31m\r\bx\u007f\u009b6n"))
                .isEqualTo("\\x1b[2J\\x1b]0;owned\\x07red\\x1b[31m\\x0d\\x08x\\x7f\\u009b6n")
                .doesNotContainPattern("[\\p{Cntrl}&&[^\t]]");
    }

    /** Appends three lines, says so, and waits to be killed. */
    static final class WriteAndWait {
        public static void main(String[] args) throws Exception {
            FunctionLogFile f = new FunctionLogFile(Path.of(args[0]), 1 << 20, 2);
            for (int i = 0; i < 3; i++) {
                f.append(Instant.EPOCH, "s", "before the kill " + i);
            }
            System.out.println("written");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}
