package dev.ignis.dist.bench;

import dev.ignis.config.FunctionName;
import dev.ignis.config.FunctionRequests;
import dev.ignis.dist.Platform;
import dev.ignis.testfunctions.TestFunctions;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Pattern;

/** The functions a benchmark deploys (from the fixture zips), and cold starts forced by new revisions. */
final class BenchFunctions {
    private static final Pattern INIT = Pattern.compile("Init Duration: ([0-9.]+) ms");
    private final Platform platform;
    private final String accountId;
    private final InvokeBench bench;
    private final HttpClient http = HttpClient.newHttpClient();

    BenchFunctions(Platform platform, String accountId, InvokeBench bench) {
        this.platform = platform;
        this.accountId = accountId;
        this.bench = bench;
    }

    void create(String name, String runtime, String fixture, String handler) {
        platform.config().createFunction(accountId, new FunctionRequests.Create(name, runtime, "arn:aws:iam::123456789012:role/bench",
                handler, "", 60, 1769, null, Map.of(), TestFunctions.zip(fixture), false, null, "Zip"));
    }

    /**
     * Median Init Duration (the platform's own record, from the Tail log) over cold starts forced by
     * a configuration change before each invoke: a new revision never reuses a sandbox.
     */
    double coldStartMs(String name, int runs) throws Exception {
        long[] nanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            platform.config().updateConfiguration(new FunctionName(accountId, name, null),
                    new FunctionRequests.UpdateConfiguration(null, null, null, "cold " + i, null, null, null, null, null));
            var r = http.send(bench.signed(platform.port(), "/2015-03-31/functions/" + name + "/invocations", "{}".getBytes(),
                    Map.of("X-Amz-Log-Type", "Tail")), HttpResponse.BodyHandlers.discarding());
            String log = new String(Base64.getDecoder().decode(r.headers().firstValue("X-Amz-Log-Result").orElse("")), StandardCharsets.UTF_8);
            var m = INIT.matcher(log);
            if (!m.find()) {
                throw new IllegalStateException("no Init Duration in the log of a cold start: " + log);
            }
            nanos[i] = (long) (Double.parseDouble(m.group(1)) * 1e6);
        }
        return new Latencies(nanos).p50();
    }
}
