package dev.ignis.dist;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import dev.ignis.runtimes.RuntimeCatalog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** `ignis account ...` and `ignis keys ...`. */
final class AdminCommands {
    private AdminCommands() {}

    /**
     * Runs an admin operation on the running server of the data directory if there is one,
     * otherwise directly on the data directory, and prints the result as JSON.
     */
    static int execute(Path data, String op, String arg) throws Exception {
        try {
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(call(data, op, arg)));
            return 0;
        } catch (LambdaException e) {
            System.err.println("ignis: " + e.getMessage());
            return 1;
        }
    }

    /** The operation's result as JSON; a refusal is thrown as the server's (or the store's) error. */
    static JsonNode call(Path data, String op, String arg) throws Exception {
        Path serverFile = data.resolve("server.json");
        JsonNode server = Files.exists(serverFile) ? Json.mapper().readTree(serverFile.toFile()) : null;
        if (server != null && DataDirLock.held(data)) {
            String token = Files.readString(data.resolve("admin.token")).trim();
            var request = HttpRequest.newBuilder(URI.create("http://" + server.get("host").asText() + ":" + server.get("port").asInt()
                            + "/ignis-admin/" + op))
                    .header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(Map.of("arg", arg))))
                    .build();
            try (var http = HttpClient.newHttpClient()) {
                var response = http.send(request, HttpResponse.BodyHandlers.ofString());
                JsonNode body = Json.mapper().readTree(response.body());
                if (response.statusCode() != 200) {
                    throw new LambdaException(response.statusCode(), response.headers().firstValue("x-amzn-ErrorType").orElse("Error"),
                            body.path(body.has("Message") ? "Message" : "message").asText(response.body()));
                }
                return body;
            }
        }
        try (var config = Platform.openConfig(data, RuntimeCatalog.knownAwsRuntimeIds());
             var events = Platform.openEvents(data)) {
            return Json.mapper().valueToTree(Admin.run(config, events, op, arg));
        }
    }

    /** One admin operation as a subcommand: the data directory option, an operation name, an optional argument. */
    abstract static class AdminCall implements Callable<Integer> {
        @Mixin DataDirOption dataDir;
        private final String op;

        AdminCall(String op) {
            this.op = op;
        }

        String arg() {
            return "";
        }

        @Override
        public Integer call() throws Exception {
            return execute(dataDir.get(), op, arg());
        }
    }

    @Command(name = "account", description = "Manage accounts (tenants).", subcommands = {AccountCommand.Create.class,
            AccountCommand.ListCmd.class, AccountCommand.Delete.class})
    static final class AccountCommand {
        @Command(name = "create", description = "Create an account; prints its id and first access key.")
        static final class Create extends AdminCall {
            @Parameters(paramLabel = "NAME") String name;

            Create() {
                super("account-create");
            }

            @Override
            String arg() {
                return name;
            }
        }

        @Command(name = "list", description = "List accounts and their access key ids.")
        static final class ListCmd extends AdminCall {
            ListCmd() {
                super("account-list");
            }
        }

        @Command(name = "delete", description = "Delete an account with its keys and functions.")
        static final class Delete extends AdminCall {
            @Parameters(paramLabel = "NAME_OR_ID") String name;

            Delete() {
                super("account-delete");
            }

            @Override
            String arg() {
                return name;
            }
        }
    }

    @Command(name = "events", description = "Asynchronous invocations: queue, dead letters, redrive.",
            subcommands = {EventsCommand.ListCmd.class, EventsCommand.Show.class, EventsCommand.Redrive.class, EventsCommand.Stats.class})
    static final class EventsCommand {
        @Command(name = "list", description = "Pending and dead-lettered events.")
        static final class ListCmd extends AdminCall {
            ListCmd() {
                super("events-list");
            }
        }

        @Command(name = "show", description = "One event with its payload and last error.")
        static final class Show extends AdminCall {
            @Parameters(paramLabel = "REQUEST_ID") String id;

            Show() {
                super("events-show");
            }

            @Override
            String arg() {
                return id;
            }
        }

        @Command(name = "redrive", description = "Put a dead-lettered event back on the queue with fresh retries.")
        static final class Redrive extends AdminCall {
            @Parameters(paramLabel = "REQUEST_ID") String id;

            Redrive() {
                super("events-redrive");
            }

            @Override
            String arg() {
                return id;
            }
        }

        @Command(name = "stats", description = "Queue depth, oldest event age, retries, dead letters.")
        static final class Stats extends AdminCall {
            Stats() {
                super("events-stats");
            }
        }
    }

    @Command(name = "keys", description = "Manage access keys.", subcommands = {KeysCommand.Create.class, KeysCommand.Rotate.class,
            KeysCommand.Revoke.class})
    static final class KeysCommand {
        @Command(name = "create", description = "Issue another access key for an account.")
        static final class Create extends AdminCall {
            @Parameters(paramLabel = "ACCOUNT") String account;

            Create() {
                super("key-create");
            }

            @Override
            String arg() {
                return account;
            }
        }

        @Command(name = "rotate", description = "Issue a new key for the same account and revoke this one.")
        static final class Rotate extends AdminCall {
            @Parameters(paramLabel = "ACCESS_KEY_ID") String key;

            Rotate() {
                super("key-rotate");
            }

            @Override
            String arg() {
                return key;
            }
        }

        @Command(name = "revoke", description = "Revoke an access key.")
        static final class Revoke extends AdminCall {
            @Parameters(paramLabel = "ACCESS_KEY_ID") String key;

            Revoke() {
                super("key-revoke");
            }

            @Override
            String arg() {
                return key;
            }
        }
    }
}
