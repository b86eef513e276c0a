package dev.ignis.chunk;

import java.util.regex.Pattern;

/**
 * Who owns an ingested object: an account and, for function layers, a function name.
 * Shared ({@code os}/{@code runtime}) layers are owned by {@link #SHARED}.
 */
public record Owner(String account, String function) {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_.:\\-]{1,128}");

    /** The owner of shared, convergently encrypted layers. */
    public static final Owner SHARED = new Owner("shared", "-");

    public Owner {
        if (account == null || !SAFE.matcher(account).matches()) {
            throw new IllegalArgumentException("invalid account id: " + account);
        }
        if (function == null || !SAFE.matcher(function).matches()) {
            throw new IllegalArgumentException("invalid function name: " + function);
        }
    }

    /** Parses {@code arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]}. */
    public static Owner ofArn(String arn) {
        String[] p = arn == null ? new String[0] : arn.split(":");
        if (p.length < 7 || !"arn".equals(p[0]) || !"function".equals(p[5])) {
            throw new IllegalArgumentException(
                    "not a function ARN: '" + arn + "' (expected arn:aws:lambda:REGION:ACCOUNT:function:NAME)");
        }
        return new Owner(p[4], p[6]);
    }

    /** Associated data binding a function's data key to its owner. */
    byte[] bindingBytes() {
        return (account + "/" + function).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
