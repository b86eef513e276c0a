package dev.ignis.config;

import java.time.Instant;

/** A tenant: owns functions and access keys. {@code accountId} is 12 digits, as on AWS. */
public record Account(String accountId, String name, Instant created) {}
