package dev.ignis.assignment.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.assignment.SandboxKey;
import dev.ignis.assignment.replicated.SandboxRecord.Leased;
import dev.ignis.assignment.replicated.SandboxRecord.Released;
import dev.ignis.assignment.replicated.SandboxRecord.Retired;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxCreateFailed;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxCreated;
import dev.ignis.assignment.replicated.SandboxRecord.SandboxRequested;
import dev.ignis.assignment.replicated.SandboxTable.Sandbox;
import dev.ignis.assignment.replicated.SandboxTable.State;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Seeded, deterministic simulation of the sandbox table alone (KRaft's RaftEventSimulationTest idea):
 * from a random seed, a random interleaving of the records a leader writes (request, create, create
 * failed, lease, release reusable or not, retire, a leader change failing unfinished creations), of
 * snapshot + restore, full recovery from the log, and of hostile input (duplicate replays of any
 * earlier record, releases with wrong lease ids, leases of non-idle sandboxes). After every step:
 * no sandbox leased twice, none forgotten, idle counts match.
 *
 * <p>Rerun one failing seed with {@code -Dsim.seed=<seed> -Dsim.seeds=1}.
 */
class SandboxTableSimulationTest {

    private static final List<SandboxKey> KEYS = List.of(
            new SandboxKey("111111111111", "f", "1", "r1"),
            new SandboxKey("111111111111", "f", "2", "r2"),
            new SandboxKey("222222222222", "g", "$LATEST", "r9"));

    @Test
    void randomInterleavingsKeepTheInvariants() {
        long first = Long.getLong("sim.seed", 20_261_127L);
        int seeds = Integer.getInteger("sim.seeds", 200);
        int steps = Integer.getInteger("sim.steps", 500);
        long started = System.nanoTime();
        long totals[] = new long[2];
        for (long seed = first; seed < first + seeds; seed++) {
            Simulation sim = new Simulation(seed);
            try {
                for (int i = 0; i < steps; i++) {
                    sim.step(i);
                }
                sim.recoverFromLog();
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("simulation failed with seed " + seed + " at step " + sim.stepNo
                        + " (rerun: -Dsim.seed=" + seed + " -Dsim.seeds=1): " + e.getMessage(), e);
            }
            totals[0] += sim.granted;
            totals[1] += sim.table.counts().ignored();
        }
        System.out.printf("simulation: %d seeds x %d steps in %d ms; %d leases granted, %d stale/duplicate records ignored%n",
                seeds, steps, (System.nanoTime() - started) / 1_000_000, totals[0], totals[1]);
        // The run must have exercised the paths it claims to test.
        assertThat(totals[0]).isGreaterThan(seeds * 10L);
        assertThat(totals[1]).isGreaterThan(seeds * 10L);
    }

    /** One seeded run: the table under test plus what the "clients" believe they hold. */
    private static final class Simulation {
        final Random random;
        SandboxTable table = SandboxTable.EMPTY;
        /** Every record the table has been given, in order: the log. */
        final List<SandboxRecord> log = new ArrayList<>();
        /** Every sandbox id whose request was applied: none of them may ever disappear. */
        final Set<String> requested = new HashSet<>();
        /** Leases the clients hold right now: sandbox id → lease id. */
        final Map<String, Long> holders = new LinkedHashMap<>();
        /** Every lease ever granted, so a lease id is never granted twice. */
        final Set<Long> everGranted = new HashSet<>();
        Instant now = Instant.parse("2026-11-27T00:00:00Z");
        int nextSandbox;
        int stepNo;
        long granted;

        Simulation(long seed) {
            random = new Random(seed);
        }

        void step(int i) {
            stepNo = i;
            now = now.plusMillis(1 + random.nextInt(50));
            int dice = random.nextInt(100);
            if (dice < 14) {
                request();
            } else if (dice < 26) {
                pick(s -> s.state() == State.CREATING).ifPresent(s -> apply(new SandboxCreated(s.sandboxId(), "w-" + s.sandboxId(), now)));
            } else if (dice < 30) {
                pick(s -> s.state() == State.CREATING).ifPresent(s -> apply(new SandboxCreateFailed(s.sandboxId(), "boom", now)));
            } else if (dice < 52) {
                lease();
            } else if (dice < 70) {
                release();
            } else if (dice < 74) {
                retire();
            } else if (dice < 76) {
                leaderChange();
            } else if (dice < 81) {
                snapshotAndRestore();
            } else if (dice < 90) {
                duplicate();
            } else if (dice < 95) {
                staleRelease();
            } else if (dice < 99) {
                leaseNonIdle();
            } else {
                recoverFromLog();
            }
            checkInvariants();
        }

        void request() {
            String id = "s" + nextSandbox++;
            SandboxKey key = KEYS.get(random.nextInt(KEYS.size()));
            apply(new SandboxRequested(id, key, "worker-" + random.nextInt(3), 128 * (1 + random.nextInt(8)), now));
            requested.add(id);
            assertThat(table.sandbox(id)).get().extracting(Sandbox::state).isEqualTo(State.CREATING);
        }

        /** What a leader does: the most recently idle sandbox of a key, a lease id above any seen. */
        void lease() {
            SandboxKey key = KEYS.get(random.nextInt(KEYS.size()));
            List<Sandbox> idle = table.idle(key);
            if (idle.isEmpty()) {
                return;
            }
            Sandbox s = idle.get(random.nextInt(Math.min(2, idle.size())));
            long leaseId = table.maxLeaseId() + 1;
            // Request ids from a small pool, so some collide with a lease still held by the same request.
            String requestId = random.nextBoolean() ? null : "req-" + random.nextInt(40);
            boolean requestBusy = requestId != null && table.requestHolder(requestId).isPresent();
            apply(new Leased(s.sandboxId(), leaseId, requestId, now));
            Sandbox after = table.sandbox(s.sandboxId()).orElseThrow();
            assertThat(after.state()).isEqualTo(requestBusy ? State.IDLE : State.BUSY);
            grantIfCurrent(after, leaseId);
        }

        /** A client owns a lease only when the table says so; it must be the only owner. */
        void grantIfCurrent(Sandbox after, long leaseId) {
            if (after.state() == State.BUSY && after.leaseId() == leaseId) {
                assertThat(holders).as("sandbox %s leased twice", after.sandboxId()).doesNotContainKey(after.sandboxId());
                assertThat(everGranted.add(leaseId)).as("lease id %d granted twice", leaseId).isTrue();
                holders.put(after.sandboxId(), leaseId);
                granted++;
            }
        }

        void release() {
            if (holders.isEmpty()) {
                return;
            }
            List<String> held = new ArrayList<>(holders.keySet());
            String id = held.get(random.nextInt(held.size()));
            long leaseId = holders.remove(id);
            boolean reusable = random.nextInt(4) != 0;
            apply(new Released(id, leaseId, reusable, now));
            assertThat(table.sandbox(id).orElseThrow().state()).isEqualTo(reusable ? State.IDLE : State.RETIRED);
            assertThat(table.leaseHolder(leaseId)).isEmpty();
        }

        /** Keep-alive, stale revision or a lost worker: any live sandbox, busy ones too (their lease ends). */
        void retire() {
            pick(s -> s.state() != State.RETIRED).ifPresent(s -> {
                apply(new Retired(s.sandboxId(), "keep-alive", now));
                holders.remove(s.sandboxId());
                assertThat(table.sandbox(s.sandboxId()).orElseThrow().state()).isEqualTo(State.RETIRED);
            });
        }

        /** A new leader fails the creations whose outcome died with the old one; leases stay. */
        void leaderChange() {
            for (Sandbox s : List.copyOf(table.sandboxes())) {
                if (s.state() == State.CREATING) {
                    apply(new SandboxCreateFailed(s.sandboxId(), "leader changed", now));
                }
            }
        }

        void snapshotAndRestore() {
            SandboxTable restored = SandboxTable.fromSnapshot(table.toSnapshot());
            assertThat(restored).isEqualTo(table);
            for (SandboxKey k : KEYS) {
                assertThat(restored.idle(k)).isEqualTo(table.idle(k));
            }
            table = restored;
        }

        /** Replays of any earlier record change no sandbox (Raft never does this; replay must not care). */
        void duplicate() {
            if (log.isEmpty()) {
                return;
            }
            SandboxRecord old = log.get(random.nextInt(log.size()));
            Map<String, Sandbox> before = byId(table);
            long ignored = table.counts().ignored();
            apply(old);
            assertThat(byId(table)).as("replaying %s again", old).isEqualTo(before);
            assertThat(table.counts().ignored()).isEqualTo(ignored + 1);
        }

        /**
         * A release carrying a lease that was handed out once but is not the sandbox's current one (a
         * late retry, a deposed leader's client): ignored. Only issued ids: a release of a lease that
         * does not exist yet cannot be written (release needs the lease, and checks it is current).
         */
        void staleRelease() {
            pick(s -> true).ifPresent(s -> {
                if (table.maxLeaseId() == 0) {
                    return;
                }
                long wrong = 1 + random.nextInt((int) table.maxLeaseId());
                if (wrong == s.leaseId()) {
                    return;
                }
                Map<String, Sandbox> before = byId(table);
                apply(new Released(s.sandboxId(), wrong, random.nextBoolean(), now));
                assertThat(byId(table)).isEqualTo(before);
            });
        }

        /** A Leased for a sandbox that is not idle (a buggy or deposed leader): ignored. */
        void leaseNonIdle() {
            pick(s -> s.state() != State.IDLE).ifPresent(s -> {
                Map<String, Sandbox> before = byId(table);
                long leaseId = table.maxLeaseId() + 1;
                apply(new Leased(s.sandboxId(), leaseId, null, now));
                assertThat(byId(table)).isEqualTo(before);
                assertThat(table.maxLeaseId()).isEqualTo(leaseId); // burnt: never handed out later
            });
        }

        /** A fresh member replaying the whole log gets the very same table. */
        void recoverFromLog() {
            SandboxTable rebuilt = SandboxTable.EMPTY;
            for (SandboxRecord r : log) {
                rebuilt = rebuilt.replay(r);
            }
            assertThat(rebuilt).isEqualTo(table);
        }

        void apply(SandboxRecord r) {
            // Through the journal encoding, as members see it.
            SandboxRecord decoded = SandboxRecord.decode(SandboxRecord.encode(r));
            assertThat(decoded).isEqualTo(r);
            table = table.replay(decoded);
            log.add(decoded);
        }

        java.util.Optional<Sandbox> pick(Predicate<Sandbox> which) {
            List<Sandbox> candidates = table.sandboxes().stream().filter(which)
                    .sorted(java.util.Comparator.comparing(Sandbox::sandboxId)).toList();
            return candidates.isEmpty() ? java.util.Optional.empty()
                    : java.util.Optional.of(candidates.get(random.nextInt(candidates.size())));
        }

        void checkInvariants() {
            // None forgotten: exactly the requested sandboxes, each in one state; counts add up.
            Map<String, Sandbox> all = byId(table);
            assertThat(all.keySet()).isEqualTo(requested);
            assertThat(table.counts().requested()).isEqualTo(requested.size());
            long sum = 0;
            for (State st : State.values()) {
                sum += table.count(st);
            }
            assertThat(sum).isEqualTo(requested.size());
            // No sandbox leased twice: BUSY ⇔ one current lease, lease ids distinct, matching the index.
            Set<Long> current = new HashSet<>();
            Set<String> currentRequests = new HashSet<>();
            Map<SandboxKey, Integer> idlePerKey = new HashMap<>();
            for (Sandbox s : all.values()) {
                if (s.state() == State.BUSY) {
                    assertThat(s.leaseId()).isPositive();
                    assertThat(current.add(s.leaseId())).as("lease %d current twice", s.leaseId()).isTrue();
                    assertThat(table.leaseHolder(s.leaseId())).get().isEqualTo(s);
                    assertThat(s.leaseId()).isLessThanOrEqualTo(table.maxLeaseId());
                    if (s.requestId() != null) {
                        assertThat(currentRequests.add(s.requestId())).as("request %s holds two leases", s.requestId()).isTrue();
                        assertThat(table.requestHolder(s.requestId())).get().isEqualTo(s);
                    }
                } else {
                    assertThat(s.leaseId()).isZero();
                    assertThat(s.requestId()).isNull();
                }
                if (s.state() == State.IDLE) {
                    idlePerKey.merge(s.key(), 1, Integer::sum);
                    assertThat(s.workerSandboxId()).isNotNull();
                }
            }
            assertThat(table.busyCount()).isEqualTo(current.size());
            // Every lease a client holds is the sandbox's current lease, and only those are current.
            for (var h : holders.entrySet()) {
                Sandbox s = all.get(h.getKey());
                assertThat(s.state()).isEqualTo(State.BUSY);
                assertThat(s.leaseId()).isEqualTo(h.getValue());
            }
            assertThat(current).containsExactlyInAnyOrderElementsOf(holders.values());
            // Idle counts match, per key and in total, and the warm path lists exactly those.
            int idleTotal = 0;
            for (SandboxKey k : KEYS) {
                int expected = idlePerKey.getOrDefault(k, 0);
                assertThat(table.idleCount(k)).isEqualTo(expected);
                assertThat(table.idle(k)).hasSize(expected).allMatch(s -> s.state() == State.IDLE && s.key().equals(k));
                idleTotal += expected;
            }
            assertThat(table.idleCount()).isEqualTo(idleTotal).isEqualTo((int) table.count(State.IDLE));
        }

        static Map<String, Sandbox> byId(SandboxTable t) {
            Map<String, Sandbox> m = new HashMap<>();
            t.sandboxes().forEach(s -> m.put(s.sandboxId(), s));
            return m;
        }
    }
}
