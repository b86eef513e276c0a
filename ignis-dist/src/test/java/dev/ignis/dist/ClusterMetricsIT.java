package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.cluster.Topology;
import dev.ignis.cluster.Topology.Role;
import dev.ignis.common.Json;
import dev.ignis.testfunctions.TestFunctions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * A small cluster (frontend, control node, worker: three processes, each with {@code --metrics-port 0}):
 * the frontend's metrics count the invokes it served; every node, frontend or not, answers the probes
 * and serves its metrics on its operator port.
 */
class ClusterMetricsIT {
    @TempDir Path dir;

    @Test
    void aControlNodeIsNotReadyUntilItsGroupsHaveALeader() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Topology topology = ClusterCommand.plan(dir, 1, 3, 1, 1, Topology.Mode.JOURNAL, 0);
        List<Topology.Node> control = topology.withRole(Role.CONFIG);
        List<Process> processes = new ArrayList<>();
        try (var http = HttpClient.newHttpClient()) {
            // one of three members alone: it serves, but no group it belongs to can elect a leader
            Topology.Node first = control.getFirst();
            processes.add(ClusterCommand.startNode(dir, first, TestPlatform.RUNTIME_HOME, List.of("--metrics-port", "0")));
            ClusterCommand.awaitNode(dir, first, processes.getFirst(), Duration.ofMinutes(3));
            int port = Json.mapper().readTree(dir.resolve("nodes").resolve(first.id()).resolve("server.json").toFile())
                    .get("metricsPort").asInt();
            URI readyz = URI.create("http://127.0.0.1:" + port + "/readyz");
            var alone = http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(alone.statusCode()).isEqualTo(503);
            assertThat(alone.body()).contains("\"status\":\"not ready\"", "\"config journal leader known\":\"failing\"");
            assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            // the other two members come: leaders are elected and the node turns ready
            for (Topology.Node n : control.subList(1, control.size())) {
                processes.add(ClusterCommand.startNode(dir, n, TestPlatform.RUNTIME_HOME, List.of()));
            }
            java.time.Instant deadline = java.time.Instant.now().plusSeconds(120);
            HttpResponse<String> now = alone;
            while (now.statusCode() != 200 && java.time.Instant.now().isBefore(deadline)) {
                Thread.sleep(200);
                now = http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString());
            }
            assertThat(now.statusCode()).as(now.body()).isEqualTo(200);
        } finally {
            ClusterCommand.stopAll(processes);
        }
    }

    @Test
    void everyNodeAnswersTheProbesAndTheFrontendCountsItsInvokes() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Topology topology = ClusterCommand.plan(dir, 1, 1, 1, 1, Topology.Mode.JOURNAL, 0);
        Map<String, Process> processes = new LinkedHashMap<>();
        try (var http = HttpClient.newHttpClient()) {
            for (Topology.Node n : topology.nodes()) {
                processes.put(n.id(), ClusterCommand.startNode(dir, n, TestPlatform.RUNTIME_HOME, List.of("--metrics-port", "0")));
            }
            Map<String, Integer> opsPorts = new LinkedHashMap<>();
            int httpPort = 0;
            for (Topology.Node n : topology.nodes()) {
                int port = ClusterCommand.awaitNode(dir, n, processes.get(n.id()), Duration.ofMinutes(3));
                if (n.has(Role.FRONTEND)) {
                    httpPort = port;
                }
                JsonNode server = Json.mapper().readTree(dir.resolve("nodes").resolve(n.id()).resolve("server.json").toFile());
                opsPorts.put(n.id(), server.get("metricsPort").asInt());
            }
            String endpoint = "http://127.0.0.1:" + httpPort;
            JsonNode key = ClusterCommand.admin(topology.shared(), endpoint, "account-create", "tenant");
            try (LambdaClient lambda = LambdaClient.builder().endpointOverride(URI.create(endpoint)).region(Region.US_EAST_1)
                    .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                    .overrideConfiguration(c -> c.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry())
                            .apiCallTimeout(Duration.ofSeconds(90)))
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                            key.get("accessKeyId").asText(), key.get("secretAccessKey").asText())))
                    .build()) {
                lambda.createFunction(b -> b.functionName("counted").runtime("python3.11").handler("echo.handler").role(TestPlatform.ROLE)
                        .timeout(30).code(c -> c.zipFile(SdkBytes.fromByteArray(TestFunctions.zip("python-handlers")))));
                for (int i = 0; i < 3; i++) {
                    lambda.invoke(b -> b.functionName("counted"));
                }
            }
            String token = Secrets.adminToken(topology.shared());
            var scraped = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/ignis-admin/metrics"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(scraped.statusCode()).isEqualTo(200);
            assertThat(MetricsIT.value(scraped.body(), "lambda_invocations_total", Map.of("function", "counted"))).isEqualTo(3);
            assertThat(MetricsIT.value(scraped.body(), "lambda_duration_seconds_count", Map.of("function", "counted", "start", "cold")))
                    .isEqualTo(1);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(endpoint + "/ignis-admin/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(endpoint + "/readyz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            List<String> readiness = new ArrayList<>();
            for (var e : opsPorts.entrySet()) {
                assertThat(e.getValue()).as(e.getKey() + "'s operator port").isPositive();
                String base = "http://127.0.0.1:" + e.getValue();
                assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode()).isEqualTo(200);
                var ready = http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(ready.statusCode()).as(e.getKey() + ": " + ready.body()).isEqualTo(200);
                readiness.add(ready.body());
                assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode()).isEqualTo(200);
            }
            assertThat(String.join("\n", readiness)).contains("\"config journal leader known\":\"ok\"",
                    "\"assignment-p0 journal leader known\":\"ok\"", "\"worker can reach its directories\":\"ok\"");
        } finally {
            ClusterCommand.stopAll(List.copyOf(processes.values()));
        }
    }
}
