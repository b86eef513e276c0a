package dev.ignis.config;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/** Everything known about one function: $LATEST, its published versions, aliases and reserved concurrency. */
public record FunctionEntry(FunctionConfig latest,
                            NavigableMap<Long, FunctionConfig> versions,
                            Map<String, Alias> aliases,
                            Integer reservedConcurrency,
                            long lastPublished) {

    public FunctionEntry {
        versions = java.util.Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
        aliases = Map.copyOf(aliases);
    }

    static FunctionEntry of(FunctionConfig latest) {
        return new FunctionEntry(latest, new TreeMap<>(), Map.of(), null, 0);
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
