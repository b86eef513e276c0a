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
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            String content = new String(bytes, 0, contentLength(bytes, bytes.length), StandardCharsets.UTF_8);
            content.lines().forEach(l -> {
                last.addLast(l);
                if (last.size() > maxLines) {
                    last.removeFirst();
                }
            });
        }
        return List.copyOf(last);
    }

    /**
     * A log line made safe to print on a terminal: its control characters (C0 but the tab between fields,
     * DEL, C1) written as <code>\xNN</code> (C1: <code>\</code><code>u00NN</code>), so a function's output
     * cannot move the cursor, retitle the window, rewrite earlier lines or answer terminal queries (ESC
     * sequences). Everything else, including a backslash, is kept: the escapes are for a reader, not to be reversed.
     */
    public static String printable(String line) {
        int i = 0;
        while (i < line.length() && !isControl(line.charAt(i))) {
            i++;
        }
        if (i == line.length()) {
            return line;
        }
        StringBuilder sb = new StringBuilder(line.length() + 16).append(line, 0, i);
        for (; i < line.length(); i++) {
            char c = line.charAt(i);
            if (!isControl(c)) {
                sb.append(c);
            } else if (c < 0x80) {
                sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
            } else {
                sb.append("\\u00").append(Character.forDigit(c >> 4 & 0xF, 16)).append(Character.forDigit(c & 0xF, 16));
            }
        }
        return sb.toString();
    }

    private static boolean isControl(char c) {
        return (c < 0x20 && c != '\t') || (c >= 0x7F && c <= 0x9F);
    }

    /** The content in the first {@code n} bytes: up to the first NUL (a log file's unwritten rest, see FunctionLogFile). */
    static int contentLength(byte[] bytes, int n) {
        for (int i = 0; i < n; i++) {
            if (bytes[i] == 0) {
                return i;
            }
        }
        return n;
    }

    /**
     * Follows {@code current.log} like {@code tail -f} from its current end, handing each new line to
     * {@code sink}, until {@code stop} returns true; notices rotation (a new file: another inode) and a file cut
     * in place (copytruncate: its content now ends before the position read so far), and reads either from its start.
     */
    public static void follow(Path dataDir, String accountId, String functionName, Consumer<String> sink,
                              BooleanSupplier stop, Duration poll) throws InterruptedException {
        Path file = directory(dataDir, accountId, functionName).resolve(FunctionLogFile.CURRENT);
        Object fileKey = fileKey(file);
        long pos = contentEnd(file);
        StringBuilder partial = new StringBuilder();
        while (!stop.getAsBoolean()) {
            Object key = fileKey(file);
            if (key != null && !key.equals(fileKey)) {
                fileKey = key; // rotated: a new file from its start
                pos = 0;
                partial.setLength(0);
            }
            long size = fileSize(file);
            if (pos > 0 && (size < pos || byteAt(file, pos - 1) == 0)) {
                pos = 0; // cut under us (logrotate's copytruncate): the same file, written again from its start
                partial.setLength(0);
            }
            int got = 0;
            if (size > pos) {
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                    raf.seek(pos);
                    byte[] buf = new byte[(int) Math.min(size - pos, 1 << 20)];
                    int n = raf.read(buf); // not readFully: the file may have been cut since its size was read
                    got = n <= 0 ? 0 : contentLength(buf, n);
                    pos += got;
                    partial.append(new String(buf, 0, got, StandardCharsets.UTF_8));
                    int nl;
                    while ((nl = partial.indexOf("\n")) >= 0) {
                        sink.accept(partial.substring(0, nl));
                        partial.delete(0, nl + 1);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            if (got == 0) {
                Thread.sleep(poll);
            }
        }
    }

    /** The byte at {@code position}, or 0 when the file ends before it or cannot be read. */
    private static int byteAt(Path f, long position) {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            raf.seek(position);
            int b = raf.read();
            return Math.max(b, 0);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long contentEnd(Path f) {
        if (!Files.exists(f)) {
            return 0;
        }
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.READ)) {
            return FunctionLogFile.contentEnd(ch);
        } catch (IOException e) {
            return 0;
        }
    }

    private static Object fileKey(Path f) {
        try {
            return Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
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
