package dev.ignis.journal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs once when a leader's follower stops answering and once when it answers again (issue 19), in
 * place of Ratis's own warning per failed appendEntries attempt (one per retry, for as long as the
 * member is down). One daemon thread looks at every open journal of the process twice a second.
 */
final class PeerWatch {
    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);
    private static final Duration EVERY = Duration.ofMillis(500);
    private static final List<Watched> WATCHED = new CopyOnWriteArrayList<>();
    private static final ScheduledExecutorService TICKER = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("journal-peer-watch").daemon().factory());

    static {
        TICKER.scheduleWithFixedDelay(PeerWatch::tick, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A state change of one member, as seen by its group's leader. */
    record Change(String member, boolean down, Duration silence) {}

    /** One journal's watch: what it last reported down. */
    private static final class Watched {
        final String name;
        final Supplier<Map<String, Duration>> silence;
        final Duration threshold;
        Set<String> down = Set.of();

        Watched(String name, Supplier<Map<String, Duration>> silence, Duration threshold) {
            this.name = name;
            this.silence = silence;
            this.threshold = threshold;
        }
    }

    private PeerWatch() {}

    /**
     * Watches a journal until the returned handle is closed.
     *
     * @param name      how the log names it ("group on member")
     * @param silence   the leader's view of how long each follower has been silent; empty when not leading
     * @param threshold silence from which a member counts as down
     */
    static AutoCloseable watch(String name, Supplier<Map<String, Duration>> silence, Duration threshold) {
        Watched w = new Watched(name, silence, threshold);
        WATCHED.add(w);
        return () -> WATCHED.remove(w);
    }

    private static void tick() {
        for (Watched w : WATCHED) {
            try {
                Map<String, Duration> now = w.silence.get();
                for (Change c : changes(w.down, now, w.threshold)) {
                    if (c.down()) {
                        LOG.warn("journal {}: member {} stopped answering (silent {} ms); the leader retries it with backoff",
                                w.name, c.member(), c.silence().toMillis());
                    } else {
                        LOG.info("journal {}: member {} answers again", w.name, c.member());
                    }
                }
                w.down = down(now, w.threshold);
            } catch (RuntimeException e) {
                LOG.debug("peer watch of {} failed", w.name, e);
            }
        }
    }

    /** The members silent for at least the threshold. */
    static Set<String> down(Map<String, Duration> silence, Duration threshold) {
        Set<String> out = new TreeSet<>();
        silence.forEach((m, d) -> {
            if (d.compareTo(threshold) >= 0) {
                out.add(m);
            }
        });
        return out;
    }

    /**
     * What changed since {@code before}: members newly down, and members that answer again. A member the
     * leader no longer reports (this member stopped leading) is not "up": nothing is said about it.
     */
    static List<Change> changes(Set<String> before, Map<String, Duration> silence, Duration threshold) {
        Set<String> after = down(silence, threshold);
        List<Change> out = new ArrayList<>();
        for (String m : after) {
            if (!before.contains(m)) {
                out.add(new Change(m, true, silence.get(m)));
            }
        }
        for (String m : before) {
            if (!after.contains(m) && silence.containsKey(m)) {
                out.add(new Change(m, false, silence.get(m)));
            }
        }
        return out;
    }
}
