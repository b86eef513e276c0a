package dev.ignis.journal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Test state machine: the ordered list of (index, record) it has applied. Its snapshot is that list,
 * so "same state" is list equality. Counts restores and remembers which indices it applied since
 * the last restore, so tests can tell log replay from snapshot restore.
 */
class RecordingStateMachine implements JournalStateMachine {

    record Entry(long index, String record) {}

    private final List<Entry> entries = new ArrayList<>();
    private final List<Long> appliedSinceRestore = new ArrayList<>();
    private final List<Boolean> leaderEvents = new ArrayList<>();
    private int restores;
    private Thread applyThread;
    private boolean applyFromSeveralThreads;

    @Override
    public synchronized void apply(long index, byte[] record) {
        if (!entries.isEmpty() && index <= entries.getLast().index()) {
            throw new IllegalStateException("index " + index + " after " + entries.getLast().index());
        }
        if (applyThread != null && applyThread != Thread.currentThread()) {
            applyFromSeveralThreads = true;
        }
        applyThread = Thread.currentThread();
        entries.add(new Entry(index, new String(record, StandardCharsets.UTF_8)));
        appliedSinceRestore.add(index);
    }

    @Override
    public synchronized byte[] takeSnapshot() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(entries.size());
            for (Entry e : entries) {
                out.writeLong(e.index());
                out.writeUTF(e.record());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public synchronized void restoreSnapshot(byte[] snapshot) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            final int n = in.readInt();
            entries.clear();
            for (int i = 0; i < n; i++) {
                entries.add(new Entry(in.readLong(), in.readUTF()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        appliedSinceRestore.clear();
        restores++;
    }

    @Override
    public synchronized void leaderChanged(boolean isLeader) {
        leaderEvents.add(isLeader);
    }

    synchronized List<Entry> entries() { return List.copyOf(entries); }

    synchronized List<String> records() { return entries.stream().map(Entry::record).toList(); }

    synchronized int size() { return entries.size(); }

    synchronized List<Long> appliedSinceRestore() { return List.copyOf(appliedSinceRestore); }

    synchronized int restores() { return restores; }

    synchronized List<Boolean> leaderEvents() { return List.copyOf(leaderEvents); }

    synchronized boolean appliedFromSeveralThreads() { return applyFromSeveralThreads; }

    synchronized boolean contains(String record) {
        return entries.stream().anyMatch(e -> e.record().equals(record));
    }
}
