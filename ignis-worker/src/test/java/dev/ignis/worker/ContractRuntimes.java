package dev.ignis.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import dev.ignis.runtimes.RuntimeDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.tools.ToolProvider;

/**
 * The runtimes {@link SandboxContract} adds to a {@link TestSandboxes} worker beside its python3.11 and provided ones:
 * nodejs20.x (the host's node with Ignis' own node runtime client from ignis-runtimes) and java21 (AWS's unchanged
 * Java runtime interface client 2.10.1, libcurl over JNI, on this JDK) with a compiled handler.
 */
final class ContractRuntimes {
    private ContractRuntimes() {}

    /** A java21 handler: echoes a name, logs, fails on request. */
    static final String JAVA_HANDLER = """
            package example;
            import com.amazonaws.services.lambda.runtime.Context;
            import com.amazonaws.services.lambda.runtime.RequestHandler;
            import java.util.Map;
            public class Hello implements RequestHandler<Map<String, Object>, String> {
                public String handleRequest(Map<String, Object> in, Context ctx) {
                    System.out.println("java handler " + ctx.getAwsRequestId() + " remaining " + (ctx.getRemainingTimeInMillis() > 0));
                    if (in.containsKey("fail")) throw new IllegalStateException("asked to fail");
                    return "hello " + in.get("name") + " from " + ctx.getFunctionName();
                }
            }
            """;

    /** Registers nodejs20.x on {@code t}: /usr/bin/node + ignis-runtime.mjs at /var/runtime. */
    static void addNode(TestSandboxes t) {
        try {
            Path dir = Files.createDirectories(t.base.resolve("runtime-node"));
            try (InputStream in = RuntimeDefinition.class.getResourceAsStream("/runtimes/node/ignis-runtime.mjs")) {
                assertThat(in).as("ignis-runtimes' node client on the classpath").isNotNull();
                Files.copy(in, dir.resolve("ignis-runtime.mjs"), StandardCopyOption.REPLACE_EXISTING);
            }
            readable(dir);
            t.extraRuntimes.put("nodejs20.x", new RuntimeDefinition("nodejs20.x", "host node + Ignis node runtime client", dir,
                    TestSandboxes.HOST_PATHS, List.of("/usr/bin/node", "/var/runtime/ignis-runtime.mjs"), Map.of()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Registers java21 on {@code t} (the RIC's jars at /var/runtime/lib) and returns a code directory with the compiled handler. */
    static Path addJava(TestSandboxes t) throws Exception {
        Path runtimeDir = Files.createDirectories(t.base.resolve("runtime-java/lib"));
        // the RIC and its runtime dependencies (core, serialization, AWS SDK utils-lite)
        for (Class<?> c : List.of(com.amazonaws.services.lambda.runtime.api.client.AWSLambda.class, RequestHandler.class,
                com.amazonaws.services.lambda.runtime.serialization.PojoSerializer.class,
                Class.forName("software.amazon.awssdk.utilslite.SdkInternalThreadLocal"))) {
            Path jar = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            Files.copy(jar, runtimeDir.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        Path code = t.code(Map.of());
        Path src = Files.createDirectories(t.base.resolve("src/example")).resolve("Hello.java");
        Files.writeString(src, JAVA_HANDLER);
        String cp = Path.of(RequestHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", code.toString(), "-cp", cp, src.toString())).isZero();
        readable(t.base.resolve("runtime-java"));
        readable(code);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        t.extraRuntimes.put("java21", new RuntimeDefinition("java21", "Temurin (test)", t.base.resolve("runtime-java"),
                TestSandboxes.HOST_PATHS,
                List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-cp", "/var/runtime/lib/*", "com.amazonaws.services.lambda.runtime.api.client.AWSLambda",
                        "example.Hello::handleRequest"),
                Map.of("AWS_EXECUTION_ENV", "AWS_Lambda_java21")));
        return code;
    }

    private static void readable(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
