package dev.ignis.config;

/**
 * A layer version as a function configuration holds it: resolved when the function was configured,
 * so a function keeps its layers' content after a version is deleted (as in Lambda).
 *
 * @param unzippedSize what the layer adds to the function's 250 MB unzipped limit
 */
public record FunctionLayer(String arn, String codeSha256Hex, long codeSize, long unzippedSize) {}
