package dev.ignis.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.assignment.Lease;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.SandboxRecord;
import dev.ignis.assignment.replicated.SandboxTable;
import dev.ignis.assignment.replicated.SandboxTable.Sandbox;
import dev.ignis.assignment.replicated.SandboxTable.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Seeded simulation of one partition under lease ownership (issue 19): the journal's table (the real
 * {@link SandboxTable#replay}), a leader that is killed and comes back (the table survives, in-flight
 * answers do not), three frontends that own leases through the real {@link OwnedLeases} (and are killed
 * too), a worker that records which invoke runs in which sandbox, the clock moving, the orphan sweep.
 * After every step: no sandbox runs two invokes, every lease a live frontend holds is BUSY on the log
 * under exactly that id, no sandbox has two holders, and no sandbox is lost (each one is idle, held by a
 * live frontend, or an orphan the sweep retires). {@code -Dsim.seed=S -Dsim.seeds=1} reruns one seed.
 */
class OwnershipSimulationTest {
    static final Duration IDLE_RETURN = Duration.ofSeconds(1);
    static final Duration MAX_HOLD = Duration.ofSeconds(30);
    static final Duration MAX_LEASE = Duration.ofSeconds(960);
    static final Duration LONGEST_INVOKE = Duration.ofSeconds(900);
    static final List<SandboxKey> KEYS = List.of(new SandboxKey("111122223333", "a", "1", "r1"),
            new SandboxKey("111122223333", "b", "1", "r1"));

    @Test
    void noLostSandboxNoDoubleLeaseNoOverlapOverThousandsOfSeeds() {
        long first = Long.getLong("sim.seed", 1);
        int seeds = Integer.getInteger("sim.seeds", 2_000);
        long leases = 0;
        for (long seed = first; seed < first + seeds; seed++) {
            try {
                leases += new Run(seed).go(400);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " failed (rerun: -Dsim.seed=" + seed + " -Dsim.seeds=1)", e);
            }
        }
        System.out.printf("OWNERSHIP simulation: %d seeds x 400 steps, %d leases granted on the log%n", seeds, leases);
        assertThat(leases).as("the simulation exercised the leader").isGreaterThan(seeds);
    }

    /** One invoke in flight: which frontend, which lease. */
    record Running(int frontend, Lease lease, long startedAt) {}

    /** A release a frontend could not deliver yet (no leader): RemoteAssignment keeps retrying it. */
    record Pending(int frontend, Lease lease, boolean reusable) {}

    static final class Run {
        final Random rnd;
        final AtomicLong nanos = new AtomicLong();
        SandboxTable table = SandboxTable.EMPTY;
        boolean leaderUp = true;
        long lastLeaseId;
        long granted;
        int created;
        final OwnedLeases[] frontends = new OwnedLeases[3];
        final boolean[] alive = {true, true, true};
        final List<Running> running = new ArrayList<>();
        /** Worker side: sandbox → how many invokes run in it now. */
        final Map<String, Integer> inSandbox = new HashMap<>();
        final List<Pending> pending = new ArrayList<>();
        /** Sandboxes whose lease nobody will release: an answer lost with the leader, or a killed frontend's. */
        final Set<String> orphans = new HashSet<>();

        Run(long seed) {
            rnd = new Random(seed);
            for (int i = 0; i < frontends.length; i++) {
                frontends[i] = new OwnedLeases(IDLE_RETURN, MAX_HOLD, nanos::get);
            }
        }

        Instant now() {
            return Instant.EPOCH.plusNanos(nanos.get());
        }

        long go(int steps) {
            for (int s = 0; s < steps; s++) {
                int op = rnd.nextInt(100);
                if (op < 40) {
                    startInvoke(rnd.nextInt(frontends.length), KEYS.get(rnd.nextInt(KEYS.size())));
                } else if (op < 70) {
                    endSomeInvoke();
                } else if (op < 85) {
                    nanos.addAndGet(Duration.ofMillis(rnd.nextInt(rnd.nextInt(10) == 0 ? 120_000 : 800)).toNanos());
                    // an invoke ends by Lambda's longest timeout at the latest (its sandbox is then not reusable)
                    for (Running r : List.copyOf(running)) {
                        if (nanos.get() - r.startedAt() >= LONGEST_INVOKE.toNanos()) {
                            end(r, false);
                        }
                    }
                    returnIdle();
                } else if (op < 92) {
                    leaderUp = !leaderUp;
                    if (leaderUp) {
                        deliverPending();
                    }
                } else if (op < 95) {
                    killOrRestartFrontend(rnd.nextInt(frontends.length));
                } else {
                    sweep();
                }
                check();
            }
            // the end: every frontend hands back what it owns, time passes beyond the orphan bound, and nothing is left leased
            leaderUp = true;
            while (!running.isEmpty()) {
                end(running.getFirst(), true);
            }
            deliverPending();
            for (int f = 0; f < frontends.length; f++) {
                if (alive[f]) {
                    int from = f;
                    frontends[f].expired(true).forEach(l -> releaseAtLeader(from, l, true));
                }
            }
            nanos.addAndGet(MAX_LEASE.toNanos() + 1);
            sweep();
            check();
            assertThat(table.busyCount()).as("leases left on the log after everyone let go and the sweep ran").isZero();
            assertThat(table.counts().requested()).isEqualTo(created);
            return granted;
        }

        void startInvoke(int f, SandboxKey key) {
            if (!alive[f]) {
                return;
            }
            Lease l = frontends[f].take(key);
            if (l == null) {
                if (!leaderUp) {
                    return; // RemoteAssignment waits for a leader; nothing changes meanwhile
                }
                Sandbox idle = table.idle(key).stream().findFirst().orElse(null);
                String id;
                if (idle == null) {
                    id = "sb-" + (++created);
                    table = table.replay(new SandboxRecord.SandboxRequested(id, key, "w1", 128, now()));
                    table = table.replay(new SandboxRecord.SandboxCreated(id, "w-" + id, now()));
                } else {
                    id = idle.sandboxId();
                }
                long leaseId = Math.max(lastLeaseId, table.maxLeaseId()) + 1;
                lastLeaseId = leaseId;
                table = table.replay(new SandboxRecord.Leased(id, leaseId, null, now()));
                Sandbox s = table.sandbox(id).orElseThrow();
                assertThat(s.state()).isEqualTo(State.BUSY);
                assertThat(s.leaseId()).isEqualTo(leaseId);
                granted++;
                if (rnd.nextInt(20) == 0) {
                    // the leader dies after the commit, before its answer: the lease is on the log, held by nobody
                    orphans.add(id);
                    leaderUp = false;
                    return;
                }
                l = new Lease(leaseId, s.workerSandboxId(), null, key, null);
                frontends[f].granted(l);
            }
            int n = inSandbox.merge(l.sandboxId(), 1, Integer::sum);
            assertThat(n).as("invokes running in sandbox " + l.sandboxId()).isEqualTo(1);
            running.add(new Running(f, l, nanos.get()));
        }

        void endSomeInvoke() {
            if (!running.isEmpty()) {
                end(running.get(rnd.nextInt(running.size())), rnd.nextInt(10) != 0);
            }
        }

        void end(Running r, boolean reusable) {
            running.remove(r);
            inSandbox.merge(r.lease().sandboxId(), -1, Integer::sum);
            if (!alive[r.frontend()]) {
                return; // its frontend died meanwhile: the lease is an orphan already
            }
            OwnedLeases owned = frontends[r.frontend()];
            if (reusable && owned.keep(r.lease())) {
                return;
            }
            owned.forget(r.lease());
            releaseAtLeader(r.frontend(), r.lease(), reusable);
        }

        void returnIdle() {
            for (int f = 0; f < frontends.length; f++) {
                if (alive[f]) {
                    int from = f;
                    frontends[f].expired(false).forEach(l -> releaseAtLeader(from, l, true));
                }
            }
        }

        void releaseAtLeader(int f, Lease l, boolean reusable) {
            if (!leaderUp) {
                pending.add(new Pending(f, l, reusable));
                return;
            }
            Sandbox s = table.leaseHolder(l.leaseId()).orElse(null);
            if (s == null) {
                return; // the sweep retired it meanwhile: the release is refused and logged, nothing changes
            }
            table = table.replay(new SandboxRecord.Released(s.sandboxId(), l.leaseId(), reusable, now()));
            if (!reusable) {
                assertThat(table.sandbox(s.sandboxId()).orElseThrow().state()).isEqualTo(State.RETIRED);
            }
        }

        void deliverPending() {
            List<Pending> p = List.copyOf(pending);
            pending.clear();
            p.forEach(o -> releaseAtLeader(o.frontend(), o.lease(), o.reusable()));
        }

        void killOrRestartFrontend(int f) {
            if (alive[f]) {
                alive[f] = false; // kill -9: what it owned, ran or meant to release stays leased on the log
                for (long leaseId : holdings(f)) {
                    table.leaseHolder(leaseId).ifPresent(s -> orphans.add(s.sandboxId()));
                }
                pending.removeIf(p -> p.frontend() == f);
            } else {
                alive[f] = true;
                frontends[f] = new OwnedLeases(IDLE_RETURN, MAX_HOLD, nanos::get);
            }
        }

        /** The leader's orphan sweep: a lease older than maxLease is retired, never reused. */
        void sweep() {
            if (!leaderUp) {
                return;
            }
            for (Sandbox s : table.sandboxes()) {
                if (s.state() == State.BUSY && s.since().isBefore(now().minus(MAX_LEASE))) {
                    for (int f = 0; f < frontends.length; f++) {
                        assertThat(alive[f] && holdings(f).contains(s.leaseId()))
                                .as("the sweep retired a lease a live frontend holds: " + s).isFalse();
                    }
                    table = table.replay(new SandboxRecord.Retired(s.sandboxId(), "lease held too long", now()));
                    orphans.remove(s.sandboxId());
                }
            }
        }

        /** Lease ids frontend f holds now: owned idle, running an invoke, or waiting to be released. */
        Set<Long> holdings(int f) {
            Set<Long> out = new HashSet<>();
            frontends[f].idleSnapshot().forEach(l -> out.add(l.leaseId()));
            running.stream().filter(r -> r.frontend() == f).forEach(r -> out.add(r.lease().leaseId()));
            pending.stream().filter(p -> p.frontend() == f).forEach(p -> out.add(p.lease().leaseId()));
            return out;
        }

        void check() {
            for (var e : inSandbox.entrySet()) {
                assertThat(e.getValue()).as("invokes in " + e.getKey()).isBetween(0, 1);
            }
            Map<String, Integer> holders = new HashMap<>();
            for (int f = 0; f < frontends.length; f++) {
                if (!alive[f]) {
                    continue;
                }
                for (Lease l : frontends[f].idleSnapshot()) {
                    Sandbox s = table.leaseHolder(l.leaseId()).orElse(null);
                    assertThat(s).as("an owned idle lease is current on the log: " + l).isNotNull();
                    assertThat(s.workerSandboxId()).isEqualTo(l.sandboxId());
                    holders.merge(s.sandboxId(), 1, Integer::sum);
                }
            }
            for (Running r : running) {
                if (alive[r.frontend()]) {
                    Sandbox s = table.leaseHolder(r.lease().leaseId()).orElse(null);
                    assertThat(s).as("a running invoke's lease is current on the log: " + r).isNotNull();
                    holders.merge(s.sandboxId(), 1, Integer::sum);
                }
            }
            holders.forEach((id, n) -> assertThat(n).as("holders of " + id).isEqualTo(1));
            for (Sandbox s : table.sandboxes()) {
                if (s.state() == State.BUSY) {
                    boolean pendingRelease = pending.stream().anyMatch(p -> p.lease().leaseId() == s.leaseId());
                    assertThat(holders.containsKey(s.sandboxId()) || orphans.contains(s.sandboxId()) || pendingRelease)
                            .as("a BUSY sandbox nobody holds and nobody will reclaim (lost): " + s).isTrue();
                }
                assertThat(s.state()).as("no creation is left hanging").isNotEqualTo(State.CREATING);
            }
        }
    }
}
