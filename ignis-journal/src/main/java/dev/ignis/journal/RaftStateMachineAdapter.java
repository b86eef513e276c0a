package dev.ignis.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Ratis {@code StateMachine} that forwards committed entries to a {@link JournalStateMachine}.
 *
 * <p>Design note (KRaft's "all state changes go through replay"): leader, followers, restart and
 * snapshot install all reach the user's state through the same two calls, {@code apply} and
 * {@code restoreSnapshot}. Ratis calls {@link #applyTransaction} from its single StateMachineUpdater
 * thread in log order and takes snapshots on that same thread; leader notifications arrive on other
 * Ratis threads, so every call into the user's state machine is taken under one lock to keep the
 * "one thread at a time" promise of {@link JournalStateMachine}.
 *
 * <p>Snapshots use Ratis's {@link SimpleStateMachineStorage} layout:
 * {@code <group>/sm/snapshot.<term>_<index>} plus {@code snapshot.<term>_<index>.md5}, so Ratis can find
 * the latest one on restart, purge the log behind it, and ship it to a lagging follower.
 */
final class RaftStateMachineAdapter extends BaseStateMachine {

    private final JournalStateMachine target;
    private final RaftPeerId self;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final ReentrantLock lock = new ReentrantLock();
    /** Whether we last told the target it is leader; guarded by {@link #lock}. */
    private boolean reportedLeader;

    RaftStateMachineAdapter(JournalStateMachine target, RaftPeerId self) {
        this.target = target;
        this.self = self;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        // Ratis replays the log from getLastAppliedTermIndex()+1 after this returns.
        getLifeCycle().startAndTransition(() -> {
            storage.init(raftStorage);
            loadLatestSnapshot();
        }, IOException.class);
    }

    /** Ratis pauses us before it installs a snapshot received from the leader (lifecycle RUNNING → PAUSED). */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    /** Called after that install: the state jumps to the new snapshot (PAUSED → RUNNING). */
    @Override
    public void reinitialize() throws IOException {
        getLifeCycle().startAndTransition(this::loadLatestSnapshot, IOException.class);
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        final LogEntryProto entry = trx.getLogEntry();
        final byte[] record = entry.getStateMachineLogEntry().getLogData().toByteArray();
        lock.lock();
        try {
            target.apply(entry.getIndex(), record);
        } catch (RuntimeException e) {
            // The entry is committed on every member regardless; the index counts as applied so the
            // log keeps moving, and the appender learns about the failure through its future.
            return CompletableFuture.failedFuture(e);
        } finally {
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            lock.unlock();
        }
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    /**
     * Writes the target's image as of the last applied index. Runs on the StateMachineUpdater thread,
     * so no apply runs concurrently and the image matches the index in the file name.
     */
    @Override
    public long takeSnapshot() throws IOException {
        lock.lock();
        try {
            final TermIndex last = getLastAppliedTermIndex();
            if (last == null || last.getIndex() <= 0) {
                return -1;
            }
            final byte[] image = target.takeSnapshot();
            final Path file = storage.getSnapshotFile(last.getTerm(), last.getIndex()).toPath();
            final MD5Hash md5 = MD5Hash.newInstance(md5(image));
            final Path tmp = file.resolveSibling(file.getFileName() + ".writing");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(image));
                ch.force(true);
            }
            // The .md5 goes first: a crash before the rename leaves only a stray .md5, never a
            // snapshot file without its checksum.
            MD5FileUtil.saveMD5File(file.toFile(), md5);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(file.getParent());
            storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file, md5), last));
            return last.getIndex();
        } finally {
            lock.unlock();
        }
    }

    private void loadLatestSnapshot() throws IOException {
        final SingleFileSnapshotInfo info = storage.loadLatestSnapshot();
        if (info == null) {
            return;
        }
        final Path file = info.getFile().getPath();
        final byte[] image = Files.readAllBytes(file);
        final MD5Hash expected = info.getFile().getFileDigest();
        if (expected != null && !expected.equals(MD5Hash.newInstance(md5(image)))) {
            // Refuse to start from a damaged image rather than silently serving wrong state.
            throw new IOException("snapshot " + file + " does not match its .md5");
        }
        lock.lock();
        try {
            target.restoreSnapshot(image);
            setLastAppliedTermIndex(info.getTermIndex());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void notifyLeaderReady() {
        // Ready = the new leader's first entry of its term is applied, so its image is current.
        report(true);
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeaderId) {
        if (!self.equals(newLeaderId)) {
            report(false);
        }
    }

    @Override
    public void close() throws IOException {
        report(false);
        super.close();
    }

    private void report(boolean leader) {
        lock.lock();
        try {
            if (reportedLeader != leader) {
                reportedLeader = leader;
                target.leaderChanged(leader);
            }
        } finally {
            lock.unlock();
        }
    }

    private static byte[] md5(byte[] data) {
        final MessageDigest digest = MD5FileUtil.newMD5();
        return digest.digest(data);
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
