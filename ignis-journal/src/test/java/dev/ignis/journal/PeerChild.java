package dev.ignis.journal;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Child JVM for {@link KilledPeersTest}: one member of a three-peer journal group in its own process, so
 * the parent can SIGKILL or SIGSTOP it for real. Arguments: group, own id, peers as
 * {@code n1=host:port,n2=...}, storage directory.
 *
 * <p>Reads commands on stdin, one per line, and answers on stdout, one line each under System.out's lock:
 * {@code APPEND <record>} → {@code ACK <record> <index>} once committed and applied here, or
 * {@code FAIL <record> <exception class>}; {@code DUMP} → {@code DUMP <n> <record,record,...>} (what this
 * member has applied, in order); {@code LEADS} → {@code LEADS true|false} (leads and is ready for appends). Leadership changes print {@code LEADER true|false}.
 */
public final class PeerChild {

    public static void main(String[] args) throws Exception {
        final Map<String, InetSocketAddress> peers = new TreeMap<>();
        for (String peer : args[2].split(",")) {
            final String[] idAddress = peer.split("=");
            final String[] hostPort = idAddress[1].split(":");
            peers.put(idAddress[0], new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
        }
        final RecordingStateMachine machine = new RecordingStateMachine() {
            @Override
            public synchronized void leaderChanged(boolean isLeader) {
                super.leaderChanged(isLeader);
                say("LEADER " + isLeader);
            }
        };
        final RatisJournal journal = RatisJournal.open(
                new JournalConfig(args[0], args[1], peers, Path.of(args[3])).withAutoSnapshotEvery(0)
                        // The test is about crashes and pauses, not election speed: a timeout that a 2-core box
                        // running several builds does not trip by itself keeps leadership from churning meanwhile.
                        .withElectionTimeout(java.time.Duration.ofSeconds(1)), machine, properties -> {
                    // A/B of the leader's retry wait (KilledPeersTest passes -Djournal.appenderRetryPolicy through)
                    final String retry = System.getProperty("journal.appenderRetryPolicy");
                    if (retry != null) {
                        org.apache.ratis.server.RaftServerConfigKeys.Log.Appender.setRetryPolicy(properties, retry);
                    }
                });
        say("READY");
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("APPEND ")) {
                final String record = line.substring("APPEND ".length());
                journal.append(record.getBytes(StandardCharsets.UTF_8)).whenComplete((index, error) -> say(
                        error == null ? "ACK " + record + " " + index : "FAIL " + record + " " + RatisJournalErrors.name(error)));
            } else if (line.equals("LEADS")) {
                say("LEADS " + journal.awaitLeader(java.time.Duration.ZERO));
            } else if (line.equals("DUMP")) {
                say("DUMP " + machine.size() + " " + String.join(",", machine.records()));
            }
        }
        journal.close();
    }

    private static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }

    /** The innermost cause's class name: what a deposed leader's append failed with. */
    private static final class RatisJournalErrors {
        static String name(Throwable t) {
            while (t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            return t.getClass().getSimpleName();
        }
    }

    private PeerChild() {}
}
