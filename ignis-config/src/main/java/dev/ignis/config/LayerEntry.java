package dev.ignis.config;

import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A layer's versions, and the highest number it ever published: numbers are never reused, even
 * after every version is deleted (as in Lambda).
 */
public record LayerEntry(NavigableMap<Long, LayerVersion> versions, long lastVersion) {
    public LayerEntry {
        versions = java.util.Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
    }
}
