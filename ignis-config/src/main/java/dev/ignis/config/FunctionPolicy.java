package dev.ignis.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resource-based policy of a function, or of one of its versions or aliases: its statements
 * in the order they were added, and a revision id that changes on every change (AddPermission and
 * RemovePermission take it as a precondition, GetPolicy returns it).
 */
public record FunctionPolicy(String revisionId, List<PolicyStatement> statements) {

    public FunctionPolicy {
        statements = List.copyOf(statements);
    }

    public PolicyStatement statement(String sid) {
        return statements.stream().filter(s -> s.sid().equals(sid)).findFirst().orElse(null);
    }

    /** The policy document as Lambda returns it (GetPolicy serializes it into a string). */
    public Map<String, Object> document() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("Version", "2012-10-17");
        d.put("Id", "default");
        d.put("Statement", statements.stream().map(PolicyStatement::document).toList());
        return d;
    }
}
