package dev.ignis.frontend.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.worker.logs.LogFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's log tail: the last lines across rotated files, the mapping's NUL padding, and a bounded read. */
class RecentLogLinesTest {
    private static final String ACCOUNT = "123456789012";
    @TempDir Path data;

    private Path dir() throws Exception {
        return Files.createDirectories(LogFiles.directory(data, ACCOUNT, "fn"));
    }

    private static byte[] lines(String prefix, int from, int to, int padding) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) {
            b.append(prefix).append(i).append('\n');
        }
        byte[] text = b.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[text.length + padding];
        System.arraycopy(text, 0, out, 0, text.length);
        return out; // then NUL bytes, as the worker's mapping leaves them
    }

    @Test
    void theLastLinesComeFromTheCurrentFileAndTheRotatedOnesBeforeIt() throws Exception {
        Path dir = dir();
        Files.write(dir.resolve("current.log.1"), lines("old ", 0, 50, 0));
        Files.write(dir.resolve("current.log"), lines("new ", 0, 30, 1 << 20));
        List<String> tail = RecentLogLines.tail(data, ACCOUNT, "fn", 40);
        List<String> expected = new ArrayList<>();
        for (int i = 40; i < 50; i++) {
            expected.add("old " + i);
        }
        for (int i = 0; i < 30; i++) {
            expected.add("new " + i);
        }
        assertThat(tail).isEqualTo(expected);
        assertThat(RecentLogLines.tail(data, ACCOUNT, "fn", 3)).containsExactly("new 27", "new 28", "new 29");
    }

    @Test
    void aHugeLogIsReadOnlyAtItsEnd() throws Exception {
        Path dir = dir();
        Files.write(dir.resolve("current.log.1"), lines("older ", 0, 1000, 0));
        // ~12 MB: far more than the bound; the tail is its last lines and nothing of the older file
        Files.write(dir.resolve("current.log"), lines("line ", 0, 1_000_000, 4096));
        List<String> tail = RecentLogLines.tail(data, ACCOUNT, "fn", 1_000_000);
        assertThat(tail.getLast()).isEqualTo("line 999999");
        assertThat(tail.size()).isLessThan(RecentLogLines.MAX_BYTES / 10).isGreaterThan(RecentLogLines.MAX_BYTES / 13);
        assertThat(tail).allMatch(l -> l.startsWith("line "));
    }

    @Test
    void controlCharactersAreEscapedAndNamesThatLeaveTheTreeRefused() throws Exception {
        Files.write(dir().resolve("current.log"), "a\u001b[2Jb\n".getBytes(StandardCharsets.UTF_8));
        assertThat(RecentLogLines.tail(data, ACCOUNT, "fn", 10)).containsExactly("a\\x1b[2Jb");
        assertThat(RecentLogLines.tail(data, ACCOUNT, "absent", 10)).isEmpty();
        assertThatThrownBy(() -> RecentLogLines.tail(data, ACCOUNT, "../x", 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
