package dev.ignis.runtimes.training;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The function run once at install time to train a JDK's class-data-sharing archive for AWS's
 * runtime interface client: the first event walks the normal invoke path (JSON in, context,
 * JSON out); an event {@code {"exit": true}} ends the JVM normally so the archive is written.
 *
 * <p>Never loaded by Ignis itself (its interface comes from aws-lambda-java-core, which only
 * exists inside the java runtime); the catalog copies this class file into a training task root.
 */
public class TrainingHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        if (Boolean.TRUE.equals(event.get("exit"))) {
            System.exit(0);
        }
        Map<String, Object> out = new LinkedHashMap<>(event);
        out.put("requestId", context.getAwsRequestId());
        out.put("remaining", context.getRemainingTimeInMillis());
        context.getLogger().log("training invoke\n");
        return out;
    }
}
