package dev.ignis.config;

/** A layer's identity: its account and name (its versions are numbered 1, 2, ...). */
public record LayerKey(String accountId, String layerName) {

    /** {@code arn:aws:lambda:REGION:ACCOUNT:layer:NAME}, as Lambda names a layer. */
    public String arn() {
        return "arn:aws:lambda:" + Region.NAME + ":" + accountId + ":layer:" + layerName;
    }

    public String versionArn(long version) {
        return arn() + ":" + version;
    }
}
