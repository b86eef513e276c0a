package dev.ignis.worker;

import java.time.Duration;

/** A sandbox that a worker holds, ready for one invoke at a time. */
public record SandboxHandle(String sandboxId, String workerId, SandboxSpec spec, Duration initDuration) {}
