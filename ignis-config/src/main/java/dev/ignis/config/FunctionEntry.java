package dev.ignis.config;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Everything known about one function: $LATEST, its published versions, aliases, reserved
 * concurrency, tags (which belong to the function, not to a version, as in Lambda) and resource
 * policies, keyed by qualifier ({@link #UNQUALIFIED} for the function's own ARN; a version or an
 * alias has its own, as in Lambda), and function URLs keyed the same way (one for the function,
 * one per alias or {@code $LATEST}).
 */
public record FunctionEntry(FunctionConfig latest,
                            NavigableMap<Long, FunctionConfig> versions,
                            Map<String, Alias> aliases,
                            Integer reservedConcurrency,
                            long lastPublished,
                            Map<String, String> tags,
                            Map<String, FunctionPolicy> policies,
                            Map<String, FunctionUrl> urls) {
    /** The policies key of the unqualified function ARN's policy. */
    public static final String UNQUALIFIED = "";

    public FunctionEntry {
        versions = java.util.Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
        aliases = Map.copyOf(aliases);
        tags = tags == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(tags)); // null: a snapshot from before tags
        policies = policies == null ? Map.of() : Map.copyOf(policies); // null: a snapshot from before policies
        urls = urls == null ? Map.of() : Map.copyOf(urls); // null: a snapshot from before function URLs
    }

    static FunctionEntry of(FunctionConfig latest) {
        return new FunctionEntry(latest, new TreeMap<>(), Map.of(), null, 0, Map.of(), Map.of(), Map.of());
    }

    /** The policy of the function (qualifier null) or of a version or alias; null when it has none. */
    public FunctionPolicy policy(String qualifier) {
        return policies.get(qualifier == null ? UNQUALIFIED : qualifier);
    }

    /** The function URL of the function (qualifier null) or of an alias or $LATEST; null when it has none. */
    public FunctionUrl url(String qualifier) {
        return urls.get(qualifier == null ? UNQUALIFIED : qualifier);
    }

    /**
     * Resolves a qualifier as the control plane reads it: none or "$LATEST", a version number, or an
     * alias (to its primary version). Null when there is no such version or alias.
     */
    public FunctionConfig resolve(String qualifier) {
        FunctionConfig c = version(qualifier);
        Alias alias = c == null ? aliases.get(qualifier) : null;
        return alias == null ? c : version(alias.functionVersion());
    }

    /** Resolves "$LATEST" or a version number; null when absent. */
    public FunctionConfig version(String qualifier) {
        if (qualifier == null || FunctionConfig.LATEST.equals(qualifier)) {
            return latest;
        }
        try {
            return versions.get(Long.parseLong(qualifier));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
