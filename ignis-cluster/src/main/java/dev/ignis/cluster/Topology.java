package dev.ignis.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who is in a cluster: every node, its roles and addresses, the partition count and the assignment
 * mode. Every process of the cluster reads the same file ({@code ignis serve --peers FILE}).
 *
 * <p>Raft ports: a node that holds groups listens on {@code raftPort + offset} per group: config 0,
 * events 1, assignment partition {@code p} at {@code 2 + p}.
 *
 * @param partitions  assignment partitions; each is one Raft group over every assignment node
 * @param assignment  {@link Mode#JOURNAL} (the sandbox table on a replicated log) or
 *                    {@link Mode#IN_MEMORY} (the talk's worker managers: one node owns a partition's
 *                    table in memory, the next one takes over with an empty table)
 * @param shared      the cluster's shared directory: code packages (the cluster's origin, as S3 is
 *                    Lambda's) and the deployment secrets every node needs
 */
public record Topology(int partitions, Mode assignment, Path shared, List<Node> nodes) {

    public enum Mode { JOURNAL, IN_MEMORY }

    public enum Role { FRONTEND, CONFIG, ASSIGNMENT, WORKER }

    /** One process of the cluster. {@code httpPort} is used by frontends, {@code raftPort} by config/assignment nodes. */
    public record Node(String id, Set<Role> roles, String host, int rpcPort, int raftPort, int httpPort) {
        public Node {
            if (id == null || !id.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("node id must be 1-64 letters, digits, '.', '_' or '-': " + id);
            }
            roles = Set.copyOf(roles);
            if (roles.isEmpty()) {
                throw new IllegalArgumentException("node " + id + " has no role");
            }
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("node " + id + " has no host");
            }
            boolean needsRpc = roles.contains(Role.WORKER) || roles.contains(Role.CONFIG) || roles.contains(Role.ASSIGNMENT);
            if (needsRpc && (rpcPort <= 0 || rpcPort > 65535)) {
                throw new IllegalArgumentException("node " + id + " needs an rpcPort");
            }
            if ((roles.contains(Role.CONFIG) || roles.contains(Role.ASSIGNMENT)) && (raftPort <= 0 || raftPort > 65000)) {
                throw new IllegalArgumentException("node " + id + " needs a raftPort");
            }
            if (roles.contains(Role.FRONTEND) && (httpPort < 0 || httpPort > 65535)) {
                throw new IllegalArgumentException("node " + id + " has a bad httpPort");
            }
        }

        public InetSocketAddress rpcAddress() {
            return new InetSocketAddress(host, rpcPort);
        }

        public String rpcTarget() {
            return host + ":" + rpcPort;
        }

        public boolean has(Role role) {
            return roles.contains(role);
        }
    }

    public Topology {
        if (partitions < 1 || partitions > 64) {
            throw new IllegalArgumentException("partitions must be within 1..64: " + partitions);
        }
        nodes = List.copyOf(nodes);
        Set<String> ids = new HashSet<>();
        for (Node n : nodes) {
            if (!ids.add(n.id())) {
                throw new IllegalArgumentException("node id used twice: " + n.id());
            }
        }
        for (Role r : Role.values()) {
            if (nodes.stream().noneMatch(n -> n.has(r))) {
                throw new IllegalArgumentException("the cluster has no " + r.name().toLowerCase() + " node");
            }
        }
    }

    public static final String CONFIG_GROUP = "config";
    public static final String EVENTS_GROUP = "events";

    public Optional<Node> node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
    }

    public Node require(String id) {
        return node(id).orElseThrow(() -> new IllegalArgumentException("no node " + id + " in the cluster file"));
    }

    public List<Node> withRole(Role role) {
        return nodes.stream().filter(n -> n.has(role)).toList();
    }

    /** The Raft members of a group (config and events live on config nodes; partitions on assignment nodes). */
    public Map<String, InetSocketAddress> raftPeers(String group) {
        Role role = CONFIG_GROUP.equals(group) || EVENTS_GROUP.equals(group) ? Role.CONFIG : Role.ASSIGNMENT;
        Map<String, InetSocketAddress> peers = new LinkedHashMap<>();
        for (Node n : withRole(role)) {
            peers.put(n.id(), new InetSocketAddress(n.host(), n.raftPort() + raftOffset(group)));
        }
        return peers;
    }

    static int raftOffset(String group) {
        if (CONFIG_GROUP.equals(group)) {
            return 0;
        }
        if (EVENTS_GROUP.equals(group)) {
            return 1;
        }
        if (group.startsWith("assignment-p")) {
            return 2 + Integer.parseInt(group.substring("assignment-p".length()));
        }
        throw new IllegalArgumentException("unknown group " + group);
    }

    /** Reads a cluster file; {@code shared} is resolved against the file's directory. */
    public static Topology read(Path file) {
        try {
            JsonNode root = Json.mapper().readTree(Files.readAllBytes(file));
            if (root == null || !root.isObject()) {
                throw new IllegalArgumentException("cluster file " + file + " is not a JSON object");
            }
            int partitions = root.path("partitions").asInt(1);
            Mode mode = switch (root.path("assignment").asText("journal")) {
                case "journal" -> Mode.JOURNAL;
                case "in-memory" -> Mode.IN_MEMORY;
                default -> throw new IllegalArgumentException("assignment must be journal or in-memory");
            };
            Path shared = file.toAbsolutePath().getParent().resolve(root.path("shared").asText("shared")).normalize();
            List<Node> nodes = new java.util.ArrayList<>();
            for (JsonNode n : root.path("nodes")) {
                Set<Role> roles = new HashSet<>();
                for (JsonNode r : n.path("roles")) {
                    roles.add(parseRole(r.asText()));
                }
                nodes.add(new Node(n.path("id").asText(null), roles, n.path("host").asText("127.0.0.1"),
                        n.path("rpcPort").asInt(0), n.path("raftPort").asInt(0), n.path("httpPort").asInt(0)));
            }
            return new Topology(partitions, mode, shared, nodes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read cluster file " + file, e);
        }
    }

    /** Writes this topology as a cluster file (its {@code shared} relative to the file when below it). */
    public void write(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("partitions", partitions);
        root.put("assignment", assignment == Mode.JOURNAL ? "journal" : "in-memory");
        root.put("shared", shared.startsWith(dir) ? dir.relativize(shared).toString() : shared.toString());
        root.put("nodes", nodes.stream().map(n -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", n.id());
            m.put("roles", n.roles().stream().map(r -> r.name().toLowerCase()).sorted().toList());
            m.put("host", n.host());
            m.put("rpcPort", n.rpcPort());
            m.put("raftPort", n.raftPort());
            m.put("httpPort", n.httpPort());
            return m;
        }).toList());
        try {
            Files.writeString(file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Role parseRole(String s) {
        return switch (s) {
            case "frontend" -> Role.FRONTEND;
            case "config" -> Role.CONFIG;
            case "assignment" -> Role.ASSIGNMENT;
            case "worker" -> Role.WORKER;
            default -> throw new IllegalArgumentException("unknown role " + s + " (frontend, config, assignment, worker)");
        };
    }
}
