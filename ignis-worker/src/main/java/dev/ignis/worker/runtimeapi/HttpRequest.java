package dev.ignis.worker.runtimeapi;

import java.util.Map;

/**
 * One parsed HTTP/1.1 request on a Runtime API connection.
 *
 * @param headers      header names lower-cased; a repeated header keeps its last value
 * @param body         the body, or an empty array when it was too large (see {@code bodyTooLarge})
 * @param bodyTooLarge the body exceeded the limit; it was discarded, never buffered
 * @param keepAlive    the connection may carry another request afterwards
 */
record HttpRequest(String method, String path, Map<String, String> headers, byte[] body,
                   boolean bodyTooLarge, boolean keepAlive) {

    String header(String lowerCaseName) {
        return headers.get(lowerCaseName);
    }
}
