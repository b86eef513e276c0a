package dev.ignis.chunk;

import dev.ignis.chunk.crypto.ConvergentCipher;
import dev.ignis.chunk.crypto.Hashes;
import dev.ignis.chunk.crypto.DeploymentKeys;
import dev.ignis.chunk.crypto.FunctionKey;
import dev.ignis.chunk.gc.IngestLeases;
import dev.ignis.chunk.origin.LocalDirectoryOrigin;
import dev.ignis.chunk.origin.Origin;
import dev.ignis.chunk.tier.ChunkSource;
import dev.ignis.chunk.tier.DiskTier;
import dev.ignis.chunk.tier.MemcachedTier;
import dev.ignis.chunk.tier.MemoryTier;
import dev.ignis.chunk.tier.OriginTier;
import dev.ignis.chunk.tier.TieredChunkSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The chunk store facade: ingest a file as a layer, open a manifest for random-access reads through
 * the tiers (memory → disk → memcached → origin), stat a manifest, collect garbage.
 *
 * <p>Thread-safe. One instance per worker; ingest and GC should run against the same instance (see
 * {@link IngestLeases}) — across processes only the grace period protects fresh chunks.
 */
public final class ChunkStore implements AutoCloseable {
    private static final String MANIFESTS = "manifests/";
    private static final String LOG_SUFFIX = ".pal";

    private final ChunkStoreConfig config;
    private final Origin origin;
    private final DeploymentKeys keys;
    private final ManifestCodec codec;
    private final ConvergentCipher convergent;
    private final TieredChunkSource tiers;
    private final IngestLeases leases = new IngestLeases();

    public ChunkStore(ChunkStoreConfig config, Origin origin, DeploymentKeys keys, MeterRegistry registry) {
        this.config = config;
        this.origin = origin;
        this.keys = keys;
        this.codec = new ManifestCodec(keys.manifestMac());
        this.convergent = new ConvergentCipher(keys.convergentSalt());
        List<ChunkSource> stack = new ArrayList<>();
        stack.add(new MemoryTier(config.memoryBytes()));
        stack.add(new DiskTier(config.diskDir(), config.diskBytes()));
        if (!config.memcachedServers().isEmpty()) {
            stack.add(new MemcachedTier(config.memcachedServers(), (int) config.memcachedTimeout().toMillis()));
        }
        stack.add(new OriginTier(origin));
        this.tiers = new TieredChunkSource(stack, registry);
    }

    /**
     * An embedded store under {@code root}: origin in {@code root/origin}, disk tier in
     * {@code root/cache}, deployment secret in {@code root/keys/deployment.key}.
     */
    public static ChunkStore embedded(Path root) throws IOException {
        return new ChunkStore(ChunkStoreConfig.defaults(root.resolve("cache")), new LocalDirectoryOrigin(root.resolve("origin")),
                DeploymentKeys.loadOrCreate(root.resolve("keys").resolve("deployment.key")), new SimpleMeterRegistry());
    }

    /** Ingests {@code file} as a layer; returns the new manifest's id. */
    public ManifestId ingest(Path file, Layer layer, Owner owner) throws IOException {
        return ingestWithReport(file, layer, owner).manifestId();
    }

    /** Ingests {@code file} as a layer and reports what was uploaded and what deduplicated. */
    public IngestReport ingestWithReport(Path file, Layer layer, Owner owner) throws IOException {
        return ingestWithReport(file, layer, owner, List.of());
    }

    /**
     * Ingests {@code file} as a layer on top of shared base layers (the talk's snapshot layers: OS, runtime,
     * function). A chunk whose plaintext equals a chunk of one of {@code bases} is recorded as that base
     * chunk — same convergent ciphertext, same key material, nothing uploaded — so a function snapshot
     * stores only what differs from its runtime's. Every other chunk is sealed as {@code layer} says (for a
     * function layer: under the function's own data key). Bases must be convergent (os/runtime) layers:
     * a function layer's chunks are never shared, so a tenant's bytes never become another's base.
     */
    public IngestReport ingestWithReport(Path file, Layer layer, Owner owner, List<ManifestId> bases) throws IOException {
        final Map<String, ChunkRef> baseChunks = baseChunksByPlaintextHash(bases);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("not a regular file: " + file);
        }
        if (layer == Layer.FUNCTION && owner.equals(Owner.SHARED)) {
            throw new IllegalArgumentException("a function layer needs its owning account and function (use Owner.ofArn)");
        }
        int cs = config.chunkSize();
        long size = Files.size(file);
        FunctionKey functionKey = null;
        try {
            if (layer == Layer.FUNCTION) {
                functionKey = FunctionKey.generate(keys.accountKek(owner.account()), owner.bindingBytes());
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a data key for " + owner, e);
        }
        List<ChunkRef> refs = new ArrayList<>();
        Set<ChunkId> seen = new HashSet<>();
        int zero = 0;
        int fresh = 0;
        int deduped = 0;
        int fromBase = 0;
        long uploaded = 0;
        byte[] buf = new byte[cs];
        try (IngestLeases.Lease lease = leases.open(); InputStream in = Files.newInputStream(file)) {
            long remaining = size;
            int index = 0;
            while (remaining > 0) {
                int len = (int) Math.min(cs, remaining);
                if (in.readNBytes(buf, 0, len) != len) {
                    throw new IOException(file + " shrank while being ingested");
                }
                remaining -= len;
                if (isZero(buf, len)) {
                    refs.add(ChunkRef.zero(len));
                    zero++;
                    index++;
                    continue;
                }
                if (!baseChunks.isEmpty()) {
                    ChunkRef base = baseChunks.get(HexFormat.of().formatHex(Hashes.sha256(buf, 0, len)));
                    if (base != null && base.plainLength() == len) {
                        lease.protect(base.id());
                        refs.add(base);
                        fromBase++;
                        index++;
                        continue;
                    }
                }
                byte[] ciphertext;
                byte[] keyMaterial;
                ChunkId id;
                try {
                    if (functionKey != null) {
                        ciphertext = functionKey.seal(buf, 0, len, index);
                        id = ChunkId.ofCiphertext(ciphertext);
                        keyMaterial = new byte[0];
                    } else {
                        ConvergentCipher.Sealed s = convergent.seal(buf, 0, len);
                        ciphertext = s.ciphertext();
                        id = ChunkId.ofCiphertext(ciphertext);
                        keyMaterial = keys.sharedKek().encrypt(s.plaintextHash(), id.bytes());
                    }
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("chunk encryption failed", e);
                }
                // protect before the existence check, so GC cannot remove a chunk we decide not to upload
                lease.protect(id);
                if (seen.add(id) && !origin.exists(OriginTier.key(id))) {
                    origin.put(OriginTier.key(id), ciphertext);
                    fresh++;
                    uploaded += ciphertext.length;
                } else {
                    deduped++;
                }
                refs.add(new ChunkRef(id, len, keyMaterial));
                index++;
            }
            Manifest m = new Manifest(layer, owner, size, cs, functionKey == null ? new byte[0] : functionKey.wrapped(), refs);
            byte[] encoded = codec.encode(m);
            ManifestId id = ManifestCodec.idOf(encoded);
            origin.put(MANIFESTS + id.hex(), encoded);
            return new IngestReport(id, refs.size(), zero, fresh, deduped, fromBase, uploaded);
        }
    }

    /** Each non-zero chunk of the base manifests by the SHA-256 of its plaintext (unwrapped from its key material). */
    private Map<String, ChunkRef> baseChunksByPlaintextHash(List<ManifestId> bases) {
        final Map<String, ChunkRef> byHash = new HashMap<>();
        for (ManifestId baseId : bases) {
            final Manifest base = manifest(baseId);
            if (!base.layer().convergent()) {
                throw new IllegalArgumentException("base " + baseId + " is a " + base.layer()
                        + " layer: only os and runtime layers can be shared as a base");
            }
            for (ChunkRef ref : base.chunks()) {
                if (ref.isZero()) {
                    continue;
                }
                try {
                    byHash.putIfAbsent(HexFormat.of().formatHex(keys.sharedKek().decrypt(ref.keyMaterial(), ref.id().bytes())), ref);
                } catch (GeneralSecurityException e) {
                    throw new ChunkIntegrityException("base " + baseId + ": key material of chunk " + ref.id()
                            + " failed authentication", e);
                }
            }
        }
        return byHash;
    }

    private static boolean isZero(byte[] b, int len) {
        for (int i = 0; i < len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Reads and authenticates a manifest. */
    public Manifest manifest(ManifestId id) {
        byte[] encoded = origin.get(MANIFESTS + id.hex())
                .orElseThrow(() -> new IllegalArgumentException("no manifest " + id));
        return codec.decode(id, encoded);
    }

    /** Opens a reader, prefetching in the background when a page access log exists. */
    public ChunkedObjectReader open(ManifestId id) {
        return open(id, true);
    }

    /** Opens a reader for one consumer; {@code prefetch=false} loads purely on demand. */
    public ChunkedObjectReader open(ManifestId id, boolean prefetch) {
        Manifest m = manifest(id);
        ChunkedObjectReader reader = new ChunkedObjectReader(id, m, tiers, new ChunkDecryptor(m, keys),
                config.plaintextCacheBytes(), log -> saveAccessLogIfAbsent(id, log));
        if (prefetch) {
            accessLog(id).ifPresent(log -> reader.prefetch(log, config.prefetchParallelism()));
        }
        return reader;
    }

    /** The page access log stored beside a manifest, if any (authenticated). */
    public Optional<PageAccessLog> accessLog(ManifestId id) {
        Optional<byte[]> stored = origin.get(MANIFESTS + id.hex() + LOG_SUFFIX);
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        byte[] all = stored.get();
        if (all.length < 32) {
            throw new ChunkIntegrityException("page access log of " + id + " is truncated");
        }
        byte[] body = Arrays.copyOf(all, all.length - 32);
        try {
            keys.manifestMac().verifyMac(Arrays.copyOfRange(all, all.length - 32, all.length), concat(id, body));
        } catch (GeneralSecurityException e) {
            throw new ChunkIntegrityException("page access log of " + id + " failed authentication", e);
        }
        return Optional.of(PageAccessLog.decode(body, manifest(id).chunks().size()));
    }

    private void saveAccessLogIfAbsent(ManifestId id, PageAccessLog log) {
        String key = MANIFESTS + id.hex() + LOG_SUFFIX;
        if (log.chunkOrder().isEmpty() || origin.exists(key) || !origin.exists(MANIFESTS + id.hex())) {
            return;
        }
        byte[] body = log.encode();
        try {
            byte[] tag = keys.manifestMac().computeMac(concat(id, body));
            byte[] all = Arrays.copyOf(body, body.length + tag.length);
            System.arraycopy(tag, 0, all, body.length, tag.length);
            origin.put(key, all);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot authenticate page access log", e);
        }
    }

    private static byte[] concat(ManifestId id, byte[] body) {
        byte[] idb = id.hex().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(idb, idb.length + body.length);
        System.arraycopy(body, 0, all, idb.length, body.length);
        return all;
    }

    /** Summary of a manifest. */
    public ManifestStat stat(ManifestId id) {
        Manifest m = manifest(id);
        Set<ChunkId> distinct = new HashSet<>();
        int zero = 0;
        for (ChunkRef r : m.chunks()) {
            if (r.isZero()) {
                zero++;
            } else {
                distinct.add(r.id());
            }
        }
        return new ManifestStat(id, m.layer(), m.owner(), m.size(), m.chunkSize(), m.chunks().size(), zero,
                distinct.size(), origin.exists(MANIFESTS + id.hex() + LOG_SUFFIX));
    }

    /** All manifest ids in the origin. */
    public List<ManifestId> manifests() {
        List<ManifestId> out = new ArrayList<>();
        for (Origin.Entry e : origin.list(MANIFESTS)) {
            String name = e.key().substring(MANIFESTS.length());
            if (!name.endsWith(LOG_SUFFIX)) {
                out.add(new ManifestId(name));
            }
        }
        return out;
    }

    /** Mark from the manifests, sweep unreachable chunks; see {@link IngestLeases} for concurrency. */
    public GcReport gc() {
        return new GarbageCollector(origin, tiers, leases, codec, config.gcGrace()).run();
    }

    /** The tier stack (metrics, tests). */
    public TieredChunkSource tiers() {
        return tiers;
    }

    public Origin origin() {
        return origin;
    }

    @Override
    public void close() {
        tiers.close();
    }
}
