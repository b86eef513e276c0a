package dev.ignis.journal;

import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;

/**
 * Test bridge into {@code RatisJournal}'s package-private settings hook (as ignis-journal's own
 * tests use it): tiny log segments and no purge gap, so a snapshot really deletes the log behind it
 * and a member with an empty disk can only catch up through the snapshot Ratis ships.
 */
public final class SmallSegmentJournals {
    private SmallSegmentJournals() {}

    public static RatisJournal open(JournalConfig config, JournalStateMachine sm) {
        return RatisJournal.open(config, sm, p -> {
            RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("4KB"));
            RaftServerConfigKeys.Log.setPurgeGap(p, 1);
        });
    }
}
