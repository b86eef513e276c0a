package dev.ignis.assignment.replicated;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Objects;

/**
 * A change to a partition's sandbox table, as written to the journal. Every value the change needs
 * (sandbox id, lease id, time) is chosen by the leader before the append, so replaying a record gives
 * the same result on every member, after every restart and after a snapshot load.
 *
 * <p>Records are facts about one sandbox; {@link SandboxTable#replay} ignores a record that does not
 * fit the sandbox's current state (a duplicate, or a release of a lease that is no longer current),
 * which makes replay idempotent.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "t")
@JsonSubTypes({
        @JsonSubTypes.Type(value = SandboxRecord.SandboxRequested.class, name = "requested"),
        @JsonSubTypes.Type(value = SandboxRecord.SandboxCreated.class, name = "created"),
        @JsonSubTypes.Type(value = SandboxRecord.SandboxCreateFailed.class, name = "create-failed"),
        @JsonSubTypes.Type(value = SandboxRecord.Leased.class, name = "leased"),
        @JsonSubTypes.Type(value = SandboxRecord.Released.class, name = "released"),
        @JsonSubTypes.Type(value = SandboxRecord.Retired.class, name = "retired"),
})
public sealed interface SandboxRecord {

    /** The sandbox the record is about. */
    String sandboxId();

    /** The leader's clock when it decided the change. */
    Instant at();

    /**
     * The leader asked placement for a sandbox and is about to ask {@code workerId} to create it:
     * written <em>before</em> the worker is called, so a new leader knows the attempt happened.
     */
    record SandboxRequested(String sandboxId, SandboxKey key, String workerId, int memoryMb, Instant at)
            implements SandboxRecord {
        public SandboxRequested {
            requireId(sandboxId, "sandboxId");
            Objects.requireNonNull(key, "key");
            requireId(workerId, "workerId");
            if (memoryMb <= 0) {
                throw new IllegalArgumentException("memoryMb must be positive: " + memoryMb);
            }
            Objects.requireNonNull(at, "at");
        }
    }

    /**
     * The worker created the sandbox and finished its init phase; it is idle.
     *
     * @param workerSandboxId the id the worker gave it (what {@code Worker.invoke/retire} take)
     */
    record SandboxCreated(String sandboxId, String workerSandboxId, Instant at) implements SandboxRecord {
        public SandboxCreated {
            requireId(sandboxId, "sandboxId");
            requireId(workerSandboxId, "workerSandboxId");
            Objects.requireNonNull(at, "at");
        }
    }

    /** The creation failed, or its outcome was lost with the leader that asked for it. */
    record SandboxCreateFailed(String sandboxId, String reason, Instant at) implements SandboxRecord {
        public SandboxCreateFailed {
            requireId(sandboxId, "sandboxId");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(at, "at");
        }
    }

    /**
     * An idle sandbox is leased to one invoke; applies only while the sandbox is idle, with a lease id
     * larger than any before, and when no current lease carries the same request id.
     *
     * @param requestId the acquirer's id for this acquire (null if it gave none): a retry of the same
     *                  acquire at a new leader adopts this lease instead of orphaning it
     */
    record Leased(String sandboxId, long leaseId, String requestId, Instant at) implements SandboxRecord {
        public Leased {
            requireId(sandboxId, "sandboxId");
            requireLease(leaseId);
            if (requestId != null) {
                requireId(requestId, "requestId");
            }
            Objects.requireNonNull(at, "at");
        }
    }

    /**
     * The invoke holding {@code leaseId} ended. Applies only while that lease is the sandbox's current
     * one. {@code reusable=false} retires the sandbox (timeout, crash, OOM, stale revision): carrying
     * the lease id makes that retirement as stale-proof as a normal release.
     */
    record Released(String sandboxId, long leaseId, boolean reusable, Instant at) implements SandboxRecord {
        public Released {
            requireId(sandboxId, "sandboxId");
            requireLease(leaseId);
            Objects.requireNonNull(at, "at");
        }
    }

    /** The sandbox is gone for good (keep-alive expired, stale revision, worker lost). Final. */
    record Retired(String sandboxId, String reason, Instant at) implements SandboxRecord {
        public Retired {
            requireId(sandboxId, "sandboxId");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(at, "at");
        }
    }

    /** The journal form of a record. */
    static byte[] encode(SandboxRecord record) {
        try {
            return Json.mapper().writeValueAsBytes(record);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + record, e);
        }
    }

    /** Reads a record written by {@link #encode}; a clear error for anything else. */
    static SandboxRecord decode(byte[] bytes) {
        try {
            return Json.mapper().readValue(bytes, SandboxRecord.class);
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("not a sandbox record: " + e.getMessage(), e);
        }
    }

    private static void requireId(String id, String what) {
        if (id == null || id.isBlank() || id.length() > 200) {
            throw new IllegalArgumentException(what + " must be a non-blank string of at most 200 chars: " + id);
        }
    }

    private static void requireLease(long leaseId) {
        if (leaseId <= 0) {
            throw new IllegalArgumentException("leaseId must be positive: " + leaseId);
        }
    }
}
