package dev.ignis.worker.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
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
}
