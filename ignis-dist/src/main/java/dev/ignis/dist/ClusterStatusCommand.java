package dev.ignis.dist;

import dev.ignis.cluster.ClusterStatus;
import dev.ignis.cluster.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** `ignis cluster status`: each group's leader, each member's applied index, who is down ({@link ClusterStatus}). */
@Command(name = "status", description = "Show each group's leader, each member's applied index and who is down.")
final class ClusterStatusCommand implements Callable<Integer> {
    @Mixin
    DataDirOption dataDir;

    @Override
    public Integer call() {
        Path file = dataDir.get().toAbsolutePath().resolve("cluster").resolve("cluster.json");
        if (!Files.exists(file)) {
            System.err.println("No cluster under " + file.getParent() + ": start one with `ignis cluster up --data-dir "
                    + dataDir.get() + "`, or pass the --data-dir it was started with.");
            return 2;
        }
        var answers = ClusterStatus.ask(Topology.read(file));
        System.out.print(ClusterStatus.render(answers));
        return answers.values().stream().allMatch(Optional::isPresent) ? 0 : 1;
    }
}
