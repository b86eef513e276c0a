package dev.ignis.runtimes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * One java runtime id: AWS's unchanged runtime interface client started by a /bin/sh bootstrap
 * on a host JDK, optionally with a class-data-sharing archive built for exactly that JDK.
 */
final class JavaRuntime {
    static final String JNI_LIBRARY = "jni/libaws-lambda-jni.linux-x86_64.so";

    private JavaRuntime() {
    }

    static RuntimeDefinition install(Path dir, String id, Path javaHome, int major, Properties release,
                                     RuntimeResources resources, boolean train) throws IOException {
        ClassSharing sharing = ClassSharing.forMajor(major);
        String jdk = release.getProperty("IMPLEMENTOR", "unknown") + " " + release.getProperty("JAVA_RUNTIME_VERSION",
                release.getProperty("JAVA_VERSION", "?"));
        boolean rebuilt = resources.materialize(dir, Map.of(
                "@JAVA@", javaHome.resolve("bin/java").toString(),
                "@ARCHIVE@", sharing.archiveName(), "@ARCHIVE_FLAG@", sharing.useFlag()), jdk + " " + javaHome);
        if (train) {
            sharing.ensureArchive(dir, javaHome, rebuilt);
        }

        Set<Path> paths = new LinkedHashSet<>();
        paths.add(DASH);
        paths.add(javaHome);
        paths.addAll(HostProbe.sharedLibraries(dir.resolveSibling(RuntimeCatalog.PROBE_CACHE), List.of(DASH, javaHome.resolve("bin/java"),
                javaHome.resolve("lib/server/libjvm.so"), javaHome.resolve("lib/libjli.so"),
                javaHome.resolve("lib/libjava.so"), javaHome.resolve("lib/libzip.so"), javaHome.resolve("lib/libnio.so"),
                javaHome.resolve("lib/libnet.so"), javaHome.resolve("lib/libjimage.so"),
                javaHome.resolve("lib/libextnet.so"), dir.resolve(JNI_LIBRARY))));
        // Debian's JDK keeps its conf files as symlinks into /etc/java-N-openjdk.
        RuntimeCatalog.addIfExists(paths, Path.of("/etc/java-" + major + "-openjdk"));
        RuntimeCatalog.addIfExists(paths, RuntimeCatalog.CA_CERTS);
        String servedBy = jdk + " (" + javaHome + ") + AWS aws-lambda-java-runtime-interface-client " + ricVersion(dir)
                + (Files.exists(dir.resolve(sharing.archiveName())) ? " with " + sharing.describe() : "");
        var libs = LibraryCopies.collapse(dir.resolveSibling(id + ".libs"), RuntimeCatalog.minimal(paths));
        return new RuntimeDefinition(id, servedBy, dir, libs.paths(),
                List.of(DASH.toString(), "/var/runtime/bootstrap"),
                RuntimeCatalog.baseEnvironment(id, Map.of("JAVA_HOME", javaHome.toString())), libs.directoryBinds());
    }

    private static final Path DASH = RuntimeCatalog.DASH;

    private static String ricVersion(Path dir) throws IOException {
        try (var s = Files.list(dir.resolve("lib"))) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("aws-lambda-java-runtime-interface-client-"))
                    .map(n -> n.substring("aws-lambda-java-runtime-interface-client-".length()).replace(".jar", ""))
                    .findFirst().orElse("?");
        }
    }
}
