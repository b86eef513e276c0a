package dev.ignis.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The permission policy of one layer version (AddLayerVersionPermission): statements granting
 * {@code lambda:GetLayerVersion} to an account or to everyone ({@code *}), and a revision id that
 * changes on every change. Granting lets the account read the version and use it in its functions.
 */
public record LayerPolicy(String revisionId, List<Statement> statements) {

    public LayerPolicy {
        statements = List.copyOf(statements);
    }

    /** One statement: the principal is an account id or {@code *}. */
    public record Statement(String sid, String principal, String action, String resource) {
        public boolean grants(String account) {
            return principal.equals("*") || principal.equals(account);
        }

        /** As Lambda renders it ({@code Principal} an account's root ARN, or {@code "*"}). */
        public Map<String, Object> document() {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("Sid", sid);
            s.put("Effect", "Allow");
            s.put("Principal", principal.equals("*") ? "*" : Map.of("AWS", "arn:aws:iam::" + principal + ":root"));
            s.put("Action", action);
            s.put("Resource", resource);
            return s;
        }
    }

    public Statement statement(String sid) {
        return statements.stream().filter(s -> s.sid().equals(sid)).findFirst().orElse(null);
    }

    public Map<String, Object> document() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("Version", "2012-10-17");
        d.put("Id", "default");
        d.put("Statement", statements.stream().map(Statement::document).toList());
        return d;
    }
}
