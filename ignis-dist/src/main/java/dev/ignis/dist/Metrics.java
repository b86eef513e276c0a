package dev.ignis.dist;

import dev.ignis.assignment.Assignment;
import dev.ignis.async.EventQueue;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * The platform's meters in Prometheus form, served at {@code GET /ignis-admin/metrics} (bearer:
 * the data directory's admin token): the async queue (depth, age of the oldest event, retries,
 * dead letters) and the sandbox table (idle, busy, cold and warm starts).
 */
final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    Metrics(EventQueue events, Assignment assignment) {
        queueGauge(events, "ignis.async.queue.depth", "events waiting or running", "depth");
        Gauge.builder("ignis.async.oldest.event.age", events, e -> number(e, "oldestEventAgeMillis") / 1000.0)
                .baseUnit("seconds").description("age of the oldest queued event").register(registry);
        queueCounter(events, "ignis.async.enqueued", "enqueued");
        queueCounter(events, "ignis.async.retries", "retries");
        queueCounter(events, "ignis.async.succeeded", "succeeded");
        queueCounter(events, "ignis.async.dead.lettered", "deadLettered");
        queueCounter(events, "ignis.async.failed.to.destination", "failedToDestination");
        sandboxGauge(assignment, "ignis.sandboxes.idle", s -> s.idle());
        sandboxGauge(assignment, "ignis.sandboxes.busy", s -> s.busy());
        FunctionCounter.builder("ignis.sandboxes.cold.starts", assignment, a -> a.stats().coldStarts()).register(registry);
        FunctionCounter.builder("ignis.sandboxes.warm.starts", assignment, a -> a.stats().warmStarts()).register(registry);
        FunctionCounter.builder("ignis.sandboxes.retired", assignment, a -> a.stats().retired()).register(registry);
    }

    String scrape() {
        return registry.scrape();
    }

    private void queueGauge(EventQueue events, String name, String description, String stat) {
        Gauge.builder(name, events, e -> number(e, stat)).description(description).register(registry);
    }

    private void queueCounter(EventQueue events, String name, String stat) {
        FunctionCounter.builder(name, events, e -> number(e, stat)).register(registry);
    }

    private void sandboxGauge(Assignment a, String name, ToDoubleFunction<Assignment.Stats> f) {
        Gauge.builder(name, a, x -> f.applyAsDouble(x.stats())).register(registry);
    }

    private static double number(EventQueue e, String stat) {
        return ((Number) e.stats().get(stat)).doubleValue();
    }
}
