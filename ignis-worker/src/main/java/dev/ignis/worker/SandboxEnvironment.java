package dev.ignis.worker;

import dev.ignis.runtimes.RuntimeDefinition;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The environment of a sandbox's runtime process. Precedence, lowest first: Ignis defaults, the
 * runtime's variables, the function's own variables, then Lambda's reserved variables — so a
 * function can never redirect {@code AWS_LAMBDA_RUNTIME_API} or claim another name.
 *
 * <p>It reaches the runtime only, inside the sandbox ({@code SandboxLauncher.Ready#runtimeMessage}):
 * the processes of the start path that run on the host (the launcher, bwrap) get a fixed environment
 * of their own, so the loader's variables ({@code LD_PRELOAD}, {@code LD_LIBRARY_PATH}, ...) are the
 * function's to set, as on Lambda, and change its runtime only.
 */
public final class SandboxEnvironment {
    private SandboxEnvironment() {}

    public static Map<String, String> of(SandboxSpec spec, RuntimeDefinition rt, String logStream, String runtimeApi) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin:/opt/bin");
        env.put("LANG", "C.UTF-8");
        env.put("HOME", "/tmp");
        env.putAll(rt.environment());
        env.putAll(spec.environment());
        env.put("AWS_LAMBDA_RUNTIME_API", runtimeApi);
        env.put("_HANDLER", spec.handler() == null ? "" : spec.handler());
        env.put("LAMBDA_TASK_ROOT", "/var/task");
        env.put("PWD", "/var/task"); // the runtime's working directory (ignis-sandbox-exec --await enters it)
        env.put("LAMBDA_RUNTIME_DIR", "/var/runtime");
        env.put("AWS_LAMBDA_FUNCTION_NAME", spec.functionName());
        env.put("AWS_LAMBDA_FUNCTION_VERSION", spec.version());
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(spec.memoryMb()));
        env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + spec.functionName());
        env.put("AWS_LAMBDA_LOG_STREAM_NAME", logStream);
        env.put("AWS_REGION", spec.region());
        env.put("AWS_DEFAULT_REGION", spec.region());
        env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        env.put("TZ", ":UTC");
        for (var e : env.entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0 || e.getKey().indexOf('\0') >= 0
                    || e.getValue().indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid environment variable name or value: " + e.getKey());
            }
        }
        return env;
    }
}
