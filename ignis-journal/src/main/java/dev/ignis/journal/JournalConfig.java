package dev.ignis.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * How to open one member of a replicated journal group.
 *
 * @param groupName         stable name of the group; the Raft group id is derived from it, so a restart
 *                          with the same name re-opens the same group and the same on-disk log
 * @param selfId            this member's id; must be a key of {@code peers}
 * @param peers             every member of the group (id → address its Raft RPC server listens on)
 * @param storageDir        this member's private directory (log segments, snapshots, Raft metadata)
 * @param autoSnapshotEvery take a snapshot after this many applied entries (and on close);
 *                          {@code 0} disables automatic snapshots, leaving only {@link Journal#snapshot()}
 * @param electionTimeout   lower bound of the randomized follower election timeout (upper bound is twice
 *                          it); smaller means faster failover but more spurious elections under load
 */
public record JournalConfig(String groupName, String selfId, Map<String, InetSocketAddress> peers,
                            Path storageDir, long autoSnapshotEvery, Duration electionTimeout) {

    /** Id of the only member of a {@link #singlePeer} group. */
    public static final String SINGLE_PEER_ID = "self";
    /** Snapshot cadence used unless told otherwise. */
    public static final long DEFAULT_AUTO_SNAPSHOT_EVERY = 10_000;
    /** Ratis's own default lower bound; fine on a LAN. */
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofMillis(150);

    // Ids end up in log entries, file names of tests and error messages: keep them boring.
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public JournalConfig {
        Objects.requireNonNull(groupName, "groupName");
        Objects.requireNonNull(selfId, "selfId");
        Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(storageDir, "storageDir");
        Objects.requireNonNull(electionTimeout, "electionTimeout");
        if (!ID.matcher(groupName).matches()) {
            throw new IllegalArgumentException("groupName must match " + ID + ": " + groupName);
        }
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("a group needs at least one peer");
        }
        for (var e : peers.entrySet()) {
            if (e.getKey() == null || !ID.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("peer id must match " + ID + ": " + e.getKey());
            }
            if (e.getValue() == null || e.getValue().getPort() <= 0) {
                throw new IllegalArgumentException("peer " + e.getKey() + " needs an address with a port");
            }
        }
        if (!peers.containsKey(selfId)) {
            throw new IllegalArgumentException("selfId " + selfId + " is not one of the peers " + peers.keySet());
        }
        if (autoSnapshotEvery < 0) {
            throw new IllegalArgumentException("autoSnapshotEvery must be >= 0: " + autoSnapshotEvery);
        }
        if (electionTimeout.toMillis() < 10 || electionTimeout.toMillis() > 60_000) {
            throw new IllegalArgumentException("electionTimeout must be within 10 ms .. 60 s: " + electionTimeout);
        }
        // Sorted so every member builds the same peer list from the same map.
        peers = Collections.unmodifiableMap(new TreeMap<>(peers));
    }

    /** A config with the default snapshot cadence and election timeout. */
    public JournalConfig(String groupName, String selfId, Map<String, InetSocketAddress> peers, Path storageDir) {
        this(groupName, selfId, peers, storageDir, DEFAULT_AUTO_SNAPSHOT_EVERY, DEFAULT_ELECTION_TIMEOUT);
    }

    /**
     * A one-member group whose only peer ({@link #SINGLE_PEER_ID}) listens on a free loopback port.
     * The port may differ between restarts; a lone member never dials its own recorded address.
     */
    public static JournalConfig singlePeer(String groupName, Path storageDir) {
        final int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
        return new JournalConfig(groupName, SINGLE_PEER_ID,
                Map.of(SINGLE_PEER_ID, new InetSocketAddress(InetAddress.getLoopbackAddress(), port)), storageDir);
    }

    public JournalConfig withAutoSnapshotEvery(long entries) {
        return new JournalConfig(groupName, selfId, peers, storageDir, entries, electionTimeout);
    }

    public JournalConfig withElectionTimeout(Duration timeout) {
        return new JournalConfig(groupName, selfId, peers, storageDir, autoSnapshotEvery, timeout);
    }

    /** The Raft group id: a name-based UUID, identical on every member and across restarts. */
    public UUID groupUuid() {
        return UUID.nameUUIDFromBytes(("ignis-journal/" + groupName).getBytes(StandardCharsets.UTF_8));
    }

    /** This member's own address. */
    public InetSocketAddress selfAddress() {
        return peers.get(selfId);
    }
}
