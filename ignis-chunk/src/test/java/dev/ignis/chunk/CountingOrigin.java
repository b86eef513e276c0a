package dev.ignis.chunk;

import dev.ignis.chunk.origin.Origin;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Wraps a real origin, counting (and optionally slowing) chunk fetches. */
final class CountingOrigin implements Origin {
    final Origin delegate;
    final AtomicInteger chunkGets = new AtomicInteger();
    final List<String> chunkGetOrder = new CopyOnWriteArrayList<>();
    volatile long delayMillis;

    CountingOrigin(Origin delegate) {
        this.delegate = delegate;
    }

    @Override
    public void put(String key, byte[] value) {
        delegate.put(key, value);
    }

    @Override
    public Optional<byte[]> get(String key) {
        if (key.startsWith("chunks/")) {
            chunkGets.incrementAndGet();
            chunkGetOrder.add(key.substring(7));
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return delegate.get(key);
    }

    @Override
    public boolean exists(String key) {
        return delegate.exists(key);
    }

    @Override
    public void delete(String key) {
        delegate.delete(key);
    }

    @Override
    public List<Entry> list(String prefix) {
        return delegate.list(prefix);
    }
}
