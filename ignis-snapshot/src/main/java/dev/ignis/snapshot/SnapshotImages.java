package dev.ignis.snapshot;

import dev.ignis.chunk.ChunkStore;
import dev.ignis.chunk.ChunkedObjectReader;
import dev.ignis.chunk.IngestReport;
import dev.ignis.chunk.Layer;
import dev.ignis.chunk.Manifest;
import dev.ignis.chunk.ManifestId;
import dev.ignis.chunk.Owner;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A sandbox's checkpoint image (a directory of files, as {@code runsc checkpoint} or a VM's memory and
 * device-state files leave it) stored on the chunk store and brought back for a restore — the talk's
 * snapshot distribution: 512 KiB chunks, encrypted, deduplicated against the runtime's layer, cached
 * local → distributed → origin.
 *
 * <p>Each file is one chunked object of the snapshot's layer and owner, ingested on top of the given
 * bases (so a function snapshot stores only the chunks that differ from its runtime's); the list of files
 * is itself a chunked object of the same layer and owner — the <em>index</em>, whose manifest names the
 * snapshot. Nothing here is trusted that the chunk store has not authenticated: manifests carry the
 * deployment's MAC, chunks are checked against their names and their AEAD tags.
 */
public final class SnapshotImages {
    private static final String MAGIC = "IGNIS-SNAPSHOT-1";
    /** File names an image may hold: plain names, no paths. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final int COPY = 1 << 20;

    private final ChunkStore chunks;

    public SnapshotImages(ChunkStore chunks) {
        this.chunks = chunks;
    }

    /** One file of a stored image. */
    public record ImageFile(String name, long size, ManifestId manifest) {}

    /** What {@link #store} kept: the snapshot's id, its files, and how much was new. */
    public record Stored(SnapshotId id, List<ImageFile> files, long bytes, int chunks, int newChunks, int baseChunks,
                         int dedupedChunks, int zeroChunks, long uploadedBytes) {
        /** Chunks referenced per chunk stored anew (∞ shown as the chunk count when nothing was new). */
        public double dedupRatio() {
            return chunks / (double) Math.max(1, newChunks);
        }
    }

    /**
     * Stores every regular file directly under {@code imageDir} as a {@code layer} object of {@code owner},
     * chunks equal to a chunk of {@code bases} taken from them.
     *
     * @throws IllegalArgumentException when the directory holds anything but plain regular files
     */
    public Stored store(Path imageDir, Layer layer, Owner owner, List<ManifestId> bases) throws IOException {
        final List<Path> files = imageFiles(imageDir);
        final List<ImageFile> stored = new ArrayList<>();
        long bytes = 0;
        int total = 0, fresh = 0, base = 0, deduped = 0, zero = 0;
        long uploaded = 0;
        for (Path file : files) {
            final IngestReport r = chunks.ingestWithReport(file, layer, owner, bases);
            final long size = Files.size(file);
            stored.add(new ImageFile(file.getFileName().toString(), size, r.manifestId()));
            bytes += size;
            total += r.chunks();
            fresh += r.newChunks();
            base += r.baseChunks();
            deduped += r.dedupedChunks();
            zero += r.zeroChunks();
            uploaded += r.uploadedBytes();
        }
        final StringBuilder index = new StringBuilder(MAGIC).append('\n');
        for (ImageFile f : stored) {
            index.append(f.name()).append(' ').append(f.size()).append(' ').append(f.manifest().hex()).append('\n');
        }
        final Path indexFile = Files.createTempFile(".snapshot-index", ".txt");
        try {
            Files.writeString(indexFile, index, StandardCharsets.UTF_8);
            final ManifestId id = chunks.ingest(indexFile, layer, owner);
            return new Stored(new SnapshotId(id), List.copyOf(stored), bytes, total, fresh, base, deduped, zero, uploaded);
        } finally {
            Files.deleteIfExists(indexFile);
        }
    }

    /** The files of a stored snapshot, after checking that it belongs to {@code owner}. */
    public List<ImageFile> files(SnapshotId id, Owner owner) {
        final Manifest manifest = chunks.manifest(id.index());
        requireOwner(id, manifest, owner);
        final String text;
        try (ChunkedObjectReader reader = chunks.open(id.index(), false)) {
            text = new String(readAll(reader), StandardCharsets.UTF_8);
        }
        final String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].equals(MAGIC)) {
            throw new IllegalArgumentException("snapshot " + id + " has no snapshot index (is it a snapshot id?)");
        }
        final List<ImageFile> files = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            final String[] parts = lines[i].split(" ");
            if (parts.length != 3 || !NAME.matcher(parts[0]).matches()) {
                throw new IllegalArgumentException("snapshot " + id + ": malformed index line " + i);
            }
            files.add(new ImageFile(parts[0], Long.parseLong(parts[1]), new ManifestId(parts[2])));
        }
        return files;
    }

    /**
     * Writes the snapshot's files into {@code target} (which must not exist yet; created 0700, files 0600),
     * every chunk pulled through the tiers and authenticated. On any failure the partial target is removed.
     *
     * @return the bytes written
     */
    public long materialize(SnapshotId id, Owner owner, Path target) throws IOException {
        final List<ImageFile> files = files(id, owner);
        Files.createDirectory(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        long written = 0;
        try {
            for (ImageFile f : files) {
                final Manifest manifest = chunks.manifest(f.manifest());
                requireOwner(id, manifest, owner);
                if (manifest.size() != f.size()) {
                    throw new IllegalStateException("snapshot " + id + ": " + f.name() + " is " + manifest.size()
                            + " bytes, the index says " + f.size());
                }
                try (ChunkedObjectReader reader = chunks.open(f.manifest(), false);
                        OutputStream out = Files.newOutputStream(Files.createFile(target.resolve(f.name()),
                                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                                StandardOpenOption.WRITE)) {
                    final byte[] buf = new byte[COPY];
                    long position = 0;
                    while (position < f.size()) {
                        final int n = reader.read(position, buf, 0, (int) Math.min(buf.length, f.size() - position));
                        if (n <= 0) {
                            throw new IOException(f.name() + " ended at " + position + " of " + f.size());
                        }
                        out.write(buf, 0, n);
                        position += n;
                    }
                    written += position;
                }
            }
            return written;
        } catch (IOException | RuntimeException e) {
            deleteTree(target);
            throw e;
        }
    }

    private static void requireOwner(SnapshotId id, Manifest manifest, Owner owner) {
        if (!manifest.owner().equals(owner)) {
            throw new IllegalArgumentException("snapshot " + id + " does not belong to " + owner.account() + "/" + owner.function());
        }
    }

    private static List<Path> imageFiles(Path imageDir) throws IOException {
        final List<Path> files = new ArrayList<>();
        try (Stream<Path> entries = Files.list(imageDir)) {
            for (Path p : entries.sorted().toList()) {
                final String name = p.getFileName().toString();
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || !NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException("a snapshot image holds plain regular files only, not " + name);
                }
                files.add(p);
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("snapshot image " + imageDir + " is empty");
        }
        return files;
    }

    private static byte[] readAll(ChunkedObjectReader reader) {
        final byte[] all = new byte[Math.toIntExact(reader.size())];
        int position = 0;
        while (position < all.length) {
            position += reader.read(position, all, position, all.length - position);
        }
        return all;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
