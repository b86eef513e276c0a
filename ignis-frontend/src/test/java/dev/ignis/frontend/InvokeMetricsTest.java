package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.assignment.SandboxKey;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The meters' cap, their reuse on the hot path, and label values a tenant chose. */
class InvokeMetricsTest {
    /** One sample line of the Prometheus text format: a name, labels with escaped values, a number. */
    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\[\"\\\\n])*\",?)*})? -?[0-9.eE+-]+|[-+]Inf|NaN");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    private InvokeMetrics metrics(int cap) {
        return new InvokeMetrics(registry, cap, fn -> 0, a -> 0, a -> 0);
    }

    @Test
    void beyondTheCapFunctionsShareTheirAccountsOtherSeries() {
        var m = metrics(2);
        for (int i = 0; i < 50; i++) {
            var meters = m.of(new SandboxKey("111111111111", "fn" + i, "$LATEST", "r"));
            m.ran(meters, Duration.ofMillis(3), null, false);
        }
        String text = registry.scrape();
        assertThat(text).contains("function=\"fn0\"", "function=\"fn1\"").doesNotContain("function=\"fn2\"");
        assertThat(registry.get("lambda.invocations").tag("function", InvokeMetrics.OTHER).tag("account", "111111111111")
                .counter().count()).isEqualTo(48);
        // two own series, the account's other series and the global other series: the count stays put however many functions come
        assertThat(registry.find("lambda.invocations").counters()).hasSize(4);
        assertThat(registry.find("lambda.concurrent.executions").gauges()).hasSize(2);
    }

    @Test
    void aVersionsMetersAreResolvedOnceAndReusedAcrossRevisions() {
        var m = metrics(10);
        var first = m.of(new SandboxKey("111111111111", "f", "$LATEST", "r1"));
        assertThat(m.of(new SandboxKey("111111111111", "f", "$LATEST", "r1"))).isSameAs(first);
        assertThat(m.of(new SandboxKey("111111111111", "f", "$LATEST", "r2"))).isSameAs(first);
        assertThat(m.of(new SandboxKey("111111111111", "f", "1", "r1"))).isNotSameAs(first);
    }

    @Test
    void labelValuesCannotBreakTheTextFormat() {
        var m = metrics(10);
        // valid function names are [A-Za-z0-9_-]; the meters must hold even if a name reached them unchecked
        String hostile = "x\"} 1\nlambda_invocations_total{account=\"999999999999\",function=\"victim\\";
        m.ran(m.of(new SandboxKey("111111111111", hostile, "$LATEST", "r")), Duration.ofMillis(1), Duration.ofMillis(5), true);
        m.ran(m.of(new SandboxKey("111111111111", "lambda_invocations_total", "$LATEST", "r")), Duration.ofMillis(1), null, false);
        String text = registry.scrape();
        for (String line : text.split("\n")) {
            if (!line.startsWith("#") && !line.isEmpty()) {
                assertThat(line).matches(SAMPLE);
            }
        }
        assertThat(text).doesNotContain("account=\"999999999999\"");
        assertThat(registry.find("lambda.invocations").counters()).hasSize(3); // the two functions and the global other series
    }

    @Test
    void noRegistryMeansNoMeters() {
        var m = InvokeMetrics.NONE;
        var meters = m.of(new SandboxKey("111111111111", "f", "$LATEST", "r"));
        m.ran(meters, Duration.ofMillis(1), null, true);
        m.throttled(meters);
        assertThat(meters).isNull();
    }
}
