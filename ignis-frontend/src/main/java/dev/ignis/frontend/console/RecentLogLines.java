package dev.ignis.frontend.console;

import dev.ignis.worker.logs.FunctionLogFile;
import dev.ignis.worker.logs.LogFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The last lines of a function's log, read from the end of its files: at most {@link #MAX_BYTES} are read
 * whatever the logs hold (a page open on a function reads them every 2 s, and a tenant decides how big
 * they are: 3 files of 10 MB by default).
 *
 * <p>The current file is memory-mapped by the worker ahead of its content ({@link FunctionLogFile}), so
 * it ends in NUL bytes; a NUL never occurs inside the content, so where the content ends is found by a
 * binary search for the first NUL. Lines come out escaped for display ({@link LogFiles#printable}).
 */
final class RecentLogLines {
    static final int MAX_BYTES = 256 * 1024;
    private static final int KEPT_FILES = 10;

    private RecentLogLines() {}

    /** The last {@code maxLines} lines of the function's logs (oldest first), from at most {@link #MAX_BYTES} of them. */
    static List<String> tail(Path dataDir, String accountId, String functionName, int maxLines) {
        Path dir = LogFiles.directory(dataDir, accountId, functionName);
        Deque<String> lines = new ArrayDeque<>();
        int budget = MAX_BYTES;
        for (int i = 0; i < KEPT_FILES && lines.size() < maxLines && budget > 0; i++) {
            Path file = dir.resolve(i == 0 ? FunctionLogFile.CURRENT : FunctionLogFile.CURRENT + "." + i);
            if (!Files.isRegularFile(file)) {
                if (i == 0) {
                    continue;
                }
                break;
            }
            try (var in = new RandomAccessFile(file.toFile(), "r")) {
                long end = contentEnd(in);
                long from = Math.max(0, end - budget);
                byte[] bytes = new byte[(int) (end - from)];
                in.seek(from);
                in.readFully(bytes);
                budget -= bytes.length;
                String[] read = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
                // the first piece is a partial line when the read did not start at the file's start; the last is after the final newline
                int first = from > 0 ? 1 : 0;
                for (int k = read.length - 1; k >= first && lines.size() < maxLines; k--) {
                    if (k == read.length - 1 && read[k].isEmpty()) {
                        continue;
                    }
                    lines.addFirst(LogFiles.printable(read[k]));
                }
                if (from > 0) {
                    break; // the budget is spent inside this file
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(lines);
    }

    /** The length of the content before the NUL bytes the worker's mapping leaves after it. */
    private static long contentEnd(RandomAccessFile in) throws IOException {
        long lo = 0;
        long hi = in.length(); // the first NUL is in [lo, hi]; hi = length: none
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            in.seek(mid);
            if (in.read() == 0) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
