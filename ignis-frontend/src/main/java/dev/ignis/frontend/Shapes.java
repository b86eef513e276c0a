package dev.ignis.frontend;

import dev.ignis.config.Alias;
import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.FunctionConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/** AWS's JSON shapes for configuration objects (botocore's FunctionConfiguration, AliasConfiguration). */
final class Shapes {
    private Shapes() {}

    static Map<String, Object> configuration(FunctionConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        String arn = ConfigStore.functionArn(c.accountId(), c.functionName());
        m.put("FunctionName", c.functionName());
        m.put("FunctionArn", FunctionConfig.LATEST.equals(c.version()) ? arn : arn + ":" + c.version());
        m.put("Runtime", c.runtime());
        m.put("Role", c.role());
        m.put("Handler", c.handler());
        m.put("CodeSize", c.codeSize());
        m.put("Description", c.description());
        m.put("Timeout", c.timeout());
        m.put("MemorySize", c.memorySize());
        m.put("LastModified", c.lastModified());
        m.put("CodeSha256", new CodeStore.CodeRef(c.codeSha256Hex(), c.codeSize()).sha256Base64());
        m.put("Version", c.version());
        if (!c.environment().isEmpty()) {
            m.put("Environment", Map.of("Variables", c.environment()));
        }
        if (!c.layers().isEmpty()) {
            m.put("Layers", c.layers().stream().map(l -> Map.of("Arn", l.arn(), "CodeSize", l.codeSize())).toList());
        }
        m.put("TracingConfig", Map.of("Mode", "PassThrough"));
        m.put("RevisionId", c.revisionId());
        m.put("State", c.state());
        m.put("LastUpdateStatus", c.lastUpdateStatus());
        m.put("PackageType", "Zip");
        m.put("Architectures", c.architectures());
        m.put("EphemeralStorage", Map.of("Size", c.ephemeralStorageSize()));
        m.put("SnapStart", Map.of("ApplyOn", "None", "OptimizationStatus", "Off"));
        m.put("LoggingConfig", Map.of("LogFormat", "Text", "LogGroup", "/aws/lambda/" + c.functionName()));
        return m;
    }

    static Map<String, Object> alias(String accountId, String functionName, Alias a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("AliasArn", ConfigStore.functionArn(accountId, functionName) + ":" + a.name());
        m.put("Name", a.name());
        m.put("FunctionVersion", a.functionVersion());
        m.put("Description", a.description());
        if (!a.additionalVersionWeights().isEmpty()) {
            m.put("RoutingConfig", Map.of("AdditionalVersionWeights", a.additionalVersionWeights()));
        }
        m.put("RevisionId", a.revisionId());
        return m;
    }
}
