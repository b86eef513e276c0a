package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.cluster.rpc.LeadersMsg;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What `ignis cluster status` prints from the nodes' answers (issue 19). */
class ClusterStatusTest {

    private static LeadersMsg answer(String node, Map<String, String> leaders, Map<String, Long> applied, Map<String, Long> silent) {
        return LeadersMsg.newBuilder().setNodeId(node).putAllLeaders(leaders).putAllApplied(applied).putAllSilentMs(silent).build();
    }

    @Test
    void showsEachGroupsLeaderTheAppliedIndexesAndWhoIsDown() {
        Map<String, Optional<LeadersMsg>> answers = new LinkedHashMap<>();
        answers.put("c1", Optional.of(answer("c1", Map.of("config", "c1", "assignment-p0", "c2"), Map.of("config", 12L, "assignment-p0", 100L),
                Map.of("config c2", 20L, "config c3", 44_182L))));
        // c2 still believes c3 leads config: the leader's own claim (c1) wins
        answers.put("c2", Optional.of(answer("c2", Map.of("config", "c3", "assignment-p0", "c2"), Map.of("config", 11L, "assignment-p0", 100L),
                Map.of("assignment-p0 c1", 15L, "assignment-p0 c3", 44_627L))));
        answers.put("c3", Optional.empty());

        String out = ClusterStatus.render(answers);

        assertThat(out).contains("nodes not answering: c3");
        assertThat(out).containsPattern("assignment-p0 +c2 +100 / 100 / down +c3 \\(44,627 ms\\)");
        assertThat(out).containsPattern("config +c1 +12 / 11 / down +c3 \\(44,182 ms\\)");
        assertThat(out).doesNotContain("c2 (20 ms)"); // answering members are not listed
    }

    @Test
    void aHealthyClusterListsNobody() {
        Map<String, Optional<LeadersMsg>> answers = new LinkedHashMap<>();
        answers.put("c1", Optional.of(answer("c1", Map.of("config", "c1"), Map.of("config", 3L), Map.of("config c2", 40L))));
        answers.put("c2", Optional.of(answer("c2", Map.of("config", "c1"), Map.of("config", 3L), Map.of())));
        String out = ClusterStatus.render(answers);
        assertThat(out).contains("nodes not answering: none");
        assertThat(out).containsPattern("config +c1 +3 / 3 +none");
    }
}
