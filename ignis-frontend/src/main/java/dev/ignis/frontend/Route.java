package dev.ignis.frontend;

import java.util.ArrayList;
import java.util.List;

/**
 * A method and a path template such as {@code /2015-03-31/functions/{name}/aliases/{alias}}.
 * Matching works on the raw path; captured segments are percent-decoded.
 */
record Route(String method, String[] segments) {

    static Route of(String method, String template) {
        return new Route(method, split(template));
    }

    /** The captured parameters in order, or null when the request does not match. */
    List<String> match(String method, String rawPath) {
        return match(method, split(rawPath));
    }

    /** As {@link #match(String, String)}, with the path already split by {@link #split}. */
    List<String> match(String method, String[] actual) {
        if (!this.method.equals(method)) {
            return null;
        }
        if (actual.length != segments.length) {
            return null;
        }
        List<String> params = new ArrayList<>(2);
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith("{")) {
                params.add(ApiRequest.decode(actual[i]));
            } else if (!segments[i].equals(actual[i])) {
                return null;
            }
        }
        return params;
    }

    static String[] split(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.split("/");
    }
}
