package dev.ignis.async;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ignis.common.Json;
import dev.ignis.journal.JournalStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The queue's state, rebuilt from the journal: pending events (in arrival order), dead letters,
 * event-invoke configs and counters. Every change goes through {@link #replay}; readers get copies.
 */
final class AsyncState implements JournalStateMachine {
    private final Map<String, Event> pending = new LinkedHashMap<>();
    private final Map<String, DeadLetter> dead = new LinkedHashMap<>();
    private final Map<Event.ConfigKey, EventInvokeConfig> configs = new HashMap<>();
    private final Counters counters = new Counters();

    /** Monotonic totals since the queue was created (they survive restarts: they are state). */
    static final class Counters {
        long enqueued;
        long retries;
        long succeeded;
        long failedToDestination;
        long deadLettered;
    }

    record Stats(int depth, long oldestEnqueuedAt, long enqueued, long retries, long succeeded, long failedToDestination,
                 long deadLettered, int deadLetters) {}

    @Override
    public synchronized void apply(long index, byte[] bytes) {
        try {
            replay(Json.mapper().readValue(bytes, AsyncRecord.class));
        } catch (IOException e) {
            throw new UncheckedIOException("undecodable async record at index " + index, e);
        }
    }

    synchronized void replay(AsyncRecord record) {
        switch (record) {
            case AsyncRecord.Enqueued e -> {
                pending.put(e.event().requestId(), e.event());
                counters.enqueued++;
            }
            case AsyncRecord.Attempted a -> pending.computeIfPresent(a.requestId(), (id, e) -> e.attempted(a.at()));
            case AsyncRecord.RetryScheduled r -> {
                pending.computeIfPresent(r.requestId(), (id, e) -> e.retryAt(r.nextAttemptAt(), r.error(), r.countsAsRetry()));
                counters.retries++;
            }
            case AsyncRecord.Finished f -> {
                if (pending.remove(f.requestId()) != null) {
                    if ("Success".equals(f.condition())) {
                        counters.succeeded++;
                    } else {
                        counters.failedToDestination++;
                    }
                }
            }
            case AsyncRecord.DeadLettered d -> {
                Event e = pending.remove(d.requestId());
                if (e != null) {
                    dead.put(d.requestId(), new DeadLetter(e, d.condition(), d.at()));
                    counters.deadLettered++;
                }
            }
            case AsyncRecord.Redriven r -> {
                DeadLetter d = dead.remove(r.requestId());
                if (d != null) {
                    Event e = d.event();
                    pending.put(e.requestId(), new Event(e.requestId(), e.accountId(), e.functionName(), e.qualifier(), e.payload(),
                            r.at(), 0, 0, r.at(), null));
                }
            }
            case AsyncRecord.ConfigPut c -> configs.put(c.key(), c.config());
            case AsyncRecord.ConfigRemoved c -> configs.remove(c.key());
        }
    }

    synchronized List<Event> due(long now) {
        List<Event> out = new ArrayList<>();
        for (Event e : pending.values()) {
            if (e.nextAttemptAt() <= now) {
                out.add(e);
            }
        }
        return out;
    }

    synchronized Optional<Event> pending(String requestId) {
        return Optional.ofNullable(pending.get(requestId));
    }

    synchronized List<Event> pendingEvents() {
        return List.copyOf(pending.values());
    }

    synchronized List<DeadLetter> deadLetters() {
        return List.copyOf(dead.values());
    }

    synchronized Optional<DeadLetter> deadLetter(String requestId) {
        return Optional.ofNullable(dead.get(requestId));
    }

    synchronized EventInvokeConfig config(Event.ConfigKey key) {
        return configs.getOrDefault(key, EventInvokeConfig.defaults());
    }

    synchronized Optional<EventInvokeConfig> explicitConfig(Event.ConfigKey key) {
        return Optional.ofNullable(configs.get(key));
    }

    synchronized Map<Event.ConfigKey, EventInvokeConfig> configs() {
        return Map.copyOf(configs);
    }

    synchronized Stats stats() {
        long oldest = pending.values().stream().mapToLong(Event::enqueuedAt).min().orElse(0);
        return new Stats(pending.size(), oldest, counters.enqueued, counters.retries, counters.succeeded,
                counters.failedToDestination, counters.deadLettered, dead.size());
    }

    record Snapshot(List<Event> pending, List<DeadLetter> dead, List<ConfigEntry> configs,
                    long enqueued, long retries, long succeeded, long failedToDestination, long deadLettered) {}

    @Override
    public synchronized byte[] takeSnapshot() {
        try {
            return Json.mapper().writeValueAsBytes(new Snapshot(List.copyOf(pending.values()), List.copyOf(dead.values()),
                    configs.entrySet().stream().map(e -> new ConfigEntry(e.getKey(), e.getValue())).toList(),
                    counters.enqueued, counters.retries, counters.succeeded, counters.failedToDestination, counters.deadLettered));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record ConfigEntry(Event.ConfigKey key, EventInvokeConfig value) {}

    @Override
    public synchronized void restoreSnapshot(byte[] snapshot) {
        try {
            Snapshot s = Json.mapper().readValue(snapshot, new TypeReference<>() {});
            pending.clear();
            dead.clear();
            configs.clear();
            s.pending().forEach(e -> pending.put(e.requestId(), e));
            s.dead().forEach(d -> dead.put(d.event().requestId(), d));
            s.configs().forEach(c -> configs.put(c.key(), c.value()));
            counters.enqueued = s.enqueued();
            counters.retries = s.retries();
            counters.succeeded = s.succeeded();
            counters.failedToDestination = s.failedToDestination();
            counters.deadLettered = s.deadLettered();
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable async snapshot", e);
        }
    }
}
