package dev.ignis.runtimes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts a runtime's unchanged command as a child process with its directories at the paths the
 * sandbox gives them (/var/runtime, /var/task). bubblewrap is used here ONLY to map those paths
 * (the whole host stays visible, read-write): isolation is the worker's job, not this module's.
 */
final class RuntimeProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    final long startNanos;

    private RuntimeProcess(Process process, Path log, long startNanos) {
        this.process = process;
        this.log = log;
        this.startNanos = startNanos;
    }

    static RuntimeProcess start(RuntimeDefinition def, Path taskDir, String handler, String apiAddress,
                                Map<String, String> extraEnv) throws IOException {
        return start(def, def.runtimeDirectory(), taskDir, handler, apiAddress, extraEnv);
    }

    /** As {@link #start}, with {@code runtimeDir} mounted at /var/runtime instead of the definition's. */
    static RuntimeProcess start(RuntimeDefinition def, Path runtimeDir, Path taskDir, String handler, String apiAddress,
                                Map<String, String> extraEnv) throws IOException {
        return start(def, runtimeDir, taskDir, handler, apiAddress, extraEnv, false);
    }

    /**
     * As {@link #start}, but the filesystem holds ONLY the definition's host paths, /var/runtime,
     * /var/task, a fresh /tmp, /proc and /dev: proves the catalog's path list is sufficient.
     */
    static RuntimeProcess startWithOnlyListedPaths(RuntimeDefinition def, Path taskDir, String handler, String apiAddress)
            throws IOException {
        return start(def, def.runtimeDirectory(), taskDir, handler, apiAddress, Map.of(), true);
    }

    private static RuntimeProcess start(RuntimeDefinition def, Path runtimeDir, Path taskDir, String handler,
                                        String apiAddress, Map<String, String> extraEnv, boolean onlyListed)
            throws IOException {
        Map<String, String> env = new LinkedHashMap<>(def.environment());
        env.put("AWS_LAMBDA_RUNTIME_API", apiAddress);
        env.put("_HANDLER", handler);
        env.put("AWS_LAMBDA_FUNCTION_NAME", "fixture");
        env.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256");
        env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/fixture");
        env.put("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/27/[$LATEST]0123456789abcdef");
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_DEFAULT_REGION", "us-east-1");
        env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        env.putAll(extraEnv);
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/bwrap"));
        if (onlyListed) {
            cmd.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
            for (Path p : def.hostReadOnlyPaths()) {
                cmd.addAll(List.of("--ro-bind", p.toString(), p.toString()));
            }
            def.directoryBinds().forEach((inside, host) -> cmd.addAll(List.of("--ro-bind", host.toString(), inside.toString())));
        } else {
            cmd.addAll(List.of("--dev-bind", "/", "/", "--tmpfs", "/var"));
        }
        cmd.addAll(List.of("--ro-bind", runtimeDir.toString(), "/var/runtime", "--ro-bind", taskDir.toString(), "/var/task",
                "--chdir", "/var/task", "--unshare-pid", "--die-with-parent", "--clearenv"));
        env.forEach((k, v) -> {
            cmd.add("--setenv");
            cmd.add(k);
            cmd.add(v);
        });
        cmd.add("--");
        cmd.addAll(def.command());
        Path log = Files.createTempFile("ignis-runtime-", ".log");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new RuntimeProcess(p, log, t0);
    }

    /** Waits for the process to exit by itself; returns its exit code. */
    int awaitExit(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("runtime did not exit within " + seconds + " s; output:\n" + output());
        }
        return process.exitValue();
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        Files.deleteIfExists(log);
    }
}
