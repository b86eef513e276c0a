package dev.ignis.cluster;

import dev.ignis.assignment.Placement;
import dev.ignis.worker.SandboxSpec;
import dev.ignis.worker.Worker;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cluster's workers as an assignment node sees them: a client per worker, which of them
 * answered lately, and placement over the live ones (least-loaded by the sandbox counts they
 * reported, round-robin among equals).
 */
public final class WorkerPool implements Placement {
    private final Map<String, RemoteWorker> workers = new LinkedHashMap<>();
    private final Map<String, Integer> load = new ConcurrentHashMap<>();
    private final Map<String, Boolean> up = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();

    public WorkerPool(List<Topology.Node> workerNodes, Rpc.Channels channels) {
        for (Topology.Node n : workerNodes) {
            workers.put(n.id(), new RemoteWorker(n.id(), channels.to(n.rpcTarget())));
            up.put(n.id(), true);
        }
    }

    /** The worker of a node id, or null for an id that is not a worker of this cluster. */
    public RemoteWorker worker(String id) {
        return workers.get(id);
    }

    public List<RemoteWorker> all() {
        return List.copyOf(workers.values());
    }

    /** What one look at a worker found. */
    public enum Seen { UP, DOWN, UNKNOWN }

    /**
     * One look at a worker: its sandbox ids when it answered ({@link Seen#UP}); {@link Seen#DOWN} when
     * nothing listens there (the process is gone); {@link Seen#UNKNOWN} when it is slow or failed
     * otherwise — never a reason to forget its sandboxes.
     */
    public record Look(Seen seen, java.util.Set<String> sandboxIds) {}

    public Look look(RemoteWorker w, long timeoutMillis) {
        try {
            var list = w.list(timeoutMillis);
            java.util.Set<String> ids = new java.util.HashSet<>();
            list.getSandboxesList().forEach(h -> ids.add(h.getSandboxId()));
            observed(w.workerId(), true, ids.size());
            return new Look(Seen.UP, ids);
        } catch (io.grpc.StatusRuntimeException e) {
            if (Rpc.unreachable(e)) {
                observed(w.workerId(), false, 0);
                return new Look(Seen.DOWN, java.util.Set.of());
            }
            return new Look(Seen.UNKNOWN, java.util.Set.of());
        } catch (RuntimeException e) {
            return new Look(Seen.UNKNOWN, java.util.Set.of());
        }
    }

    /** What the latest look at a worker found: reachable or not, and how many sandboxes it holds. */
    public void observed(String workerId, boolean reachable, int sandboxes) {
        up.put(workerId, reachable);
        if (reachable) {
            load.put(workerId, sandboxes);
        }
    }

    /** Placed elsewhere until a look finds it answering again. */
    @Override
    public void unreachable(Worker worker) {
        up.put(worker.workerId(), false);
    }

    @Override
    public Worker place(SandboxSpec spec) {
        return place(spec, Set.of());
    }

    /** Least-loaded among the live workers that did not refuse this sandbox for capacity ({@code full}). */
    @Override
    public Worker place(SandboxSpec spec, Set<String> full) {
        List<RemoteWorker> candidates = workers.values().stream().filter(w -> !full.contains(w.workerId())).toList();
        if (candidates.isEmpty()) {
            throw Placement.noCapacity();
        }
        List<RemoteWorker> live = candidates.stream().filter(w -> up.getOrDefault(w.workerId(), true)).toList();
        List<RemoteWorker> from = live.isEmpty() ? candidates : live;
        int start = Math.floorMod(next.getAndIncrement(), from.size());
        RemoteWorker best = null;
        for (int i = 0; i < from.size(); i++) {
            RemoteWorker w = from.get((start + i) % from.size());
            if (best == null || load.getOrDefault(w.workerId(), 0) < load.getOrDefault(best.workerId(), 0)) {
                best = w;
            }
        }
        load.merge(best.workerId(), 1, Integer::sum);
        return best;
    }
}
