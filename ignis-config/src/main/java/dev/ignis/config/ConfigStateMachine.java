package dev.ignis.config;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ignis.common.Json;
import dev.ignis.journal.JournalStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Applies journal records to the configuration image. The image is swapped atomically after each
 * record, so readers never see a half-applied change.
 */
final class ConfigStateMachine implements JournalStateMachine {
    private volatile ConfigImage image = ConfigImage.EMPTY;
    private final List<Consumer<ConfigImage>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<ConfigStore.RecordSink> sinks = new java.util.concurrent.CopyOnWriteArrayList<>();

    ConfigImage image() {
        return image;
    }

    void onChange(Consumer<ConfigImage> listener) {
        listeners.add(listener);
    }

    /**
     * Hands the sink a snapshot of the current image, then every record applied after it, in order;
     * atomic with respect to {@link #apply}, so the sink misses nothing and sees nothing twice.
     */
    synchronized Runnable watch(ConfigStore.RecordSink sink) {
        sink.snapshot(image.appliedIndex(), takeSnapshot());
        sinks.add(sink);
        return () -> sinks.remove(sink);
    }

    @Override
    public synchronized void apply(long index, byte[] record) {
        ConfigRecord r;
        try {
            r = Json.mapper().readValue(record, ConfigRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("undecodable config record at index " + index, e);
        }
        image = image.replay(index, r);
        listeners.forEach(l -> l.accept(image));
        for (ConfigStore.RecordSink sink : sinks) {
            sink.record(index, record);
        }
    }

    /** The snapshot form of an image: JSON maps cannot have record keys, so functions are a list. */
    record Snapshot(long appliedIndex, List<Account> accounts, List<AccessKey> keys, List<SnapshotFunction> functions,
                    List<SnapshotLayer> layers) {}

    /** A layer's versions and highest number; {@code layers} is null in a snapshot from before layers. */
    record SnapshotLayer(LayerKey layer, List<LayerVersion> versions, long lastVersion) {}

    record SnapshotFunction(FunctionConfig latest, List<FunctionConfig> versions, List<Alias> aliases,
                            Integer reservedConcurrency, long lastPublished, Map<String, String> tags,
                            Map<String, FunctionPolicy> policies, Map<String, FunctionUrl> urls) {}

    @Override
    public byte[] takeSnapshot() {
        ConfigImage i = image;
        var functions = i.functions().values().stream().map(f -> new SnapshotFunction(f.latest(),
                List.copyOf(f.versions().values()), List.copyOf(f.aliases().values()), f.reservedConcurrency(), f.lastPublished(), f.tags(), f.policies(), f.urls())).toList();
        var layers = i.layers().entrySet().stream().map(e -> new SnapshotLayer(e.getKey(), List.copyOf(e.getValue().versions().values()),
                e.getValue().lastVersion())).toList();
        try {
            return Json.mapper().writeValueAsBytes(new Snapshot(i.appliedIndex(), List.copyOf(i.accounts().values()),
                    List.copyOf(i.keys().values()), functions, layers));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void restoreSnapshot(byte[] snapshot) {
        try {
            Snapshot s = Json.mapper().readValue(snapshot, new TypeReference<>() {});
            Map<String, Account> accounts = new HashMap<>();
            s.accounts().forEach(a -> accounts.put(a.accountId(), a));
            Map<String, AccessKey> keys = new HashMap<>();
            s.keys().forEach(k -> keys.put(k.accessKeyId(), k));
            Map<FunctionKey, FunctionEntry> functions = new HashMap<>();
            for (SnapshotFunction f : s.functions()) {
                var versions = new TreeMap<Long, FunctionConfig>();
                f.versions().forEach(v -> versions.put(Long.parseLong(v.version()), v));
                var aliases = new HashMap<String, Alias>();
                f.aliases().forEach(a -> aliases.put(a.name(), a));
                functions.put(f.latest().key(), new FunctionEntry(f.latest(), versions, aliases, f.reservedConcurrency(), f.lastPublished(), f.tags(), f.policies(), f.urls()));
            }
            Map<LayerKey, LayerEntry> layers = new HashMap<>();
            for (SnapshotLayer l : s.layers() == null ? List.<SnapshotLayer>of() : s.layers()) {
                var versions = new TreeMap<Long, LayerVersion>();
                l.versions().forEach(v -> versions.put(v.version(), v));
                layers.put(l.layer(), new LayerEntry(versions, l.lastVersion()));
            }
            image = new ConfigImage(s.appliedIndex(), accounts, keys, functions, layers);
            listeners.forEach(l -> l.accept(image));
            for (ConfigStore.RecordSink sink : sinks) {
                sink.snapshot(image.appliedIndex(), snapshot);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable config snapshot", e);
        }
    }
}
