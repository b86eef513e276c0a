package dev.ignis.snapshot;

import dev.ignis.chunk.ManifestId;

/** A stored snapshot image: the chunk-store manifest of its index (which lists the image's files). */
public record SnapshotId(ManifestId index) {
    public SnapshotId {
        if (index == null) {
            throw new IllegalArgumentException("a snapshot id needs its index manifest");
        }
    }

    public static SnapshotId parse(String hex) {
        return new SnapshotId(new ManifestId(hex));
    }

    @Override
    public String toString() {
        return index.hex();
    }
}
