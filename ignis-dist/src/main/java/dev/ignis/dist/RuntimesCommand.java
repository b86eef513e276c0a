package dev.ignis.dist;

import dev.ignis.runtimes.RuntimeCatalog;
import java.util.Comparator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** `ignis runtimes`: which runtime ids this host serves, and with what. */
@Command(name = "runtimes", description = "List the runtimes this host serves and what serves each.")
final class RuntimesCommand implements Callable<Integer> {
    @Mixin DataDirOption dataDir;

    @Override
    public Integer call() {
        var catalog = RuntimeCatalog.install(dataDir.get());
        catalog.all().stream().sorted(Comparator.comparing(r -> r.id()))
                .forEach(r -> System.out.printf("%-16s %s%n", r.id(), r.servedBy()));
        return 0;
    }
}
