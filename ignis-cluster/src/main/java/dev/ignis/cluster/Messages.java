package dev.ignis.cluster;

import com.google.protobuf.ByteString;
import dev.ignis.assignment.SandboxKey;
import dev.ignis.cluster.rpc.InvokeMsg;
import dev.ignis.cluster.rpc.OutcomeMsg;
import dev.ignis.cluster.rpc.SandboxHandleMsg;
import dev.ignis.cluster.rpc.SandboxKeyMsg;
import dev.ignis.cluster.rpc.SandboxSpecMsg;
import dev.ignis.worker.InvokeOutcome;
import dev.ignis.worker.InvokeRequest;
import dev.ignis.worker.SandboxHandle;
import dev.ignis.worker.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;

/** Records ⇄ protobuf messages: the one place that knows both shapes. */
final class Messages {
    private Messages() {}

    static SandboxSpecMsg spec(SandboxSpec s) {
        return SandboxSpecMsg.newBuilder()
                .setAccountId(s.accountId()).setRegion(s.region()).setFunctionName(s.functionName())
                .setFunctionArn(s.functionArn()).setVersion(s.version()).setRevisionId(s.revisionId())
                .setRuntime(s.runtime()).setHandler(s.handler()).setMemoryMb(s.memoryMb())
                .setTimeoutSeconds(s.timeoutSeconds()).setEphemeralStorageMb(s.ephemeralStorageMb())
                .putAllEnvironment(s.environment()).setCodeDirectory(s.codeDirectory().toString())
                .setLayersDirectory(s.layersDirectory() == null ? "" : s.layersDirectory().toString())
                .build();
    }

    static SandboxSpec spec(SandboxSpecMsg m) {
        return new SandboxSpec(m.getAccountId(), m.getRegion(), m.getFunctionName(), m.getFunctionArn(), m.getVersion(),
                m.getRevisionId(), m.getRuntime(), m.getHandler(), m.getMemoryMb(), m.getTimeoutSeconds(),
                m.getEphemeralStorageMb(), m.getEnvironmentMap(), Path.of(m.getCodeDirectory()),
                m.getLayersDirectory().isEmpty() ? null : Path.of(m.getLayersDirectory()));
    }

    static SandboxHandleMsg handle(SandboxHandle h) {
        return SandboxHandleMsg.newBuilder().setSandboxId(h.sandboxId()).setWorkerId(h.workerId()).setSpec(spec(h.spec()))
                .setInitDurationNanos(h.initDuration() == null ? 0 : h.initDuration().toNanos()).build();
    }

    static SandboxHandle handle(SandboxHandleMsg m) {
        return new SandboxHandle(m.getSandboxId(), m.getWorkerId(), spec(m.getSpec()),
                m.getInitDurationNanos() == 0 ? null : Duration.ofNanos(m.getInitDurationNanos()));
    }

    static InvokeMsg invoke(String sandboxId, InvokeRequest r) {
        var b = InvokeMsg.newBuilder().setSandboxId(sandboxId).setRequestId(r.requestId())
                .setPayload(ByteString.copyFrom(r.payload())).setInvokedFunctionArn(r.invokedFunctionArn())
                .setTailLog(r.tailLog());
        if (r.clientContext() != null) {
            b.setClientContext(r.clientContext());
        }
        if (r.cognitoIdentity() != null) {
            b.setCognitoIdentity(r.cognitoIdentity());
        }
        return b.build();
    }

    static InvokeRequest invoke(InvokeMsg m) {
        return new InvokeRequest(m.getRequestId(), m.getPayload().toByteArray(), m.getInvokedFunctionArn(),
                m.hasClientContext() ? m.getClientContext() : null, m.hasCognitoIdentity() ? m.getCognitoIdentity() : null,
                m.getTailLog());
    }

    static OutcomeMsg outcome(InvokeOutcome o) {
        var b = OutcomeMsg.newBuilder().setStatus(o.status().name()).setPayload(ByteString.copyFrom(o.payload()))
                .setSandboxReusable(o.sandboxReusable()).setDurationNanos(o.duration() == null ? 0 : o.duration().toNanos());
        if (o.logTail() != null) {
            b.setLogTail(o.logTail());
        }
        if (o.initDuration() != null) {
            b.setInitDurationNanos(o.initDuration().toNanos());
        }
        return b.build();
    }

    static InvokeOutcome outcome(OutcomeMsg m) {
        return new InvokeOutcome(InvokeOutcome.Status.valueOf(m.getStatus()), m.getPayload().toByteArray(),
                m.hasLogTail() ? m.getLogTail() : null, m.getSandboxReusable(), Duration.ofNanos(m.getDurationNanos()),
                m.hasInitDurationNanos() ? Duration.ofNanos(m.getInitDurationNanos()) : null);
    }

    static SandboxKeyMsg key(SandboxKey k) {
        return SandboxKeyMsg.newBuilder().setAccountId(k.accountId()).setFunctionName(k.functionName())
                .setVersion(k.version()).setRevisionId(k.revisionId()).build();
    }

    static SandboxKey key(SandboxKeyMsg m) {
        return new SandboxKey(m.getAccountId(), m.getFunctionName(), m.getVersion(), m.getRevisionId());
    }
}
