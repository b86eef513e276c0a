package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.cluster.Topology;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Bad cluster-mode command lines end with a clear message and exit 2, before anything starts. */
class ClusterCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String err) {}

    Run serve(String... args) {
        var err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true));
        try {
            String[] all = new String[args.length + 3];
            all[0] = "serve";
            all[1] = "--data-dir";
            all[2] = dir.resolve("data").toString();
            System.arraycopy(args, 0, all, 3, args.length);
            return new Run(new CommandLine(new Main()).execute(all), err.toString());
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void planWritesAFileEveryNodeReadsTheSame() throws Exception {
        Topology t = ClusterCommand.plan(dir.resolve("c"), 2, 3, 2, 2, Topology.Mode.JOURNAL, 0);
        assertThat(Topology.read(dir.resolve("c/cluster.json"))).isEqualTo(t);
        assertThat(t.withRole(Topology.Role.FRONTEND)).hasSize(2);
        assertThat(t.raftPeers("assignment-p1")).hasSize(3);
        assertThat(t.shared().resolve("master.keyset.json")).exists();
        assertThat(t.shared().resolve("admin.token")).exists();
        for (var n : t.nodes()) {
            assertThat(n.rpcPort()).isLessThan(32768); // below the ephemeral range
        }
    }

    @Test
    void aClusterIsRestartedOnlyWithTheShapeItWasPlannedWith() throws Exception {
        Topology a = ClusterCommand.plan(dir.resolve("a"), 2, 3, 2, 2, Topology.Mode.JOURNAL, 0);
        assertThat(ClusterCommand.sameShape(a, ClusterCommand.plan(dir.resolve("b"), 2, 3, 2, 2, Topology.Mode.JOURNAL, 0))).isTrue();
        assertThat(ClusterCommand.sameShape(a, ClusterCommand.plan(dir.resolve("c"), 2, 3, 3, 2, Topology.Mode.JOURNAL, 0))).isFalse();
        assertThat(ClusterCommand.sameShape(a, ClusterCommand.plan(dir.resolve("d"), 2, 3, 2, 1, Topology.Mode.JOURNAL, 0))).isFalse();
        assertThat(ClusterCommand.sameShape(a, ClusterCommand.plan(dir.resolve("e"), 2, 3, 2, 2, Topology.Mode.IN_MEMORY, 0))).isFalse();
    }

    @Test
    void clusterFlagsAreCheckedBeforeAnythingStarts() throws Exception {
        ClusterCommand.plan(dir.resolve("c"), 1, 1, 1, 1, Topology.Mode.JOURNAL, 0);
        String file = dir.resolve("c/cluster.json").toString();

        Run noNode = serve("--peers", file);
        assertThat(noNode.exit()).isEqualTo(2);
        assertThat(noNode.err()).contains("needs both --peers FILE and --node ID");

        Run unknown = serve("--peers", file, "--node", "nobody");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("no node nobody");

        Run mismatch = serve("--peers", file, "--node", "worker1", "--role", "frontend");
        assertThat(mismatch.exit()).isEqualTo(2);
        assertThat(mismatch.err()).contains("does not match node worker1");

        Run badRole = serve("--peers", file, "--node", "worker1", "--role", "chef");
        assertThat(badRole.exit()).isEqualTo(2);
        assertThat(badRole.err()).contains("unknown role chef");

        Files.writeString(dir.resolve("bad.json"), "{not json");
        Run badFile = serve("--peers", dir.resolve("bad.json").toString(), "--node", "x");
        assertThat(badFile.exit()).isEqualTo(2);
        assertThat(badFile.err()).contains("cannot read cluster file");

        Run badMode = serve("--assignment", "paxos");
        assertThat(badMode.exit()).isEqualTo(2);
        assertThat(badMode.err()).contains("--assignment must be in-memory or journal");

        assertThat(dir.resolve("data/server.json")).doesNotExist();
    }
}
