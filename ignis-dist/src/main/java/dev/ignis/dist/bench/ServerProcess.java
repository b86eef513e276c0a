package dev.ignis.dist.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An `ignis serve` of some build running as a child process on a free port with a fresh data
 * directory, for A/B runs: both builds are measured the same way, over the loopback.
 */
final class ServerProcess implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("serving the Lambda API on http://([^:]+):(\\d+)");
    private final Process process;
    final String label;
    final int port;
    final String accessKeyId;
    final String secret;

    private ServerProcess(Process process, String label, int port, String accessKeyId, String secret) {
        this.process = process;
        this.label = label;
        this.port = port;
        this.accessKeyId = accessKeyId;
        this.secret = secret;
    }

    /** Starts {@code serve} from {@code classpath}, with runtimes from {@code runtimeHome} (installed once, shared). */
    static ServerProcess start(String label, String classpath, Path runtimeHome, Path dataDir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath, "dev.ignis.dist.Main", "serve",
                "--port", "0", "--data-dir", dataDir.toString(), "--runtime-home", runtimeHome.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.PIPE).start();
        var ready = new CompletableFuture<Integer>();
        Path log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        Thread.ofVirtual().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 var out = Files.newBufferedWriter(log)) {
                for (String line; (line = in.readLine()) != null; ) {
                    out.write(line);
                    out.newLine();
                    out.flush();
                    Matcher m = SERVING.matcher(line);
                    if (m.find()) {
                        ready.complete(Integer.parseInt(m.group(2)));
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
            ready.completeExceptionally(new IllegalStateException(label + " server exited before serving; see " + log));
        });
        int port;
        try {
            port = ready.get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            p.destroyForcibly();
            throw e;
        }
        String creds = Files.readString(dataDir.resolve("aws/credentials"));
        return new ServerProcess(p, label, port, value(creds, "aws_access_key_id"), value(creds, "aws_secret_access_key"));
    }

    static String value(String credentials, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + "\\s*=\\s*(\\S+)").matcher(credentials);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + key + " in the credentials file");
        }
        return m.group(1);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: the server's shutdown hook retires its sandboxes
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
