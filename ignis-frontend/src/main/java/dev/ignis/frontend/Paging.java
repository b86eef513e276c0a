package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Marker/MaxItems paging as the SDK paginators drive it (botocore's paginators-1.json: input token
 * {@code Marker}, output token {@code NextMarker}, limit {@code MaxItems}). The marker is the opaque
 * sort key of the last item returned, base64url-encoded behind a prefix so that it is never empty: a
 * paginator stops at a missing or empty {@code NextMarker}, so the last page has none and every
 * other page has a non-empty one. Items are listed in a stable order; a marker names a position in
 * it, so an item added or removed between pages does not make another one be skipped or repeated.
 */
final class Paging {
    static final int DEFAULT_MAX_ITEMS = 50;
    private static final String PREFIX = "m1.";

    private Paging() {}

    static <T> ApiResponse page(ApiRequest r, List<T> sorted, Function<T, String> sortKey, String field, Function<T, Object> shape) {
        int max = maxItems(r.query().get("MaxItems"));
        String after = after(r.query().get("Marker"));
        List<Object> items = new ArrayList<>();
        String last = null;
        boolean more = false;
        for (T t : sorted) {
            String k = sortKey.apply(t);
            if (after != null && k.compareTo(after) <= 0) {
                continue;
            }
            if (items.size() == max) {
                more = true;
                break;
            }
            items.add(shape.apply(t));
            last = k;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(field, items);
        if (more) {
            out.put("NextMarker", Base64.getUrlEncoder().withoutPadding().encodeToString((PREFIX + last).getBytes(StandardCharsets.UTF_8)));
        }
        return ApiResponse.json(200, out);
    }

    private static int maxItems(String maxItems) {
        if (maxItems == null) {
            return DEFAULT_MAX_ITEMS;
        }
        int max;
        try {
            max = Integer.parseInt(maxItems);
        } catch (NumberFormatException e) {
            throw LambdaException.invalidParameter("MaxItems must be a number from 1 to 10000");
        }
        if (max < 1 || max > 10000) {
            throw LambdaException.invalidParameter("MaxItems must be a number from 1 to 10000");
        }
        return max;
    }

    /** The sort key a marker names; null for none (absent or empty: the first page). */
    private static String after(String marker) {
        if (marker == null || marker.isEmpty()) {
            return null;
        }
        String key;
        try {
            key = new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw badMarker();
        }
        if (!key.startsWith(PREFIX)) {
            throw badMarker();
        }
        return key.substring(PREFIX.length());
    }

    private static LambdaException badMarker() {
        return LambdaException.invalidParameter("Marker is not one that this API returned");
    }
}
