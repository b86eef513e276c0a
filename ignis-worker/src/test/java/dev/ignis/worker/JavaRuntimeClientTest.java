package dev.ignis.worker;

import static dev.ignis.worker.TestSandboxes.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import dev.ignis.runtimes.RuntimeDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * AWS's own runtime client (aws-lambda-java-runtime-interface-client 2.10.1: libcurl over JNI,
 * keep-alive, its X-Ray and error-type headers) runs a compiled handler inside a sandbox.
 */
class JavaRuntimeClientTest {
    static final String HANDLER = """
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

    @Test
    void awsJavaRuntimeClientServesInvokesAndErrors() throws Exception {
        try (TestSandboxes t = new TestSandboxes()) {
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
            Files.writeString(src, HANDLER);
            String cp = Path.of(RequestHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", code.toString(), "-cp", cp, src.toString())).isZero();
            try (Stream<Path> s = Files.walk(t.base.resolve("runtime-java")); Stream<Path> s2 = Files.walk(code)) {
                for (Path p : Stream.concat(s, s2).toList()) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            t.extraRuntimes.put("java21", new RuntimeDefinition("java21", "Temurin (test)", t.base.resolve("runtime-java"),
                    TestSandboxes.HOST_PATHS,
                    List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                            "-cp", "/var/runtime/lib/*", "com.amazonaws.services.lambda.runtime.api.client.AWSLambda",
                            "example.Hello::handleRequest"),
                    Map.of("AWS_EXECUTION_ENV", "AWS_Lambda_java21")));
            SandboxHandle h = t.worker.createSandbox(TestSandboxes.spec("java21", code, 1769, 20, 256, Map.of()));
            try {
                InvokeOutcome ok = t.invoke(h, "{\"name\":\"ignis\"}");
                assertThat(ok.status()).as(text(ok) + "\n" + TestSandboxes.tail(ok)).isEqualTo(InvokeOutcome.Status.SUCCESS);
                assertThat(text(ok)).isEqualTo("\"hello ignis from fn-java21\"");
                assertThat(TestSandboxes.tail(ok)).contains("java handler ", "remaining true");
                InvokeOutcome err = t.invoke(h, "{\"fail\":true}");
                assertThat(err.status()).as(text(err) + "\n" + TestSandboxes.tail(err)).isEqualTo(InvokeOutcome.Status.FUNCTION_ERROR);
                assertThat(text(err)).contains("\"errorMessage\":\"asked to fail\"", "java.lang.IllegalStateException");
                assertThat(err.sandboxReusable()).isTrue();
                assertThat(text(t.invoke(h, "{\"name\":\"again\"}"))).isEqualTo("\"hello again from fn-java21\"");
                System.out.printf("java21 (AWS RIC) cold start to first /next: %d ms%n", h.initDuration().toMillis());
            } finally {
                t.worker.retire(h.sandboxId());
            }
        }
    }
}
