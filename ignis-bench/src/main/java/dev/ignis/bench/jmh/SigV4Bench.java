package dev.ignis.bench.jmh;

import dev.ignis.bench.Signer;
import dev.ignis.frontend.ApiRequest;
import dev.ignis.frontend.ApiResponse;
import dev.ignis.frontend.LambdaApi;
import dev.ignis.frontend.SigV4Verifier;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The frontend's per-request work before the invoke path: SigV4 verification of an SDK-signed
 * Invoke, and the whole {@link LambdaApi#handle} (authenticate, route, answer) with an invoker
 * that does nothing — the request parsing and authentication cost of one invoke.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SigV4Bench {
    static final String KEY = "AKIGBENCHBENCHBENCH0";
    static final String SECRET = "bench/secret+with=odd/chars0123456789abc";

    @Param({"2", "262144"})
    public int payloadBytes;

    ApiRequest request;
    SigV4Verifier verifier;
    LambdaApi api;

    @Setup
    public void setup() {
        verifier = new SigV4Verifier(id -> id.equals(KEY) ? Optional.of(new SigV4Verifier.Caller("123456789012", KEY, SECRET)) : Optional.empty(),
                Clock.systemUTC());
        request = signedInvoke(payloadBytes);
        LambdaApi.Invoker nothing = (caller, fn, r, id) -> new ApiResponse(200, Map.of(), new byte[0]);
        api = new LambdaApi(verifier, null, new byte[32], Clock.systemUTC(), nothing, null, null);
    }

    static ApiRequest signedInvoke(int payloadBytes) {
        byte[] body = payloadBytes <= 2 ? "{}".getBytes(StandardCharsets.UTF_8) : "x".repeat(payloadBytes).getBytes(StandardCharsets.UTF_8);
        String path = "/2015-03-31/functions/noop/invocations";
        List<String> signed = new Signer(KEY, SECRET).sign("POST", "127.0.0.1", 9000, path, Map.of(), body);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("host", new ArrayList<>(List.of("127.0.0.1:9000")));
        for (int i = 0; i < signed.size(); i += 2) {
            headers.computeIfAbsent(signed.get(i).toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(signed.get(i + 1));
        }
        headers.put("content-length", List.of(Integer.toString(body.length)));
        return new ApiRequest("POST", path, null, headers, body);
    }

    @Benchmark
    public SigV4Verifier.Caller verify() {
        return verifier.verify(request);
    }

    @Benchmark
    public ApiResponse handleInvokeRequest() {
        return api.handle(request);
    }
}
