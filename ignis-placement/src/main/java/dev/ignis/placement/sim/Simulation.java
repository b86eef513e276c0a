package dev.ignis.placement.sim;

import dev.ignis.placement.Candidate;
import dev.ignis.placement.KeepAlivePolicy;
import dev.ignis.placement.PlacementPolicy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A discrete-event simulation of one region's compute fabric: functions invoked as a {@link TraceModel} says,
 * sandboxes kept warm by a {@link KeepAlivePolicy}, placed on workers by a {@link PlacementPolicy}, and a capacity
 * manager that adds workers when headroom runs low (after a provisioning delay) and drains them when it is high.
 * Simulated time only: a day of a thousand functions runs in seconds. Busy sandboxes on one worker share its vCPUs;
 * when they want more than it has, their invokes stretch — which is what placement's spreading and heat avoid.
 */
public final class Simulation {

    /** The worker fleet and the capacity manager's bands. */
    public record Fleet(int initialWorkers, int floor, int ceiling, long workerMemoryMb, int workerVcpus,
                        Duration provisionDelay, double scaleOutBelowFree, double scaleInAboveFree, Duration scaleInAfter) {
        public static Fleet defaults() {
            return new Fleet(4, 2, 64, 16_384, 4, Duration.ofSeconds(60), 0.15, 0.45, Duration.ofMinutes(10));
        }
    }

    /** What one run is given besides the policies. */
    public record Config(Fleet fleet, Duration horizon, Duration coldStart, long seed) {}

    /** What one run measured. */
    public record Result(String placement, String keepAlive, long invocations, long coldStarts, long evictions, long queued,
                         double addedLatencyP50Ms, double addedLatencyP99Ms, double queueP99Ms, double busyMemoryShare,
                         double allocatedMemoryShare, double sandboxesPerWorker, double fleetHours, int peakWorkers,
                         double functionColdRateP75) {
        public double coldStartRate() {
            return invocations == 0 ? 0 : coldStarts / (double) invocations;
        }
    }

    private static final double TICK_MS = 10_000;

    private final List<FunctionProfile> functions;
    private final PlacementPolicy placement;
    private final KeepAlivePolicy keepAlive;
    private final Config config;
    private final SplittableRandom random;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final List<Worker> workers = new ArrayList<>();
    private final Map<Integer, Deque<Sandbox>> idle = new HashMap<>();
    private final double[] lastArrival;
    private final Deque<Pending> pending = new ArrayDeque<>();
    private long sequence;
    private int nextWorker;
    private int provisioning;
    private double highSince = -1;
    // measurements
    private long invocations, coldStarts, evictions, queued;
    private final long[] invocationsOf, coldsOf;
    private double[] added = new double[1 << 16];
    private int addedCount;
    private double[] queueWaits = new double[1 << 10];
    private int queueCount;
    private double fleetMs, busyMbMs, allocatedMbMs, totalMbMs, sandboxMs;
    private int peakWorkers;

    private Simulation(List<FunctionProfile> functions, PlacementPolicy placement, KeepAlivePolicy keepAlive, Config config) {
        this.functions = functions;
        this.placement = placement;
        this.keepAlive = keepAlive;
        this.config = config;
        this.random = new SplittableRandom(config.seed());
        this.lastArrival = new double[functions.size()];
        this.invocationsOf = new long[functions.size()];
        this.coldsOf = new long[functions.size()];
        Arrays.fill(lastArrival, -1);
    }

    public static Result run(List<FunctionProfile> functions, PlacementPolicy placement, KeepAlivePolicy keepAlive, Config config) {
        return new Simulation(functions, placement, keepAlive, config).run();
    }

    private Result run() {
        for (int i = 0; i < config.fleet().initialWorkers(); i++) {
            workers.add(newWorker());
        }
        for (int f = 0; f < functions.size(); f++) {
            scheduleNextArrival(f, 0);
        }
        schedule(new Event(TICK_MS, sequence++, Kind.TICK, -1, null, 0));
        final double horizon = config.horizon().toMillis();
        while (!events.isEmpty() && events.peek().time <= horizon) {
            final Event e = events.poll();
            switch (e.kind) {
                case ARRIVAL -> arrive(e.function, e.time, e.burst);
                case FINISH -> finish(e.sandbox, e.time);
                case PROVISIONED -> {
                    provisioning--;
                    workers.add(newWorker());
                    servePending(e.time);
                }
                case TICK -> tick(e.time);
            }
        }
        Arrays.sort(added, 0, addedCount);
        Arrays.sort(queueWaits, 0, queueCount);
        return new Result(placement.name(), keepAlive.name(), invocations, coldStarts, evictions, queued,
                percentile(added, addedCount, 0.50), percentile(added, addedCount, 0.99), percentile(queueWaits, queueCount, 0.99),
                busyMbMs / Math.max(1, totalMbMs), allocatedMbMs / Math.max(1, totalMbMs),
                sandboxMs / Math.max(1, fleetMs), fleetMs / 3_600_000.0, peakWorkers, functionColdRateP75());
    }

    /** Shahrad et al.'s view: the third quartile, over functions invoked at all, of each one's cold-start share. */
    private double functionColdRateP75() {
        final double[] rates = new double[functions.size()];
        int n = 0;
        for (int f = 0; f < functions.size(); f++) {
            if (invocationsOf[f] > 0) {
                rates[n++] = coldsOf[f] / (double) invocationsOf[f];
            }
        }
        Arrays.sort(rates, 0, n);
        return percentile(rates, n, 0.75);
    }

    // ---- arrivals ----

    private void scheduleNextArrival(int f, double now) {
        final FunctionProfile p = functions.get(f);
        final double perMs = p.perDay() / 86_400_000.0;
        switch (p.pattern()) {
            case STEADY -> schedule(new Event(now + exponential(perMs), sequence++, Kind.ARRIVAL, f, null, 1));
            case DIURNAL -> {
                double t = now;
                while (true) { // thinning against the peak rate
                    t += exponential(perMs * 1.8);
                    final double rate = 1 + 0.8 * Math.sin(2 * Math.PI * t / 86_400_000.0);
                    if (random.nextDouble() * 1.8 <= rate) {
                        break;
                    }
                }
                schedule(new Event(t, sequence++, Kind.ARRIVAL, f, null, 1));
            }
            case BURSTY -> {
                final int size = 2 + random.nextInt(9); // 2..10 at once, mean 6
                schedule(new Event(now + exponential(perMs / 6), sequence++, Kind.ARRIVAL, f, null, size));
            }
        }
    }

    private void arrive(int f, double now, int count) {
        for (int i = 0; i < count; i++) {
            invocations++;
            invocationsOf[f]++;
            if (lastArrival[f] >= 0 && now > lastArrival[f]) {
                keepAlive.observeIdle(functions.get(f).name(), Duration.ofMillis((long) (now - lastArrival[f])));
            }
            lastArrival[f] = now;
            if (!serve(f, now, now)) {
                queued++;
                pending.add(new Pending(f, now));
            }
        }
        scheduleNextArrival(f, now);
    }

    /** Runs one invoke of {@code f} that arrived at {@code arrived}: on an idle sandbox, or a new one. False when none fits. */
    private boolean serve(int f, double arrived, double now) {
        final Sandbox warm = takeIdle(f, now);
        if (warm != null) {
            start(warm, arrived, now);
            return true;
        }
        final FunctionProfile p = functions.get(f);
        Worker w = place(f, false);
        if (w == null) {
            w = place(f, true);
            if (w == null) {
                return false;
            }
            evictFor(w, p.memoryMb());
        }
        final Sandbox sb = new Sandbox(f, w, p.memoryMb());
        w.freeMb -= p.memoryMb();
        w.sandboxes.add(sb);
        w.perFunction.merge(f, 1, Integer::sum);
        coldStarts++;
        coldsOf[f]++;
        start(sb, arrived, now + config.coldStart().toMillis());
        return true;
    }

    private Sandbox takeIdle(int f, double now) {
        final Deque<Sandbox> stack = idle.get(f);
        while (stack != null && !stack.isEmpty()) {
            final Sandbox sb = stack.pop(); // most recently used first: the oldest ones age out
            if (now - sb.idleSince <= keepAlive.keepAlive(functions.get(f).name()).toMillis() && !sb.retired) {
                return sb;
            }
            retire(sb);
        }
        return null;
    }

    private Worker place(int f, boolean countingIdleAsFree) {
        final FunctionProfile p = functions.get(f);
        final List<Candidate> candidates = new ArrayList<>(workers.size());
        final Map<String, Worker> byId = new HashMap<>();
        for (Worker w : workers) {
            if (w.draining) {
                continue;
            }
            final long free = countingIdleAsFree ? w.freeMb + w.idleMb() : w.freeMb;
            candidates.add(new Candidate(w.id, w.totalMb, free, w.perFunction.getOrDefault(f, 0), w.heat));
            byId.put(w.id, w);
        }
        return placement.choose(p.name(), p.memoryMb(), candidates, random).map(byId::get).orElse(null);
    }

    private void evictFor(Worker w, long memoryMb) {
        final List<Sandbox> idleHere = new ArrayList<>(w.sandboxes.stream().filter(s -> !s.busy).toList());
        idleHere.sort((a, b) -> Double.compare(a.idleSince, b.idleSince)); // longest idle first
        for (Iterator<Sandbox> it = idleHere.iterator(); it.hasNext() && w.freeMb < memoryMb; ) {
            final Sandbox sb = it.next();
            retire(sb);
            evictions++;
        }
    }

    private void start(Sandbox sb, double arrived, double startAt) {
        final FunctionProfile p = functions.get(sb.function);
        sb.busy = true;
        sb.worker.busyVcpus += p.vcpus();
        final double stretch = Math.max(1.0, sb.worker.busyVcpus / sb.worker.vcpus);
        final double alone = p.durationMs() * Math.exp(0.3 * random.nextGaussian());
        final double ran = alone * stretch;
        record(startAt - arrived + ran - alone);
        schedule(new Event(startAt + ran, sequence++, Kind.FINISH, sb.function, sb, 0));
    }

    private void finish(Sandbox sb, double now) {
        final FunctionProfile p = functions.get(sb.function);
        sb.busy = false;
        sb.worker.busyVcpus -= p.vcpus();
        sb.idleSince = now;
        if (sb.worker.draining) {
            retire(sb);
        } else {
            idle.computeIfAbsent(sb.function, k -> new ArrayDeque<>()).push(sb);
        }
        servePending(now);
    }

    /** Serves queued invokes in arrival order, stopping at the first that still finds no room (no overtaking). */
    private void servePending(double now) {
        while (!pending.isEmpty() && serve(pending.peek().function, pending.peek().arrived, now)) {
            recordQueue(now - pending.poll().arrived);
        }
    }

    private void retire(Sandbox sb) {
        if (sb.retired) {
            return;
        }
        sb.retired = true;
        final Worker w = sb.worker;
        w.sandboxes.remove(sb);
        w.freeMb += sb.memoryMb;
        w.perFunction.merge(sb.function, -1, Integer::sum);
        final Deque<Sandbox> stack = idle.get(sb.function);
        if (stack != null) {
            stack.remove(sb);
        }
    }

    // ---- the capacity manager, keep-alive sweep and accounting, every 10 s ----

    private void tick(double now) {
        long total = 0, free = 0;
        for (Worker w : List.copyOf(workers)) {
            w.heat = 0.8 * w.heat + 0.2 * (w.busyVcpus / w.vcpus);
            for (Sandbox sb : List.copyOf(w.sandboxes)) {
                if (!sb.busy && now - sb.idleSince > keepAlive.keepAlive(functions.get(sb.function).name()).toMillis()) {
                    retire(sb);
                }
            }
            if (w.draining && w.sandboxes.isEmpty()) {
                workers.remove(w);
                continue;
            }
            fleetMs += TICK_MS;
            totalMbMs += w.totalMb * TICK_MS;
            allocatedMbMs += (w.totalMb - w.freeMb) * TICK_MS;
            busyMbMs += w.sandboxes.stream().filter(s -> s.busy).mapToLong(s -> s.memoryMb).sum() * TICK_MS;
            sandboxMs += w.sandboxes.size() * TICK_MS;
            if (!w.draining) {
                total += w.totalMb;
                free += w.freeMb;
            }
        }
        peakWorkers = Math.max(peakWorkers, workers.size());
        final Fleet fleet = config.fleet();
        final double freeShare = total == 0 ? 0 : free / (double) total;
        final int live = (int) workers.stream().filter(w -> !w.draining).count();
        if ((!pending.isEmpty() || freeShare < fleet.scaleOutBelowFree()) && live + provisioning < fleet.ceiling() && provisioning == 0) {
            provisioning++;
            schedule(new Event(now + fleet.provisionDelay().toMillis(), sequence++, Kind.PROVISIONED, -1, null, 0));
            highSince = -1;
        } else if (freeShare > fleet.scaleInAboveFree() && live > fleet.floor()) {
            if (highSince < 0) {
                highSince = now;
            } else if (now - highSince >= fleet.scaleInAfter().toMillis()) {
                final Worker victim = workers.stream().filter(w -> !w.draining)
                        .min((a, b) -> Long.compare(a.totalMb - a.freeMb, b.totalMb - b.freeMb)).orElseThrow();
                victim.draining = true;
                for (Sandbox sb : List.copyOf(victim.sandboxes)) {
                    if (!sb.busy) {
                        retire(sb);
                    }
                }
                highSince = -1;
            }
        } else {
            highSince = -1;
        }
        schedule(new Event(now + TICK_MS, sequence++, Kind.TICK, -1, null, 0));
    }

    // ---- plumbing ----

    private Worker newWorker() {
        final Fleet f = config.fleet();
        return new Worker("w" + nextWorker++, f.workerMemoryMb(), f.workerVcpus());
    }

    private void schedule(Event e) {
        events.add(e);
    }

    private double exponential(double perMs) {
        return -Math.log(1 - random.nextDouble()) / perMs;
    }

    private void record(double ms) {
        if (addedCount == added.length) {
            added = Arrays.copyOf(added, added.length * 2);
        }
        added[addedCount++] = ms;
    }

    private void recordQueue(double ms) {
        if (queueCount == queueWaits.length) {
            queueWaits = Arrays.copyOf(queueWaits, queueWaits.length * 2);
        }
        queueWaits[queueCount++] = ms;
    }

    private static double percentile(double[] sorted, int n, double q) {
        return n == 0 ? 0 : sorted[Math.min(n - 1, (int) Math.floor(q * n))];
    }

    private enum Kind { ARRIVAL, FINISH, PROVISIONED, TICK }

    private record Event(double time, long seq, Kind kind, int function, Sandbox sandbox, int burst)
            implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            final int c = Double.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private record Pending(int function, double arrived) {}

    private static final class Worker {
        final String id;
        final long totalMb;
        final double vcpus;
        long freeMb;
        double busyVcpus;
        double heat;
        boolean draining;
        final List<Sandbox> sandboxes = new ArrayList<>();
        final Map<Integer, Integer> perFunction = new HashMap<>();

        Worker(String id, long totalMb, int vcpus) {
            this.id = id;
            this.totalMb = totalMb;
            this.vcpus = vcpus;
            this.freeMb = totalMb;
        }

        long idleMb() {
            long mb = 0;
            for (Sandbox s : sandboxes) {
                if (!s.busy) {
                    mb += s.memoryMb;
                }
            }
            return mb;
        }
    }

    private static final class Sandbox {
        final int function;
        final Worker worker;
        final long memoryMb;
        boolean busy;
        boolean retired;
        double idleSince;

        Sandbox(int function, Worker worker, long memoryMb) {
            this.function = function;
            this.worker = worker;
            this.memoryMb = memoryMb;
        }
    }
}
