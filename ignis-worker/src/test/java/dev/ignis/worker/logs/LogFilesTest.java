package dev.ignis.worker.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        Thread follower = Thread.ofVirtual().start(() -> {
            try {
                LogFiles.follow(data, "123456789012", "fn", seen::add, () -> seen.size() >= 2, Duration.ofMillis(5));
            } catch (InterruptedException ignored) {
                // done
            }
        });
        Thread.sleep(50);
        f.append(Instant.EPOCH, "s", "new1");
        f.append(Instant.EPOCH, "s", "new2");
        follower.join(5000);
        f.close();
        assertThat(seen).containsExactly("1970-01-01T00:00:00.000000Z\ts\tnew1", "1970-01-01T00:00:00.000000Z\ts\tnew2");
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
