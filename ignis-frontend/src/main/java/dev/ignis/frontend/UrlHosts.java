package dev.ignis.frontend;

import dev.ignis.config.ConfigStore;
import dev.ignis.config.Region;
import java.util.Locale;

/**
 * Where function URLs live: {@code <url-id>.lambda-url.<region>.<domain>} on the frontend's port,
 * and the path fallback {@code /lambda-url/<url-id>/...} on the same port for setups without a
 * wildcard DNS name. The domain is {@code localhost} unless the environment variable
 * {@code IGNIS_URL_DOMAIN} (or the system property {@code ignis.url.domain}) says otherwise: every
 * {@code *.localhost} name resolves to the loopback without DNS (RFC 6761; curl and browsers do it).
 *
 * @param suffix {@code .lambda-url.<region>.<domain>}, lower case (computed once: every API request is looked at)
 */
record UrlHosts(String suffix) {
    static final String PATH_PREFIX = "/lambda-url/";

    static UrlHosts of(String domain) {
        return new UrlHosts(".lambda-url." + Region.NAME + "." + domain.toLowerCase(Locale.ROOT));
    }

    static UrlHosts fromSystem() {
        String env = System.getenv("IGNIS_URL_DOMAIN");
        return of(System.getProperty("ignis.url.domain", env == null || env.isBlank() ? "localhost" : env.strip()));
    }

    /**
     * The URL's address as CreateFunctionUrlConfig reports it: the port is the one the control-plane
     * request was sent to ({@code host}), so the address works from where the caller stands.
     */
    String url(String urlId, String host) {
        int colon = host == null ? -1 : host.lastIndexOf(':');
        String port = colon > 0 && host.indexOf(']') < colon ? host.substring(colon) : "";
        return "http://" + urlId + suffix + port + "/";
    }

    /** The URL id a Host header names, or null when it names none (an API request). */
    String idOfHost(String host) {
        if (host == null) {
            return null;
        }
        String h = host.toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        if (colon > 0 && h.indexOf(']') < colon) {
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (!h.endsWith(suffix)) {
            return null;
        }
        return h.substring(0, h.length() - suffix.length()); // checked by the caller: it may be anything
    }

    /** The URL id of a path-fallback request ({@code /lambda-url/<id>[/...]}), or null. */
    static String idOfPath(String rawPath) {
        if (!rawPath.startsWith(PATH_PREFIX)) {
            return null;
        }
        int end = rawPath.indexOf('/', PATH_PREFIX.length());
        return rawPath.substring(PATH_PREFIX.length(), end < 0 ? rawPath.length() : end);
    }

    /** The path the function sees: the whole path by host, the rest after the id on the fallback. */
    static String functionPath(String rawPath, boolean byPath) {
        if (!byPath) {
            return rawPath;
        }
        int end = rawPath.indexOf('/', PATH_PREFIX.length());
        return end < 0 ? "/" : rawPath.substring(end);
    }

    static boolean validId(String id) {
        return ConfigStore.isUrlId(id);
    }
}
