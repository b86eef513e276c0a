package dev.ignis.runtimes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds what this host has installed (interpreters, JDKs) and which shared libraries they load,
 * so a sandbox can be given exactly those paths and nothing else.
 */
final class HostProbe {
    // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
    private static final Pattern LDD_RESOLVED = Pattern.compile("=>\\s+(/\\S+)\\s+\\(0x");
    private static final Pattern LDD_LOADER = Pattern.compile("^\\s*(/\\S+)\\s+\\(0x");

    private HostProbe() {
    }

    /**
     * Memoizes a probe on disk: {@code key} names the probe, {@code files} are what its answer
     * depends on (their size and mtime are part of the cache key). Probing ldd over ~60 Python
     * extension modules takes seconds on a loaded host; a restart should not pay it again.
     */
    static String cached(Path cacheDir, String key, List<Path> files, java.util.function.Supplier<String> probe) {
        StringBuilder k = new StringBuilder(key);
        for (Path f : files) {
            try {
                k.append('\n').append(f).append(' ').append(Files.size(f)).append(' ').append(Files.getLastModifiedTime(f).toMillis());
            } catch (IOException e) {
                k.append('\n').append(f).append(" missing");
            }
        }
        String name;
        try {
            name = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(k.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path entry = cacheDir.resolve(name);
        try {
            if (Files.isRegularFile(entry)) {
                return Files.readString(entry);
            }
            String value = probe.get();
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, name, ".tmp");
            Files.writeString(tmp, value);
            Files.move(tmp, entry, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return value;
        } catch (IOException e) {
            return probe.get();
        }
    }

    /** {@link #sharedLibraries(List)}, memoized in {@code cacheDir}. */
    static List<Path> sharedLibraries(Path cacheDir, List<Path> binaries) {
        String joined = cached(cacheDir, "ldd", binaries,
                () -> String.join("\n", sharedLibraries(binaries).stream().map(Path::toString).toList()));
        return joined.isBlank() ? List.of() : joined.lines().map(Path::of).toList();
    }

    /** {@code binary --version}, memoized in {@code cacheDir}; empty if it fails. */
    static Optional<String> version(Path cacheDir, Path binary) {
        String v = cached(cacheDir, "version", List.of(binary),
                () -> run(List.of(binary.toString(), "--version")).orElse(""));
        return v.isBlank() ? Optional.empty() : Optional.of(v);
    }

    /** Runs a command and returns its combined output, or empty if it fails or takes over 10 s. */
    static Optional<String> run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return p.exitValue() == 0 ? Optional.of(new String(out, StandardCharsets.UTF_8).trim()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * The shared libraries (and the dynamic loader) that {@code binaries} load, as ldd reports
     * them. Only these files are bound into a sandbox, not whole library directories.
     */
    static List<Path> sharedLibraries(List<Path> binaries) {
        List<String> cmd = new ArrayList<>();
        cmd.add("ldd");
        binaries.stream().filter(Files::isRegularFile).map(Path::toString).forEach(cmd::add);
        if (cmd.size() == 1) {
            return List.of();
        }
        // ldd exits non-zero if any argument is not dynamic (e.g. a script); read the output anyway.
        String out = runIgnoringStatus(cmd);
        Set<Path> libs = new LinkedHashSet<>();
        for (String line : out.split("\n")) {
            Matcher m = LDD_RESOLVED.matcher(line);
            if (m.find()) {
                libs.add(Path.of(m.group(1)));
                continue;
            }
            Matcher l = LDD_LOADER.matcher(line);
            if (l.find()) {
                libs.add(Path.of(l.group(1)));
            }
        }
        return List.copyOf(libs);
    }

    private static String runIgnoringStatus(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** A JDK's {@code release} file (JAVA_VERSION, IMPLEMENTOR, ...), or empty if it is not a JDK. */
    static Optional<Properties> jdkRelease(Path javaHome) {
        Path release = javaHome.resolve("release");
        if (!Files.isRegularFile(release) || !Files.isExecutable(javaHome.resolve("bin/java"))) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(release)) {
            p.load(in);
        } catch (IOException e) {
            return Optional.empty();
        }
        p.replaceAll((k, v) -> v.toString().replace("\"", ""));
        return Optional.of(p);
    }

    /** PRETTY_NAME from /etc/os-release, for honest descriptions of the host userland. */
    static String osName() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (line.startsWith("PRETTY_NAME=")) {
                    return line.substring("PRETTY_NAME=".length()).replace("\"", "");
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown Linux";
    }

    /** Major version from "v20.20.2" or "Python 3.11.2" style output. */
    static Optional<Integer> major(String versionOutput) {
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+)").matcher(versionOutput);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }
}
