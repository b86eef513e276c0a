package dev.ignis.runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The managed runtimes this host can serve, and how the worker starts each one in a sandbox.
 *
 * <p>{@link #install(Path)} writes each runtime's /var/runtime directory under
 * {@code dataDir/runtimes/<id>/} from this module's resources (idempotent), probes the host for
 * interpreters and JDKs, and lists for every runtime the few host paths its sandbox needs
 * (the interpreter or JDK, the shared libraries ldd reports for it, CA certificates). A runtime
 * id Lambda knows but this host cannot serve is simply absent from {@link #find(String)}.
 *
 * <p>Served here: python3.x (Debian's /usr/bin/python3.N + Ignis' stdlib client), nodejs20.x/22.x
 * (/usr/bin/node of that major + Ignis' client), java17/java21/java25 (a JDK of that major, or
 * JDK 25 for java21, + AWS's unchanged Java runtime interface client), provided.al2/al2023 (the
 * function's own /var/task/bootstrap on the host's userland).
 */
public final class RuntimeCatalog {
    /** Every runtime id AWS Lambda has defined (botocore's Runtime enum), deprecated ones included. */
    private static final Set<String> AWS_RUNTIME_IDS = Set.of(
            "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
            "nodejs14.x", "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
            "java8", "java8.al2", "java11", "java17", "java21", "java25",
            "python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "python3.10", "python3.11",
            "python3.12", "python3.13", "python3.14",
            "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8", "dotnet10",
            "go1.x", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3", "ruby3.4",
            "provided", "provided.al2", "provided.al2023");

    static final Path USR_BIN = Path.of("/usr/bin");
    static final Path JVM_DIR = Path.of("/usr/lib/jvm");
    static final Path DASH = Path.of("/usr/bin/dash");
    static final Path CA_CERTS = Path.of("/etc/ssl/certs");
    static final String RIC_MAIN = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";
    static final String PROBE_CACHE = ".host-probes";
    private static final Pattern PYTHON_NAME = Pattern.compile("python3\\.\\d+");

    private final Map<String, RuntimeDefinition> byId;

    private RuntimeCatalog(Map<String, RuntimeDefinition> byId) {
        this.byId = byId;
    }

    /**
     * Installs the runtime directories under {@code dataDir/runtimes/} (rebuilding only what
     * changed) and returns the catalog of runtimes this host can serve.
     *
     * @throws UncheckedIOException if the runtime directories cannot be written
     */
    public static RuntimeCatalog install(Path dataDir) {
        return install(dataDir, true);
    }

    /** As {@link #install(Path)}; {@code trainClassSharing=false} skips building CDS/AOT archives (tests). */
    static RuntimeCatalog install(Path dataDir, boolean trainClassSharing) {
        Path root = dataDir.toAbsolutePath().resolve("runtimes");
        // Nodes of one host may share a runtime directory (a cluster on one machine, the tests): one
        // installs at a time — the file lock keeps other processes out, the monitor other threads of this
        // one (a JVM may not hold two locks on one file).
        synchronized (RuntimeCatalog.class) {
            try {
                Files.createDirectories(root);
                try (var lockFile = FileChannel.open(root.resolve(".install.lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                     var lock = lockFile.lock()) {
                    Map<String, RuntimeDefinition> defs = new TreeMap<>();
                    python(root, defs);
                    node(root, defs);
                    java(root, defs, trainClassSharing);
                    provided(root, defs);
                    return new RuntimeCatalog(Map.copyOf(defs));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot install runtimes under " + root + ": " + e, e);
            }
        }
    }

    /** The runtime with this Lambda id, if this host serves it. */
    public Optional<RuntimeDefinition> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** Every runtime this host serves, ordered by id. */
    public List<RuntimeDefinition> all() {
        return byId.values().stream().sorted(Comparator.comparing(RuntimeDefinition::id)).toList();
    }

    /**
     * The runtime ids AWS Lambda defines. An id outside this set is an
     * InvalidParameterValueException; an id inside it that {@link #find(String)} lacks is a valid
     * Lambda runtime this host does not have installed.
     */
    public static Set<String> knownAwsRuntimeIds() {
        return AWS_RUNTIME_IDS;
    }

    private static void python(Path root, Map<String, RuntimeDefinition> defs) throws IOException {
        Path cache = root.resolve(PROBE_CACHE);
        RuntimeResources res = RuntimeResources.load("python");
        List<Path> pythons;
        try (Stream<Path> s = Files.list(USR_BIN)) {
            // Only the distribution's interpreters: their stdlib lives in /usr/lib/python3.N.
            pythons = s.filter(p -> PYTHON_NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).sorted().toList();
        }
        for (Path python : pythons) {
            String id = python.getFileName().toString();
            Path stdlib = Path.of("/usr/lib", id);
            if (!AWS_RUNTIME_IDS.contains(id) || !Files.isDirectory(stdlib)) {
                continue;
            }
            Optional<String> version = HostProbe.version(cache, python);
            if (version.isEmpty()) {
                continue;
            }
            Path dir = root.resolve(id);
            res.materialize(dir, Map.of(), version.get());
            List<Path> binaries = new ArrayList<>(List.of(python));
            Path dynload = stdlib.resolve("lib-dynload");
            if (Files.isDirectory(dynload)) {
                try (Stream<Path> s = Files.list(dynload)) {
                    s.filter(p -> p.toString().endsWith(".so")).sorted().forEach(binaries::add);
                }
            }
            Set<Path> paths = new LinkedHashSet<>(List.of(python, stdlib));
            paths.addAll(HostProbe.sharedLibraries(cache, binaries));
            addIfExists(paths, CA_CERTS);
            var libs = LibraryCopies.collapse(root.resolve(id + ".libs"), minimal(paths));
            defs.put(id, new RuntimeDefinition(id,
                    "C" + version.get() + " (" + python + ") + Ignis python runtime client",
                    dir, libs.paths(),
                    List.of(python.toString(), "-u", "-s", "-B", "/var/runtime/ignis_runtime.py"),
                    baseEnvironment(id, Map.of("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt",
                            "PYTHONDONTWRITEBYTECODE", "1")), libs.directoryBinds()));
        }
    }

    private static void node(Path root, Map<String, RuntimeDefinition> defs) throws IOException {
        Path cache = root.resolve(PROBE_CACHE);
        Path node = USR_BIN.resolve("node");
        if (!Files.isExecutable(node)) {
            return;
        }
        Optional<String> version = HostProbe.version(cache, node);
        Optional<Integer> major = version.flatMap(HostProbe::major);
        if (major.isEmpty()) {
            return;
        }
        String id = "nodejs" + major.get() + ".x";
        if (!AWS_RUNTIME_IDS.contains(id)) {
            return;
        }
        Path dir = root.resolve(id);
        RuntimeResources.load("node").materialize(dir, Map.of(), version.get());
        Set<Path> paths = new LinkedHashSet<>(List.of(node));
        paths.addAll(HostProbe.sharedLibraries(cache, List.of(node)));
        addIfExists(paths, CA_CERTS);
        var libs = LibraryCopies.collapse(root.resolve(id + ".libs"), minimal(paths));
        defs.put(id, new RuntimeDefinition(id,
                "Node.js " + version.get() + " (" + node + ") + Ignis node runtime client",
                dir, libs.paths(),
                List.of(node.toString(), "/var/runtime/ignis-runtime.mjs"),
                baseEnvironment(id, Map.of("NODE_PATH", "/opt/nodejs/node_modules:/var/runtime/node_modules")), libs.directoryBinds()));
    }

    private static void java(Path root, Map<String, RuntimeDefinition> defs, boolean train) throws IOException {
        Map<Integer, Path> jdks = new TreeMap<>();
        Map<Integer, Properties> releases = new TreeMap<>();
        if (Files.isDirectory(JVM_DIR)) {
            try (Stream<Path> s = Files.list(JVM_DIR)) {
                // Real directories only: Debian adds alias symlinks for the same JDK.
                for (Path home : s.filter(p -> Files.isDirectory(p) && !Files.isSymbolicLink(p)).sorted().toList()) {
                    HostProbe.jdkRelease(home).ifPresent(rel -> HostProbe.major(rel.getProperty("JAVA_VERSION", "") + ".0")
                            .ifPresent(m -> {
                                jdks.putIfAbsent(m, home);
                                releases.putIfAbsent(m, rel);
                            }));
                }
            }
        }
        RuntimeResources res = RuntimeResources.load("java");
        // java21 class files run unchanged on a newer JDK, so 25 serves java21 when no 21 is installed.
        Map<String, Integer> wanted = new LinkedHashMap<>();
        wanted.put("java17", jdks.containsKey(17) ? 17 : null);
        wanted.put("java21", jdks.containsKey(21) ? Integer.valueOf(21) : jdks.containsKey(25) ? Integer.valueOf(25) : null);
        wanted.put("java25", jdks.containsKey(25) ? 25 : null);
        for (var w : wanted.entrySet()) {
            if (w.getValue() == null) {
                continue;
            }
            Path home = jdks.get(w.getValue());
            Properties rel = releases.get(w.getValue());
            defs.put(w.getKey(), JavaRuntime.install(root.resolve(w.getKey()), w.getKey(), home, w.getValue(), rel, res, train));
        }
    }

    private static void provided(Path root, Map<String, RuntimeDefinition> defs) throws IOException {
        RuntimeResources res = RuntimeResources.load("provided");
        // What a bash + curl bootstrap or a dynamically linked binary needs from the userland.
        List<Path> candidates = List.of(Path.of("/usr/bin"), Path.of("/bin"), Path.of("/lib64"),
                Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/lib/x86_64-linux-gnu"), CA_CERTS);
        Set<Path> paths = new LinkedHashSet<>();
        for (Path c : candidates) {
            addIfExists(paths, c);
        }
        String servedBy = "host userland " + HostProbe.osName() + " (not Amazon Linux): runs /var/task/bootstrap";
        for (String id : List.of("provided.al2023", "provided.al2")) {
            Path dir = root.resolve(id);
            res.materialize(dir, Map.of(), "");
            defs.put(id, new RuntimeDefinition(id, servedBy, dir, minimal(paths), List.of("/var/task/bootstrap"),
                    baseEnvironment(id, Map.of())));
        }
    }

    /** The variables Lambda sets for every function of a runtime, before the function's own. */
    static Map<String, String> baseEnvironment(String id, Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AWS_EXECUTION_ENV", "AWS_Lambda_" + id);
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin:/opt/bin");
        env.put("LD_LIBRARY_PATH", "/var/task/lib:/opt/lib");
        env.put("LANG", "en_US.UTF-8");
        env.put("TZ", ":UTC");
        env.put("LAMBDA_TASK_ROOT", "/var/task");
        env.put("LAMBDA_RUNTIME_DIR", "/var/runtime");
        env.putAll(extra);
        return env;
    }

    /**
     * Normalizes the paths and drops any that lie inside another listed path (e.g. the JDK's own
     * libjli.so once the JDK directory is listed), keeping the first-seen order.
     */
    static List<Path> minimal(java.util.Collection<Path> paths) {
        List<Path> normalized = paths.stream().map(Path::normalize).distinct().toList();
        return normalized.stream()
                .filter(p -> normalized.stream().noneMatch(other -> !other.equals(p) && p.startsWith(other)))
                .toList();
    }

    static void addIfExists(Set<Path> paths, Path p) {
        if (Files.exists(p)) {
            paths.add(p);
        }
    }
}
