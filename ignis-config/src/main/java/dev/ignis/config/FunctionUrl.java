package dev.ignis.config;

import java.util.List;

/**
 * A function URL (the 2021-10-31 API): a dedicated HTTP endpoint for the function (qualifier null)
 * or for one alias (or {@code $LATEST}). The id is the host's first label,
 * {@code <urlId>.lambda-url.<region>.<domain>}; it is random, chosen once at creation and kept by
 * every update, as Lambda keeps a URL's address.
 *
 * @param authType     {@code NONE} (anyone, if the resource policy grants it publicly) or {@code AWS_IAM} (SigV4-signed)
 * @param cors         null when the URL answers no CORS (the function then sees OPTIONS requests itself)
 * @param invokeMode   {@code BUFFERED} or {@code RESPONSE_STREAM}
 * @param creationTime and {@code lastModifiedTime}: ISO-8601 instants, as Lambda reports them
 */
public record FunctionUrl(String urlId, String qualifier, String authType, Cors cors, String invokeMode,
                          String creationTime, String lastModifiedTime) {
    public static final String AUTH_NONE = "NONE";
    public static final String AUTH_IAM = "AWS_IAM";
    public static final String BUFFERED = "BUFFERED";
    public static final String RESPONSE_STREAM = "RESPONSE_STREAM";

    /**
     * Lambda's Cors shape. Every value is checked at the API ({@link FunctionUrls}) to be printable
     * ASCII, because the platform echoes them in response headers.
     */
    public record Cors(Boolean allowCredentials, List<String> allowHeaders, List<String> allowMethods, List<String> allowOrigins,
                       List<String> exposeHeaders, Integer maxAge) {
        public Cors {
            allowHeaders = allowHeaders == null ? List.of() : List.copyOf(allowHeaders);
            allowMethods = allowMethods == null ? List.of() : List.copyOf(allowMethods);
            allowOrigins = allowOrigins == null ? List.of() : List.copyOf(allowOrigins);
            exposeHeaders = exposeHeaders == null ? List.of() : List.copyOf(exposeHeaders);
        }
    }

    /** The policies and urls key of this URL's qualifier. */
    public String key() {
        return qualifier == null ? FunctionEntry.UNQUALIFIED : qualifier;
    }
}
