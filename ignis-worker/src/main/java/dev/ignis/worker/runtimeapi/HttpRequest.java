package dev.ignis.worker.runtimeapi;

import java.util.Map;

/**
 * One parsed HTTP/1.1 request on a Runtime API connection.
 *
 * @param headers      header names lower-cased; a repeated header keeps its last value
 * @param body         the body, or an empty array when it was too large (see {@code bodyTooLarge})
 * @param bodyLimit    {@link #WHOLE}, or the limit the body exceeded: the caller's, or what the worker's
 *                     body budget could hold for it; the body was discarded, never buffered whole
 * @param keepAlive    the connection may carry another request afterwards
 */
record HttpRequest(String method, String path, Map<String, String> headers, byte[] body,
                   long bodyLimit, boolean keepAlive) {
    /** {@link #bodyLimit} of a request whose body was read whole. */
    static final long WHOLE = -1;

    boolean bodyTooLarge() {
        return bodyLimit != WHOLE;
    }

    String header(String lowerCaseName) {
        return headers.get(lowerCaseName);
    }
}
