package dev.ignis.chunk;

import java.util.regex.Pattern;

/** A manifest's name: the lowercase hex SHA-256 of its authenticated encoding. */
public record ManifestId(String hex) {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public ManifestId {
        if (hex == null || !HEX64.matcher(hex).matches()) {
            throw new IllegalArgumentException("not a manifest id (64 lowercase hex digits): " + hex);
        }
    }

    @Override
    public String toString() {
        return hex;
    }
}
