package dev.ignis.dist;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `ignis` command. */
@Command(name = "ignis", mixinStandardHelpOptions = true, version = "Ignis 0.1.0",
        description = "Self-hosted serverless compute: AWS Lambda's API and runtimes on your own machines.",
        subcommands = {ServeCommand.class, AdminCommands.AccountCommand.class, AdminCommands.KeysCommand.class, AdminCommands.EventsCommand.class,
                RuntimesCommand.class, LogsCommand.class, BenchCommand.class, JmhCommand.class, ChunksCommand.class, ClusterCommand.class, SimulateCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
