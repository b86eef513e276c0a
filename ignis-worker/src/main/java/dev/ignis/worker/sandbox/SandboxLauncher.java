package dev.ignis.worker.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Builds {@code ignis-sandbox-exec} (the C source next to this class) once per source version into
 * a root-only directory: the first program of every sandbox (see {@link SandboxCommand}). Built on
 * the host rather than shipped so that it is always compiled from the source in this jar.
 */
public final class SandboxLauncher {
    private static final String SOURCE = "ignis-sandbox-exec.c";
    private static final List<Path> COMPILERS = List.of(Path.of("/usr/bin/cc"), Path.of("/usr/bin/gcc"));

    private SandboxLauncher() {}

    /** The launcher binary in {@code dir} (which must be writable by root only), compiled if missing. */
    public static Path build(Path dir) {
        byte[] source;
        try (InputStream in = SandboxLauncher.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SOURCE + " is missing from the classpath");
            }
            source = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path binary = dir.resolve("ignis-sandbox-exec-" + HexFormat.of().formatHex(sha256(source), 0, 8));
        if (Files.isExecutable(binary)) {
            return binary;
        }
        Path cc = COMPILERS.stream().filter(Files::isExecutable).findFirst().orElseThrow(() -> new IllegalStateException(
                "the process sandbox driver compiles its launcher with a C compiler: install gcc and libc6-dev"));
        try {
            Path src = Files.createTempFile(dir, "ignis-sandbox-exec-", ".c");
            Path out = Files.createTempFile(dir, "ignis-sandbox-exec-", ".bin");
            Path log = Files.createTempFile(dir, "ignis-sandbox-exec-", ".log");
            try {
                Files.write(src, source);
                Process p = new ProcessBuilder(cc.toString(), "-O2", "-Wall", "-o", out.toString(), src.toString())
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("compiling " + SOURCE + " with " + cc + " took over 2 minutes");
                }
                if (p.exitValue() != 0) {
                    throw new IllegalStateException("compiling " + SOURCE + " with " + cc + " failed (install gcc and libc6-dev): "
                            + Files.readString(log, StandardCharsets.UTF_8));
                }
                Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwx------"));
                Files.move(out, binary, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return binary;
            } finally {
                Files.deleteIfExists(src);
                Files.deleteIfExists(out);
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the sandbox launcher in " + dir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling the sandbox launcher", e);
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Launchers started ahead of time ({@code ignis-sandbox-exec --stdin}), each waiting on its standard
     * input for one sandbox's arguments, then the runtime's command and environment: a cold start then skips the process start
     * itself (the JDK's spawn helper and the launcher's exec, ~5 ms here). They are spawned on the
     * worker's owner thread like every sandbox process (bwrap's --die-with-parent is tied to the
     * forking thread) and refilled there after each take.
     */
    public static final class Ready implements AutoCloseable {
        private final Path binary;
        private final ExecutorService owner;
        private final int size;
        private final Deque<Process> ready = new ArrayDeque<>();
        private boolean closed;

        public Ready(Path binary, ExecutorService owner, int size) {
            this.binary = binary;
            this.owner = owner;
            this.size = size;
            refill();
        }

        /**
         * Starts one sandbox: {@code args} are the launcher's arguments after its name (the first form
         * of ignis-sandbox-exec.c, from {@link SandboxCommand#launcherArgs}), {@code runtime} the message
         * for the sandbox's {@code --await} ({@link #runtimeMessage}). Both go down the same pipe: the
         * launcher reads only its own, and bwrap, on the host, never sees the function's environment.
         */
        public Process start(List<String> args, byte[] runtime) throws InterruptedException, ExecutionException, IOException {
            byte[] instructions = launcherMessage(args, runtime);
            Process p = take();
            try {
                send(p, instructions);
            } catch (IOException lostIt) { // it died while waiting: start one now
                p.destroyForcibly();
                p = owner.submit(this::spawn).get();
                send(p, instructions);
            } finally {
                refill();
            }
            return p;
        }

        private Process take() throws InterruptedException, ExecutionException {
            synchronized (this) {
                Process p;
                while ((p = ready.poll()) != null) {
                    if (p.isAlive()) {
                        return p;
                    }
                }
            }
            // never wait for the owner thread while holding the lock: the owner takes it to refill
            return owner.submit(this::spawn).get();
        }

        private static void send(Process p, byte[] instructions) throws IOException {
            try (OutputStream in = p.getOutputStream()) {
                in.write(instructions);
            }
        }

        private void refill() {
            owner.execute(() -> {
                while (true) {
                    synchronized (this) {
                        if (closed || ready.size() >= size) {
                            return;
                        }
                    }
                    Process p;
                    try {
                        p = spawn();
                    } catch (IOException e) {
                        return; // the next start spawns its own and reports the failure
                    }
                    synchronized (this) {
                        if (closed) {
                            p.destroyForcibly();
                            return;
                        }
                        ready.add(p);
                    }
                }
            });
        }

        private Process spawn() throws IOException {
            ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--stdin");
            pb.environment().clear();
            pb.redirectErrorStream(true); // the runtime's stdout and stderr: one pipe, one log (see SandboxLog)
            return pb.start();
        }

        /**
         * The launcher's message (its arguments, no environment: it and bwrap run on the host with a
         * fixed one), followed by {@code then}, which the launcher leaves on the pipe for the sandbox.
         */
        static byte[] launcherMessage(List<String> args, byte[] then) {
            ByteArrayOutputStream fields = new ByteArrayOutputStream(4096);
            field(fields, Integer.toString(args.size()));
            args.forEach(a -> field(fields, a));
            ByteArrayOutputStream out = frame(fields);
            out.writeBytes(then);
            return out.toByteArray();
        }

        /**
         * The message for {@code ignis-sandbox-exec --await} inside a sandbox: the runtime's command and
         * its whole environment ("LEN", then NUL-terminated fields argc, the arguments, envc,
         * NAME=value...; read_instructions in the C source).
         */
        public static byte[] runtimeMessage(List<String> command, Map<String, String> env) {
            ByteArrayOutputStream fields = new ByteArrayOutputStream(4096);
            field(fields, Integer.toString(command.size()));
            command.forEach(a -> field(fields, a));
            field(fields, Integer.toString(env.size()));
            env.forEach((k, v) -> field(fields, k + "=" + v));
            return frame(fields).toByteArray();
        }

        private static ByteArrayOutputStream frame(ByteArrayOutputStream fields) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(fields.size() + 16);
            field(out, Integer.toString(fields.size()));
            out.writeBytes(fields.toByteArray());
            return out;
        }

        private static void field(ByteArrayOutputStream out, String s) {
            if (s.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a sandbox argument or variable contains NUL");
            }
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }

        @Override
        public synchronized void close() {
            closed = true;
            ready.forEach(Process::destroyForcibly);
            ready.clear();
        }
    }
}
