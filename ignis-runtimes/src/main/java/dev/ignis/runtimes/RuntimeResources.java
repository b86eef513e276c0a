package dev.ignis.runtimes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Copies one runtime's files ({@code /runtimes/<kind>/} on the classpath) into the host directory
 * that the worker mounts read-only at /var/runtime.
 *
 * <p>Idempotent: the directory carries a marker with the SHA-256 of every file it was built from
 * plus the install parameters; when the marker matches, nothing is touched (a restart costs one
 * hash of the resources, a few milliseconds). A changed resource or parameter rebuilds the
 * directory beside the old one and swaps it in with a rename, so a reader never sees half a runtime.
 */
final class RuntimeResources {
    static final String MARKER = ".ignis-runtime-version";

    private final String kind;
    private final List<Entry> entries;
    private final String digest;

    private record Entry(String relativePath, byte[] content) {
    }

    private RuntimeResources(String kind, List<Entry> entries, String digest) {
        this.kind = kind;
        this.entries = entries;
        this.digest = digest;
    }

    /** Reads the classpath tree {@code /runtimes/<kind>/}. */
    static RuntimeResources load(String kind) {
        URL url = RuntimeResources.class.getResource("/runtimes/" + kind);
        if (url == null) {
            throw new IllegalStateException("runtime resources /runtimes/" + kind + " missing from the classpath");
        }
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                FileSystem fs;
                try {
                    fs = FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    fs = FileSystems.getFileSystem(uri);
                }
                return read(kind, fs.provider().getPath(uri));
            }
            return read(kind, Path.of(uri));
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot read runtime resources " + url, e);
        }
    }

    private static RuntimeResources read(String kind, Path root) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile)
                    .sorted(Comparator.comparing(p -> root.relativize(p).toString()))
                    .toList();
        }
        MessageDigest sha = sha256();
        List<Entry> entries = new ArrayList<>();
        for (Path file : files) {
            String rel = root.relativize(file).toString();
            byte[] content = Files.readAllBytes(file);
            sha.update(rel.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(content);
            entries.add(new Entry(rel, content));
        }
        return new RuntimeResources(kind, List.copyOf(entries), HexFormat.of().formatHex(sha.digest()));
    }

    /**
     * Makes {@code target} hold these files, with {@code substitutions} applied to {@code bootstrap}.
     * Returns true if the directory was (re)built, false if it was already current.
     *
     * @param extraVersion anything else the content depends on (e.g. the JDK's release string)
     */
    boolean materialize(Path target, Map<String, String> substitutions, String extraVersion) throws IOException {
        String version = kind + "\n" + digest + "\n" + new java.util.TreeMap<>(substitutions) + "\n" + extraVersion + "\n";
        Path marker = target.resolve(MARKER);
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(version)) {
            return false;
        }
        Files.createDirectories(target.getParent());
        Path staging = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".staging-");
        try {
            for (Entry e : entries) {
                Path out = staging.resolve(e.relativePath());
                Files.createDirectories(out.getParent());
                byte[] content = e.content();
                if (e.relativePath().equals("bootstrap")) {
                    String text = new String(content, StandardCharsets.UTF_8);
                    for (var s : substitutions.entrySet()) {
                        text = text.replace(s.getKey(), s.getValue());
                    }
                    content = text.getBytes(StandardCharsets.UTF_8);
                }
                Files.write(out, content);
                // World-readable: the sandbox may run the function as an unprivileged uid.
                boolean executable = e.relativePath().equals("bootstrap");
                Files.setPosixFilePermissions(out, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
            }
            try (Stream<Path> dirs = Files.walk(staging)) {
                for (Path d : dirs.filter(Files::isDirectory).toList()) {
                    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Files.writeString(staging.resolve(MARKER), version);
            replace(staging, target);
        } finally {
            deleteTree(staging);
        }
        return true;
    }

    private static void replace(Path staging, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + ".old-" + System.nanoTime());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A class file's bytes, read as a resource so the class is never loaded into this JVM. */
    static byte[] classBytes(String className) {
        String name = "/" + className.replace('.', '/') + ".class";
        try (InputStream in = RuntimeResources.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("class file " + name + " not on the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
