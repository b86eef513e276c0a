package dev.ignis.dist;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.cluster.Topology;
import dev.ignis.cluster.Topology.Node;
import dev.ignis.cluster.Topology.Role;
import dev.ignis.common.Json;
import dev.ignis.runtimes.RuntimeCatalog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `ignis cluster up`: a whole cluster on this machine, each node its own process on loopback. */
@Command(name = "cluster", description = "Run a local cluster (each node its own process).", subcommands = {ClusterCommand.Up.class, ClusterStatusCommand.class})
final class ClusterCommand {

    @Command(name = "up", description = "Start a local cluster: frontends, config+assignment nodes (Raft groups of three), "
            + "workers. Stops them all on Ctrl-C.")
    static final class Up implements Callable<Integer> {
        @Mixin
        DataDirOption dataDir;

        @Option(names = "--frontends", description = "Frontend nodes (default 2)")
        int frontends = 2;

        @Option(names = "--assignment-nodes", description = "Config + assignment nodes (default 3: one leader, two followers)")
        int control = 3;

        @Option(names = "--workers", description = "Worker nodes (default 2)")
        int workers = 2;

        @Option(names = "--partitions", description = "Assignment partitions (default 2)")
        int partitions = 2;

        @Option(names = "--assignment", description = "journal (default) or in-memory (the talk's worker managers)")
        String assignment = "journal";

        @Option(names = "--port", description = "The first frontend's port; the others follow (default 9000; 0 picks free ports)")
        int port = 9000;

        @Option(names = "--runtime-home", description = "Where managed runtimes are installed (default: the data directory)")
        Path runtimeHome;

        @Override
        public Integer call() throws Exception {
            Path dir = dataDir.get().toAbsolutePath().resolve("cluster");
            Topology.Mode mode = switch (assignment) {
                case "journal" -> Topology.Mode.JOURNAL;
                case "in-memory" -> Topology.Mode.IN_MEMORY;
                default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--assignment must be journal or in-memory");
            };
            Path home = runtimeHome != null ? runtimeHome.toAbsolutePath() : dataDir.get().toAbsolutePath();
            Topology topology;
            if (Files.exists(dir.resolve("cluster.json"))) {
                // A cluster that ran here before: start the same nodes on the same addresses (their Raft logs
                // name their peers by those addresses); its shape cannot change under its data.
                topology = Topology.read(dir.resolve("cluster.json"));
                Topology wanted = new Topology(partitions, mode, topology.shared(), plannedShape(frontends, control, workers));
                if (!sameShape(topology, wanted)) {
                    System.err.println("ignis: " + dir + " holds a different cluster (" + describe(topology) + "); asked for "
                            + describe(wanted) + ". Remove the directory or use another --data-dir.");
                    return 2;
                }
                System.out.println("Restarting the cluster in " + dir);
            } else {
                topology = plan(dir, frontends, control, workers, partitions, mode, port);
            }
            RuntimeCatalog.install(home); // once, before the nodes start (they would race to install it)
            Platform.createPrivateDir(topology.shared());
            DataDirLock lock = DataDirLock.acquire(topology.shared());
            List<Process> processes = new ArrayList<>();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopAll(processes);
                lock.close();
                stopped.countDown();
            }));
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (Node n : topology.nodes()) {
                processes.add(startNode(dir, n, home));
            }
            for (int i = 0; i < processes.size(); i++) {
                Node n = topology.nodes().get(i);
                ports.put(n.id(), awaitNode(dir, n, processes.get(i), Duration.ofMinutes(3)));
            }
            Node first = topology.withRole(Role.FRONTEND).getFirst();
            String endpoint = "http://" + first.host() + ":" + ports.get(first.id());
            ServeCommand.writeServerFile(topology.shared(), first.host(), ports.get(first.id()));
            defaultAccount(topology.shared(), endpoint);
            System.out.println("Ignis cluster is up (" + dir.resolve("cluster.json") + ", assignment " + assignment + "):");
            for (Node n : topology.nodes()) {
                System.out.println("  " + n.id() + " " + n.roles().stream().map(r -> r.name().toLowerCase()).sorted().toList()
                        + (n.has(Role.FRONTEND) ? " http://" + n.host() + ":" + ports.get(n.id()) : " rpc " + n.rpcTarget())
                        + "  log: " + dir.resolve("nodes").resolve(n.id()).resolve("node.log"));
            }
            System.out.println("Admin commands: ignis account|keys|events ... --data-dir " + topology.shared());
            System.out.flush();
            stopped.await();
            return 0;
        }
    }

    /**
     * Plans a loopback cluster in {@code dir}: frontends, "control" nodes holding config and assignment
     * (every Raft group has them all as members), workers; free ports; writes {@code cluster.json}.
     */
    static Topology plan(Path dir, int frontends, int control, int workers, int partitions, Topology.Mode mode, int firstHttpPort)
            throws IOException {
        if (frontends < 1 || control < 1 || workers < 1) {
            throw new IllegalArgumentException("a cluster needs at least one frontend, one control node and one worker");
        }
        Platform.createPrivateDir(dir);
        List<Node> nodes = new ArrayList<>();
        String host = "127.0.0.1";
        for (int i = 1; i <= control; i++) {
            nodes.add(new Node("control" + i, Set.of(Role.CONFIG, Role.ASSIGNMENT), host, freeRange(1), freeRange(2 + partitions), 0));
        }
        for (int i = 1; i <= workers; i++) {
            nodes.add(new Node("worker" + i, Set.of(Role.WORKER), host, freeRange(1), 0, 0));
        }
        for (int i = 1; i <= frontends; i++) {
            nodes.add(new Node("frontend" + i, Set.of(Role.FRONTEND), host, 0, 0, firstHttpPort == 0 ? 0 : firstHttpPort + i - 1));
        }
        Topology t = new Topology(partitions, mode, dir.resolve("shared"), nodes);
        t.write(dir.resolve("cluster.json"));
        // The deployment's secrets, created once here: nodes starting together would each create their own.
        Platform.createPrivateDir(t.shared());
        dev.ignis.config.SecretSealer.open(t.shared());
        Secrets.adminToken(t.shared());
        Secrets.codeLinkKey(t.shared());
        return t;
    }

    /** Node ids and roles of a planned cluster (addresses left out). */
    private static List<Node> plannedShape(int frontends, int control, int workers) {
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= control; i++) {
            nodes.add(new Node("control" + i, Set.of(Role.CONFIG, Role.ASSIGNMENT), "127.0.0.1", 1, 1, 0));
        }
        for (int i = 1; i <= workers; i++) {
            nodes.add(new Node("worker" + i, Set.of(Role.WORKER), "127.0.0.1", 1, 0, 0));
        }
        for (int i = 1; i <= frontends; i++) {
            nodes.add(new Node("frontend" + i, Set.of(Role.FRONTEND), "127.0.0.1", 0, 0, 0));
        }
        return nodes;
    }

    static boolean sameShape(Topology a, Topology b) {
        return a.partitions() == b.partitions() && a.assignment() == b.assignment()
                && a.nodes().stream().map(n -> n.id() + n.roles()).sorted().toList()
                .equals(b.nodes().stream().map(n -> n.id() + n.roles()).sorted().toList());
    }

    private static String describe(Topology t) {
        return t.withRole(Role.FRONTEND).size() + " frontends, " + t.withRole(Role.ASSIGNMENT).size() + " assignment nodes, "
                + t.withRole(Role.WORKER).size() + " workers, " + t.partitions() + " partitions, "
                + t.assignment().name().toLowerCase().replace('_', '-');
    }

    /** Starts one node as a child process ({@code ignis serve --peers ... --node ...}), logging to its data directory. */
    static Process startNode(Path dir, Node n, Path runtimeHome) throws IOException {
        return startNode(dir, n, runtimeHome, List.of());
    }

    /** As {@link #startNode(Path, Node, Path)}, with more {@code serve} options (e.g. {@code --metrics-port 0}). */
    static Process startNode(Path dir, Node n, Path runtimeHome, List<String> options) throws IOException {
        Path data = dir.resolve("nodes").resolve(n.id());
        Platform.createPrivateDir(data);
        Files.deleteIfExists(data.resolve("server.json"));
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), "dev.ignis.dist.Main", "serve",
                "--peers", dir.resolve("cluster.json").toString(), "--node", n.id(), "--data-dir", data.toString(),
                "--runtime-home", runtimeHome.toString()));
        cmd.addAll(options);
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("node.log").toFile())).start();
    }

    /** Waits until the node wrote its server file (it is serving); returns its HTTP port (0 for non-frontends). */
    static int awaitNode(Path dir, Node n, Process p, Duration timeout) throws Exception {
        Path data = dir.resolve("nodes").resolve(n.id());
        Path file = data.resolve("server.json");
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("node " + n.id() + " exited: " + tail(data.resolve("node.log")));
            }
            if (Files.exists(file)) {
                JsonNode json = Json.mapper().readTree(file.toFile());
                if (json.get("pid").asLong() == p.pid()) {
                    return json.get("port").asInt();
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("node " + n.id() + " did not start in " + timeout + ": " + tail(data.resolve("node.log")));
    }

    /** Creates the default account through the cluster (forwarded to the config leader) and writes an AWS CLI profile. */
    static void defaultAccount(Path shared, String endpoint) throws Exception {
        JsonNode accounts = admin(shared, endpoint, "account-list", "");
        if (accounts.isArray() && !accounts.isEmpty()) {
            return;
        }
        JsonNode key = admin(shared, endpoint, "account-create", "default");
        Path aws = shared.resolve("aws");
        Files.createDirectories(aws);
        Secrets.writePrivate(aws.resolve("credentials"), "[ignis]\naws_access_key_id = " + key.get("accessKeyId").asText()
                + "\naws_secret_access_key = " + key.get("secretAccessKey").asText() + "\n");
        Secrets.writePrivate(aws.resolve("config"), "[profile ignis]\nregion = " + dev.ignis.config.Region.NAME
                + "\nendpoint_url = " + endpoint + "\noutput = json\n");
        System.out.println("Created the default account " + key.get("accountId").asText() + "; AWS CLI profile 'ignis':");
        System.out.println("  export AWS_SHARED_CREDENTIALS_FILE=" + aws.resolve("credentials") + " AWS_CONFIG_FILE="
                + aws.resolve("config") + " AWS_PROFILE=ignis");
    }

    static JsonNode admin(Path shared, String endpoint, String op, String arg) throws Exception {
        String token = Secrets.adminToken(shared);
        var request = HttpRequest.newBuilder(URI.create(endpoint + "/ignis-admin/" + op))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(Map.of("arg", arg)))).build();
        try (var http = HttpClient.newHttpClient()) {
            var response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("admin " + op + " failed: " + response.statusCode() + " " + response.body());
            }
            return Json.mapper().readTree(response.body());
        }
    }

    static void stopAll(List<Process> processes) {
        processes.forEach(Process::destroy);
        for (Process p : processes) {
            try {
                if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /**
     * The first of {@code n} consecutive free loopback ports, below the kernel's ephemeral range
     * (32768 and up here), so no outgoing connection takes one between this plan and the node's bind.
     */
    static int freeRange(int n) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(10_000, 32_000 - n);
            boolean ok = true;
            for (int i = 0; i < n && ok; i++) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), base + i));
                } catch (IOException taken) {
                    ok = false;
                }
            }
            if (ok) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports");
    }
}
