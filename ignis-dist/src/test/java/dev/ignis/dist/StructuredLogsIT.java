package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.testfunctions.TestFunctions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * {@code ignis serve --log-format json}: the platform's log is JSON lines, and what it logs while serving a
 * request carries that request's id (the one the client got), account and function.
 */
class StructuredLogsIT {
    private static final Pattern TEXT_LINE = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} +(TRACE|DEBUG|INFO|WARN|ERROR) ");
    /**
     * java.util.logging's SimpleFormatter's first line ("Dec 03, 2026 8:12:35 AM io.helidon..."). (The JVM's own
     * "WARNING: ... sun.misc.Unsafe" lines and a println of Helidon's at start are not log records: they stay text.)
     */
    private static final Pattern JUL_LINE = Pattern.compile("^[A-Z][a-z]{2} \\d{1,2}, \\d{4} \\d{1,2}:\\d\\d:\\d\\d [AP]M ");
    @TempDir Path dir;

    @Test
    @Timeout(120)
    void aFailedInitIsLoggedAsJsonWithTheRequestsIdAccountAndFunction() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Path out = dir.resolve("stdout.log");
        Path err = dir.resolve("stderr.log");
        Path data = dir.resolve("data");
        // the sandboxes' uids pass through to the data directory, as ServeCommand requires
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Process p = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.ignis.dist.Main", "serve", "--data-dir", data.toString(), "--port", "0", "--log-format", "json",
                "--runtime-home", TestPlatform.RUNTIME_HOME.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            int port = awaitPort(p, out, err);
            String credentials = Files.readString(data.resolve("aws/credentials"));
            try (LambdaClient lambda = TestPlatform.client(port, value(credentials, "aws_access_key_id"),
                    value(credentials, "aws_secret_access_key"))) {
                lambda.createFunction(b -> b.functionName("broken").runtime("python3.11").handler("broken_import.handler")
                        .role(TestPlatform.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(TestFunctions.zip("python-handlers")))));
                String account = lambda.getFunction(b -> b.functionName("broken")).configuration().functionArn().split(":")[4];
                InvokeResponse r = lambda.invoke(b -> b.functionName("broken").payload(SdkBytes.fromUtf8String("{}")));
                assertThat(r.functionError()).isEqualTo("Unhandled");
                String requestId = r.responseMetadata().requestId();
                JsonNode failed = awaitLine(err, l -> l.path("formattedMessage").asText().contains("failed init"));
                assertThat(failed.path("level").asText()).isEqualTo("INFO");
                assertThat(failed.path("loggerName").asText()).isEqualTo("dev.ignis.worker.SandboxWorker");
                assertThat(failed.path("timestamp").asLong()).isPositive();
                JsonNode mdc = failed.path("mdc");
                assertThat(mdc.path("requestId").asText()).isEqualTo(requestId);
                assertThat(mdc.path("account").asText()).isEqualTo(account);
                assertThat(mdc.path("function").asText()).isEqualTo("broken");
            }
            // every line logback wrote is JSON; none is in the text pattern
            List<String> lines = Files.readAllLines(err);
            assertThat(lines).noneMatch(l -> TEXT_LINE.matcher(l).find());
            assertThat(lines).noneMatch(l -> JUL_LINE.matcher(l).find()); // Helidon's, routed into the JSON
            assertThat(lines.stream().filter(l -> l.startsWith("{")).toList()).allSatisfy(l -> Json.mapper().readTree(l));
            assertThat(lines.stream().filter(l -> l.startsWith("{")).count()).isGreaterThanOrEqualTo(2); // worker ready, failed init
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void anUnknownFormatIsRefusedAtStart() {
        var errors = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new PrintStream(errors, true, StandardCharsets.UTF_8));
            code = new CommandLine(new Main()).execute("serve", "--data-dir", dir.toString(), "--log-format", "xml");
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(2);
        assertThat(errors.toString(StandardCharsets.UTF_8)).contains("--log-format must be text or json, not xml");
        assertThat(dir.resolve("journal")).doesNotExist();
    }

    private static String value(String ini, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + " = (\\S+)$").matcher(ini);
        assertThat(m.find()).as(key + " in the credentials file").isTrue();
        return m.group(1);
    }

    private static int awaitPort(Process p, Path out, Path err) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        Pattern serving = Pattern.compile("serving the Lambda API on http://[^:]+:(\\d+)");
        while (Instant.now().isBefore(deadline)) {
            Matcher m = serving.matcher(Files.readString(out));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!p.isAlive()) {
                throw new AssertionError("server exited: " + Files.readString(out) + Files.readString(err));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server did not start: " + Files.readString(out) + Files.readString(err));
    }

    private static JsonNode awaitLine(Path err, java.util.function.Predicate<JsonNode> wanted) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        List<String> seen = new ArrayList<>();
        while (Instant.now().isBefore(deadline)) {
            seen = Files.readAllLines(err);
            for (String l : seen) {
                if (l.startsWith("{")) {
                    JsonNode n = Json.mapper().readTree(l);
                    if (wanted.test(n)) {
                        return n;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no such log line in " + seen);
    }
}
