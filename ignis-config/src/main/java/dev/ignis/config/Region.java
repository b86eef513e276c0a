package dev.ignis.config;

/** The region name Ignis reports in ARNs and to functions (AWS_REGION). One region per installation. */
public final class Region {
    public static final String NAME = System.getProperty("ignis.region", "us-east-1");

    private Region() {}
}
