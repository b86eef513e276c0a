package dev.ignis.config;

/** A function's identity: its account and name. */
public record FunctionKey(String accountId, String functionName) {}
