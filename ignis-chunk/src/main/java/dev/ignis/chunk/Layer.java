package dev.ignis.chunk;

/**
 * The layer an object is ingested as. The layer decides how its chunks are keyed:
 * {@code OS} and {@code RUNTIME} layers use convergent encryption so that equal plaintext chunks
 * dedupe across functions and accounts; {@code FUNCTION} layers use a per-function data key wrapped
 * by the owning account's key, so customer code never dedupes across tenants.
 */
public enum Layer {
    /** Operating-system image shared by many functions. */
    OS,
    /** Language runtime shared by many functions. */
    RUNTIME,
    /** Tenant code and data: never shared, never deduplicated across owners. */
    FUNCTION;

    /** True when chunks of this layer are convergently encrypted (and so dedupe). */
    public boolean convergent() {
        return this != FUNCTION;
    }

    /** Parses {@code os|runtime|function} (case-insensitive) with a clear error otherwise. */
    public static Layer parse(String text) {
        for (Layer l : values()) {
            if (l.name().equalsIgnoreCase(text)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown layer '" + text + "': use os, runtime or function");
    }
}
