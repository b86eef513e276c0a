package dev.ignis.frontend;

import dev.ignis.common.LambdaException;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionName;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Code signing configurations (the 2020-04-22 and 2020-06-30 APIs). Ignis does not verify code
 * signatures, so no function has a code signing config: GetFunctionCodeSigningConfig answers as
 * Lambda does for such a function (an empty {@code CodeSigningConfigArn}; Terraform reads it after
 * every create), and every operation that would create or attach one is refused with a message
 * saying why, rather than accepted and silently not enforced.
 */
final class CodeSigningApi {
    private final ConfigStore config;

    CodeSigningApi(ConfigStore config) {
        this.config = config;
    }

    ApiResponse getFunctionConfig(String account, String name) {
        var fn = FunctionName.parse(name, account);
        config.function(fn.key());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("CodeSigningConfigArn", "");
        out.put("FunctionName", fn.name());
        return ApiResponse.json(200, out);
    }

    /** Put/DeleteFunctionCodeSigningConfig: the function must exist (404 first, as Lambda checks), then the refusal. */
    ApiResponse refuseForFunction(String account, String name) {
        var fn = FunctionName.parse(name, account);
        config.function(fn.key());
        throw refusal();
    }

    ApiResponse refuseCreate() {
        throw refusal();
    }

    private static LambdaException refusal() {
        return LambdaException.invalidParameter("Ignis does not verify code signatures: code signing configurations cannot be "
                + "created or attached to functions, and no function has one");
    }
}
