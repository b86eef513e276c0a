package dev.ignis.worker.logs;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Reading the per-function log files a worker writes, for {@code ignis logs}.
 * Layout: {@code <dataDir>/logs/<accountId>/<functionName>/current.log[.N]}.
 */
public final class LogFiles {
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
    private static final Pattern FUNCTION = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private LogFiles() {}

    /** The directory of one function's logs; rejects names that could escape the logs tree. */
    public static Path directory(Path dataDir, String accountId, String functionName) {
        if (!ACCOUNT.matcher(accountId).matches()) {
            throw new IllegalArgumentException("account id must be 12 digits: " + accountId);
        }
        if (!FUNCTION.matcher(functionName).matches()) {
            throw new IllegalArgumentException("invalid function name: " + functionName);
        }
        return dataDir.resolve("logs").resolve(accountId).resolve(functionName);
    }

    /** The last {@code maxLines} lines across the rotated files, oldest first. */
    public static List<String> tail(Path dataDir, String accountId, String functionName, int maxLines) {
        Path dir = directory(dataDir, accountId, functionName);
        Deque<String> last = new ArrayDeque<>();
        List<Path> files = new ArrayList<>();
        for (int i = 9; i >= 1; i--) {
            Path p = dir.resolve(FunctionLogFile.CURRENT + "." + i);
            if (Files.exists(p)) {
                files.add(p);
            }
        }
        files.add(dir.resolve(FunctionLogFile.CURRENT));
        for (Path p : files) {
            if (!Files.exists(p)) {
                continue;
            }
            try (var lines = Files.lines(p, StandardCharsets.UTF_8)) {
                lines.forEach(l -> {
                    last.addLast(l);
                    if (last.size() > maxLines) {
                        last.removeFirst();
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(last);
    }

    /**
     * Follows {@code current.log} like {@code tail -f} from its current end, handing each new line to
     * {@code sink}, until {@code stop} returns true; notices rotation (the file shrinking).
     */
    public static void follow(Path dataDir, String accountId, String functionName, Consumer<String> sink,
                              BooleanSupplier stop, Duration poll) throws InterruptedException {
        Path file = directory(dataDir, accountId, functionName).resolve(FunctionLogFile.CURRENT);
        long pos = fileSize(file);
        StringBuilder partial = new StringBuilder();
        while (!stop.getAsBoolean()) {
            long size = fileSize(file);
            if (size < pos) {
                pos = 0; // rotated
            }
            if (size > pos) {
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                    raf.seek(pos);
                    byte[] buf = new byte[(int) Math.min(size - pos, 1 << 20)];
                    raf.readFully(buf);
                    pos += buf.length;
                    partial.append(new String(buf, StandardCharsets.UTF_8));
                    int nl;
                    while ((nl = partial.indexOf("\n")) >= 0) {
                        sink.accept(partial.substring(0, nl));
                        partial.delete(0, nl + 1);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else {
                Thread.sleep(poll);
            }
        }
    }

    private static long fileSize(Path f) {
        try {
            return Files.exists(f) ? Files.size(f) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
