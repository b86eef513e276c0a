package dev.ignis.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One line per state change of a member, as its leader sees it (issue 19), never one per retry. */
class PeerWatchTest {
    private static final Duration DOWN = Duration.ofSeconds(1);

    private static Duration ms(long m) {
        return Duration.ofMillis(m);
    }

    @Test
    void aMemberGoingSilentIsReportedOnceAndItsReturnOnce() {
        Set<String> down = Set.of();
        // answering: nothing to say
        assertEquals(List.of(), PeerWatch.changes(down, Map.of("b", ms(40), "c", ms(35)), DOWN));
        // c silent past the threshold: one change
        var silent = Map.of("b", ms(40), "c", ms(1_200));
        assertEquals(List.of(new PeerWatch.Change("c", true, ms(1_200))), PeerWatch.changes(down, silent, DOWN));
        down = PeerWatch.down(silent, DOWN);
        assertEquals(Set.of("c"), down);
        // still silent, for minutes: nothing more, however many retries the leader makes
        for (long t = 2_000; t < 300_000; t += 500) {
            assertEquals(List.of(), PeerWatch.changes(down, Map.of("b", ms(30), "c", ms(t)), DOWN));
        }
        // it answers again: one change
        var back = Map.of("b", ms(30), "c", ms(20));
        assertEquals(List.of(new PeerWatch.Change("c", false, ms(20))), PeerWatch.changes(down, back, DOWN));
        assertEquals(Set.of(), PeerWatch.down(back, DOWN));
    }

    @Test
    void aLeaderThatStepsDownSaysNothingAboutMembersItNoLongerSees() {
        // a follower reports no silences: the member it called down is not declared back up
        assertEquals(List.of(), PeerWatch.changes(Set.of("c"), Map.of(), DOWN));
    }

    @Test
    void exactlyAtTheThresholdCountsAsDown() {
        assertEquals(List.of(new PeerWatch.Change("b", true, DOWN)), PeerWatch.changes(Set.of(), Map.of("b", DOWN), DOWN));
    }
}
