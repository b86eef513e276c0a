package dev.ignis.journal;

/**
 * The member asked to append is not its group's leader (nothing was appended); {@link #leaderHint()}
 * may name the one that is.
 */
public final class NotLeaderException extends dev.ignis.common.ElsewhereException {
    private final String leaderHint;

    public NotLeaderException(String leaderHint) {
        super("not the leader" + (leaderHint == null ? "" : "; leader is " + leaderHint));
        this.leaderHint = leaderHint;
    }

    public String leaderHint() { return leaderHint; }
}
