package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.cluster.Topology.Mode;
import dev.ignis.cluster.Topology.Node;
import dev.ignis.cluster.Topology.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopologyTest {
    @TempDir
    Path dir;

    static List<Node> nodes() {
        return List.of(
                new Node("c1", Set.of(Role.CONFIG, Role.ASSIGNMENT), "127.0.0.1", 7001, 7100, 0),
                new Node("c2", Set.of(Role.CONFIG, Role.ASSIGNMENT), "127.0.0.1", 7002, 7200, 0),
                new Node("w1", Set.of(Role.WORKER), "127.0.0.1", 7003, 0, 0),
                new Node("f1", Set.of(Role.FRONTEND), "127.0.0.1", 0, 0, 9000));
    }

    @Test
    void writesAndReadsTheSameCluster() {
        var t = new Topology(3, Mode.IN_MEMORY, dir.resolve("shared"), nodes());
        t.write(dir.resolve("cluster.json"));
        var back = Topology.read(dir.resolve("cluster.json"));
        assertThat(back).isEqualTo(t);
    }

    @Test
    void raftPeersPerGroupUseOffsetsFromEachNodesBase() {
        var t = new Topology(2, Mode.JOURNAL, dir, nodes());
        assertThat(t.raftPeers("config").get("c1").getPort()).isEqualTo(7100);
        assertThat(t.raftPeers("events").get("c2").getPort()).isEqualTo(7201);
        assertThat(t.raftPeers("assignment-p1").get("c1").getPort()).isEqualTo(7103);
        assertThat(t.raftPeers("assignment-p0")).containsOnlyKeys("c1", "c2");
    }

    @Test
    void refusesClustersThatCannotWork() {
        assertThatThrownBy(() -> new Topology(1, Mode.JOURNAL, dir, nodes().subList(0, 3)))
                .hasMessageContaining("no frontend node");
        var dup = new java.util.ArrayList<>(nodes());
        dup.add(new Node("c1", Set.of(Role.WORKER), "h", 1, 0, 0));
        assertThatThrownBy(() -> new Topology(1, Mode.JOURNAL, dir, dup)).hasMessageContaining("used twice");
        assertThatThrownBy(() -> new Topology(0, Mode.JOURNAL, dir, nodes())).hasMessageContaining("partitions");
        assertThatThrownBy(() -> new Node("w", Set.of(Role.WORKER), "h", 0, 0, 0)).hasMessageContaining("rpcPort");
        assertThatThrownBy(() -> new Node("c", Set.of(Role.CONFIG), "h", 1, 0, 0)).hasMessageContaining("raftPort");
        assertThatThrownBy(() -> new Node("bad id!", Set.of(Role.WORKER), "h", 1, 0, 0)).hasMessageContaining("node id");
        assertThatThrownBy(() -> new Node("n", Set.of(), "h", 1, 0, 0)).hasMessageContaining("no role");
    }

    @Test
    void refusesBadFiles() throws Exception {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "[1,2]");
        assertThatThrownBy(() -> Topology.read(f)).hasMessageContaining("not a JSON object");
        Files.writeString(f, "{\"assignment\":\"paxos\",\"nodes\":[]}");
        assertThatThrownBy(() -> Topology.read(f)).hasMessageContaining("journal or in-memory");
        Files.writeString(f, "{\"nodes\":[{\"id\":\"x\",\"roles\":[\"chef\"],\"rpcPort\":1}]}");
        assertThatThrownBy(() -> Topology.read(f)).hasMessageContaining("unknown role chef");
        assertThatThrownBy(() -> Topology.read(dir.resolve("missing.json"))).hasMessageContaining("cannot read cluster file");
    }
}
