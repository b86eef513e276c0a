package dev.ignis.dist;

import dev.ignis.config.FunctionName;
import dev.ignis.worker.logs.LogFiles;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `ignis logs FUNCTION [--follow]`: a function's START/END/REPORT-framed logs. */
@Command(name = "logs", description = "Print (or follow) a function's logs.")
final class LogsCommand implements Callable<Integer> {
    @Mixin DataDirOption dataDir;
    @Parameters(paramLabel = "FUNCTION", description = "Function name or ARN") String function;
    @Option(names = "--account", description = "Account id or name (default: the 'default' account)") String account = "default";
    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines") boolean follow;
    @Option(names = {"-n", "--lines"}, description = "How many lines to show first (default 100)") int lines = 100;

    @Override
    public Integer call() throws Exception {
        String accountId = account.matches("\\d{12}") ? account : accountIdOf(account);
        var fn = FunctionName.parse(function, accountId);
        Consumer<String> print = printer(System.console() != null && System.console().isTerminal());
        LogFiles.tail(dataDir.get().resolve("worker"), accountId, fn.name(), lines).forEach(print);
        if (follow) {
            LogFiles.follow(dataDir.get().resolve("worker"), accountId, fn.name(), print, () -> false, java.time.Duration.ofMillis(250));
        }
        return 0;
    }

    /**
     * Prints lines as they are, or, on a terminal, with their control characters escaped
     * ({@link LogFiles#printable}): the lines are a tenant's output, and ESC sequences in them would act on the
     * operator's terminal. Piped to a file or a program they stay byte for byte (as Lambda's Tail does).
     */
    static Consumer<String> printer(boolean terminal) {
        return terminal ? line -> System.out.println(LogFiles.printable(line)) : System.out::println;
    }

    private String accountIdOf(String name) throws Exception {
        for (var a : AdminCommands.call(dataDir.get(), "account-list", "")) {
            if (a.get("name").asText().equals(name)) {
                return a.get("accountId").asText();
            }
        }
        throw new IllegalArgumentException("no account named " + name);
    }
}
