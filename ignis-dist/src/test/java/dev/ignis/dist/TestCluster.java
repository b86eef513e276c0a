package dev.ignis.dist;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.cluster.LeaderWatch;
import dev.ignis.cluster.RemoteWorker;
import dev.ignis.cluster.Rpc;
import dev.ignis.cluster.Topology;
import dev.ignis.cluster.Topology.Role;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/** A whole cluster of child processes for a test: start, kill -9 and restart single nodes, look inside over gRPC. */
final class TestCluster implements AutoCloseable {
    final Path dir;
    final Topology topology;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, Integer> httpPorts = new LinkedHashMap<>();
    private final Rpc.Channels channels = new Rpc.Channels();
    private final LeaderWatch leaders;
    final String accessKeyId;
    final String secret;

    TestCluster(Path dir, int frontends, int control, int workers, Topology.Mode mode) throws Exception {
        this.dir = dir;
        // Sandbox uids must traverse to the shared code below it (as for a single node's data directory).
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        this.topology = ClusterCommand.plan(dir, frontends, control, workers, 1, mode, 0);
        try {
            for (Topology.Node n : topology.nodes()) {
                processes.put(n.id(), ClusterCommand.startNode(dir, n, TestPlatform.RUNTIME_HOME));
            }
            for (Topology.Node n : topology.nodes()) {
                httpPorts.put(n.id(), ClusterCommand.awaitNode(dir, n, processes.get(n.id()), Duration.ofMinutes(3)));
            }
            JsonNode key = ClusterCommand.admin(topology.shared(), endpoint(0), "account-create", "tenant");
            accessKeyId = key.get("accessKeyId").asText();
            secret = key.get("secretAccessKey").asText();
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
        leaders = new LeaderWatch(topology.nodes().stream().filter(n -> n.has(Role.ASSIGNMENT) || n.has(Role.CONFIG)).toList(), channels);
    }

    String endpoint(int frontend) {
        Topology.Node n = topology.withRole(Role.FRONTEND).get(frontend);
        return "http://" + n.host() + ":" + httpPorts.get(n.id());
    }

    /** An SDK client without retries: every failure the platform lets through is counted by the test. */
    LambdaClient client(int frontend) {
        return LambdaClient.builder()
                .endpointOverride(URI.create(endpoint(frontend)))
                .region(Region.US_EAST_1)
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                .overrideConfiguration(c -> c.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry())
                        .apiCallTimeout(Duration.ofSeconds(90)))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secret)))
                .build();
    }

    /** The pushed leader of a group, waiting for one to be known. */
    String leaderOf(String group) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            Optional<String> l = leaders.leaderOf(group).filter(id -> processes.get(id) != null && processes.get(id).isAlive());
            if (l.isPresent()) {
                return l.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no leader of " + group + " within 30 s");
    }

    /** Sandboxes created by every worker since it started: the placement calls that reached a worker. */
    long placements() {
        long total = 0;
        for (Topology.Node n : topology.withRole(Role.WORKER)) {
            if (processes.get(n.id()).isAlive()) {
                total += new RemoteWorker(n.id(), channels.to(n.rpcTarget())).list(5_000).getCreatedTotal();
            }
        }
        return total;
    }

    /** Waits until {@code nodeId} has applied, for {@code group}, everything the leader had applied when called. */
    void awaitCaughtUp(String nodeId, String group, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long target = -1;
        long at = -1;
        while (System.nanoTime() < deadline) {
            try {
                if (target < 0) {
                    target = LeaderWatch.appliedOn(topology.require(leaderOf(group)), channels).getOrDefault(group, 0L);
                }
                at = LeaderWatch.appliedOn(topology.require(nodeId), channels).getOrDefault(group, -1L);
                if (at >= target) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // the node (or the leader we asked) is still starting: ask again
            }
            Thread.sleep(100);
        }
        throw new AssertionError(nodeId + " applied " + group + " up to " + at + ", not " + target + ", within " + timeout);
    }

    /**
     * Hands a group's leadership to {@code to} (through the current leader) and waits until the push says so.
     * Ratis refuses a transfer while the target lags or an election runs; as an operator would, ask again.
     */
    void transferLeadership(String group, String to) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                LeaderWatch.transferLeadership(topology.require(leaderOf(group)), group, to, channels);
                break;
            } catch (RuntimeException refused) {
                if (attempt == 5) {
                    throw refused;
                }
                System.out.println("CLUSTER transfer to " + to + " refused (attempt " + attempt + "): " + refused.getMessage());
                Thread.sleep(1_000);
            }
        }
        for (int i = 0; i < 200 && !leaderOf(group).equals(to); i++) {
            Thread.sleep(50);
        }
    }

    void kill(String nodeId) throws InterruptedException {
        processes.get(nodeId).destroyForcibly().waitFor();
    }

    /** Starts a killed node again: with its data (a restart) or with none (a replacement host). */
    void restart(String nodeId, boolean wipe) throws Exception {
        Topology.Node n = topology.require(nodeId);
        if (wipe) {
            Path data = dir.resolve("nodes").resolve(nodeId);
            try (var files = Files.walk(data)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Process p = ClusterCommand.startNode(dir, n, TestPlatform.RUNTIME_HOME);
        processes.put(nodeId, p);
        httpPorts.put(nodeId, ClusterCommand.awaitNode(dir, n, p, Duration.ofMinutes(2)));
    }

    List<String> nodes(Role role) {
        return topology.withRole(role).stream().map(Topology.Node::id).toList();
    }

    String log(String nodeId) throws Exception {
        return Files.readString(dir.resolve("nodes").resolve(nodeId).resolve("node.log"));
    }

    @Override
    public void close() {
        if (leaders != null) {
            leaders.close();
        }
        channels.close();
        ClusterCommand.stopAll(List.copyOf(processes.values()));
    }
}
