package dev.ignis.config;

import java.util.Map;

/**
 * A named pointer to a version, optionally splitting traffic with one additional version
 * ({@code RoutingConfig.AdditionalVersionWeights}).
 */
public record Alias(String name, String functionVersion, String description,
                    Map<String, Double> additionalVersionWeights, String revisionId) {
    public Alias {
        additionalVersionWeights = additionalVersionWeights == null ? Map.of() : Map.copyOf(additionalVersionWeights);
    }
}
