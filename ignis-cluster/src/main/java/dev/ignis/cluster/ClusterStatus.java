package dev.ignis.cluster;

import dev.ignis.cluster.rpc.AssignmentServiceGrpc;
import dev.ignis.cluster.rpc.Empty;
import dev.ignis.cluster.rpc.LeadersMsg;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What {@code ignis cluster status} shows (issue 19): every config/assignment node is asked what it sees —
 * each group's leader, how far it applied each group's log, and, where it leads, which members have not
 * answered it — and the answers are laid out as one table. A node that does not answer is "down".
 */
public final class ClusterStatus {
    private static final long ASK_MILLIS = 2_000;
    /** A member silent to its leader this long is listed (a live one answers every heartbeat). */
    static final long SILENT_MILLIS = 1_000;

    private ClusterStatus() {}

    /** Asks every config/assignment node of the topology; empty for a node that did not answer. */
    public static Map<String, Optional<LeadersMsg>> ask(Topology topology) {
        Map<String, Optional<LeadersMsg>> answers = new LinkedHashMap<>();
        try (Rpc.Channels channels = new Rpc.Channels()) {
            for (Topology.Node n : topology.nodes()) {
                if (!n.has(Topology.Role.CONFIG) && !n.has(Topology.Role.ASSIGNMENT)) {
                    continue;
                }
                try {
                    answers.put(n.id(), Optional.of(AssignmentServiceGrpc.newBlockingStub(channels.to(n.rpcTarget()))
                            .withDeadlineAfter(ASK_MILLIS, TimeUnit.MILLISECONDS).status(Empty.getDefaultInstance())));
                } catch (io.grpc.StatusRuntimeException e) {
                    answers.put(n.id(), Optional.empty());
                }
            }
        }
        return answers;
    }

    /** The tables, from each node's answer (empty: it did not answer). */
    public static String render(Map<String, Optional<LeadersMsg>> answers) {
        StringBuilder out = new StringBuilder();
        List<String> nodes = new ArrayList<>(answers.keySet());
        TreeSet<String> groups = new TreeSet<>();
        answers.values().forEach(a -> a.ifPresent(m -> groups.addAll(m.getAppliedMap().keySet())));
        List<String> down = nodes.stream().filter(n -> answers.get(n).isEmpty()).toList();
        out.append("nodes not answering: ").append(down.isEmpty() ? "none" : String.join(", ", down)).append('\n');
        out.append(String.format("%-16s %-12s %-30s %s%n", "group", "leader", "applied (" + String.join(" / ", nodes) + ")",
                "members silent to their leader"));
        for (String g : groups) {
            // a leader's own claim wins over the others' belief
            String leader = nodes.stream().filter(n -> answers.get(n).map(m -> n.equals(m.getLeadersMap().get(g))).orElse(false))
                    .findFirst().orElseGet(() -> answers.values().stream().flatMap(Optional::stream)
                            .map(m -> m.getLeadersMap().get(g)).filter(l -> l != null).findFirst().orElse("(none)"));
            List<String> applied = nodes.stream().map(n -> answers.get(n).map(m -> m.getAppliedMap().containsKey(g)
                    ? Long.toString(m.getAppliedMap().get(g)) : "-").orElse("down")).toList();
            List<String> silent = new ArrayList<>();
            answers.getOrDefault(leader, Optional.empty()).ifPresent(m -> m.getSilentMsMap().forEach((k, ms) -> {
                if (k.startsWith(g + " ") && ms >= SILENT_MILLIS) {
                    silent.add(k.substring(g.length() + 1) + " (" + String.format("%,d", ms) + " ms)");
                }
            }));
            out.append(String.format("%-16s %-12s %-30s %s%n", g, leader, String.join(" / ", applied),
                    silent.isEmpty() ? "none" : String.join(", ", silent)));
        }
        return out.toString();
    }
}
