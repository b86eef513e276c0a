package dev.ignis.runtimes;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Class-data sharing for the java runtimes, chosen by JDK: an AppCDS dynamic archive on JDK 17
 * ({@code -XX:ArchiveClassesAtExit}, used with {@code -XX:SharedArchiveFile}) and a JEP 483/514
 * AOT cache on JDK 25 ({@code -XX:AOTCacheOutput}, used with {@code -XX:AOTCache}).
 *
 * <p>Either archive records the class path it was built with, so it is trained where the sandbox
 * will see it: the real bootstrap runs under bubblewrap with the runtime directory at /var/runtime,
 * against a one-shot training Runtime API on loopback, invoking {@code TrainingHandler} once and
 * then exiting the JVM normally so the archive is written. If that fails, the runtime still works
 * without an archive and a note saying why is left in the runtime directory.
 */
sealed interface ClassSharing {
    String FAILURE_NOTE = "class-sharing-failed.txt";

    /** The archive file name inside /var/runtime. */
    String archiveName();

    /** The JVM option that uses the archive (without "=path"). */
    String useFlag();

    /** The JVM option that makes a training run write the archive (without "=path"). */
    String trainFlag();

    /** For {@code servedBy}. */
    String describe();

    /** The JDK-17 form: AppCDS dynamic archive on top of the JDK's default CDS archive. */
    record AppCds() implements ClassSharing {
        public String archiveName() { return "ric.jsa"; }
        public String useFlag() { return "-XX:SharedArchiveFile"; }
        public String trainFlag() { return "-XX:ArchiveClassesAtExit"; }
        public String describe() { return "AppCDS archive"; }
    }

    /** The JDK-25 form: an AOT cache (classes loaded and linked ahead of time). */
    record AotCache() implements ClassSharing {
        public String archiveName() { return "ric.aot"; }
        public String useFlag() { return "-XX:AOTCache"; }
        public String trainFlag() { return "-XX:AOTCacheOutput"; }
        public String describe() { return "AOT cache"; }
    }

    static ClassSharing forMajor(int major) {
        return major >= 25 ? new AotCache() : new AppCds();
    }


    /**
     * Builds the archive in {@code runtimeDir} unless it is there already (or a previous attempt
     * for these exact files failed). {@code rebuilt} says the directory was just rewritten.
     */
    default void ensureArchive(Path runtimeDir, Path javaHome, boolean rebuilt) throws IOException {
        Path archive = runtimeDir.resolve(archiveName());
        Path note = runtimeDir.resolve(FAILURE_NOTE);
        if (!rebuilt && (Files.exists(archive) || Files.exists(note))) {
            return;
        }
        Files.deleteIfExists(archive);
        Files.deleteIfExists(note);
        String failure = Trainer.train(this, runtimeDir);
        if (failure != null || !Files.isRegularFile(archive)) {
            Files.deleteIfExists(archive);
            Files.writeString(note, (failure != null ? failure : "the training run wrote no archive") + "\n");
        } else {
            Files.setPosixFilePermissions(archive, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    /** Runs the training invocation; returns null on success or why it failed. */
    final class Trainer {
        private static final String EVENT = "{\"training\":true,\"items\":[1,2,3],\"nested\":{\"a\":\"b\"}}";

        private Trainer() {
        }

        static String train(ClassSharing sharing, Path runtimeDir) throws IOException {
            Path bwrap = Path.of("/usr/bin/bwrap");
            if (!Files.isExecutable(bwrap)) {
                return "bubblewrap (/usr/bin/bwrap) is not installed; the archive must be trained at /var/runtime";
            }
            Path task = Files.createTempDirectory("ignis-cds-training-");
            Path classFile = task.resolve("dev/ignis/runtimes/training/TrainingHandler.class");
            Files.createDirectories(classFile.getParent());
            Files.write(classFile, RuntimeResources.classBytes("dev.ignis.runtimes.training.TrainingHandler"));
            BlockingQueue<String> events = new ArrayBlockingQueue<>(2);
            events.add(EVENT);
            events.add("{\"exit\":true}");
            List<String> responses = new ArrayList<>();
            HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
            api.createContext("/2018-06-01/runtime/", exchange -> {
                try (exchange) {
                    String path = exchange.getRequestURI().getPath();
                    byte[] body = exchange.getRequestBody().readAllBytes();
                    if (path.endsWith("/invocation/next")) {
                        String event = events.poll(30, TimeUnit.SECONDS);
                        byte[] out = (event == null ? "{\"exit\":true}" : event).getBytes(StandardCharsets.UTF_8);
                        // AWS's JNI client crashes (strlen(NULL)) on a /next response without Content-Type.
                        exchange.getResponseHeaders().add("Content-Type", "application/json");
                        exchange.getResponseHeaders().add("Lambda-Runtime-Aws-Request-Id", "training-" + events.size());
                        exchange.getResponseHeaders().add("Lambda-Runtime-Deadline-Ms",
                                Long.toString(System.currentTimeMillis() + 60_000));
                        exchange.getResponseHeaders().add("Lambda-Runtime-Invoked-Function-Arn",
                                "arn:aws:lambda:us-east-1:000000000000:function:ignis-training");
                        exchange.sendResponseHeaders(200, out.length);
                        exchange.getResponseBody().write(out);
                    } else {
                        synchronized (responses) {
                            responses.add(path + " " + new String(body, StandardCharsets.UTF_8));
                        }
                        exchange.sendResponseHeaders(202, -1);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            api.start();
            Path log = Files.createTempFile("ignis-cds-training-", ".log");
            try {
                Path archive = Path.of("/var/runtime", sharing.archiveName());
                List<String> cmd = List.of(bwrap.toString(),
                        "--ro-bind", "/", "/", "--tmpfs", "/var", "--tmpfs", "/tmp",
                        "--bind", runtimeDir.toString(), "/var/runtime",
                        "--ro-bind", task.toString(), "/var/task",
                        "--proc", "/proc", "--dev", "/dev", "--chdir", "/var/task", "--die-with-parent",
                        "--clearenv",
                        "--setenv", "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + api.getAddress().getPort(),
                        "--setenv", "_HANDLER", "dev.ignis.runtimes.training.TrainingHandler::handleRequest",
                        "--setenv", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512",
                        "--setenv", "AWS_LAMBDA_FUNCTION_NAME", "ignis-training",
                        "--setenv", "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST",
                        "--setenv", "JAVA_TOOL_OPTIONS", sharing.trainFlag() + "=" + archive,
                        "--", RuntimeCatalog.DASH.toString(), "/var/runtime/bootstrap");
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    return "training run did not finish within 120 s";
                }
                synchronized (responses) {
                    if (responses.stream().noneMatch(r -> r.contains("/response ") && r.contains("training"))) {
                        return "training invoke got no response; exit " + p.exitValue() + "; output: " + tail(log);
                    }
                }
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted while training";
            } finally {
                api.stop(0);
                RuntimeResources.deleteTree(task);
                Files.deleteIfExists(log);
            }
        }

        private static String tail(Path log) throws IOException {
            String s = Files.readString(log);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        }
    }
}
