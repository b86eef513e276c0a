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
        assertThat(tail.get(0)).startsWith("1970-01-01T00:00:00Z\tstream\tline 197");
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
        assertThat(seen).containsExactly("1970-01-01T00:00:00Z\ts\tnew1", "1970-01-01T00:00:00Z\ts\tnew2");
    }
}
