package dev.ignis.dist;

import dev.ignis.assignment.Assignment;
import dev.ignis.async.EventQueue;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * The platform's meters in Prometheus form, served at {@code GET /ignis-admin/metrics} (bearer:
 * the data directory's admin token): Lambda's invoke metrics ({@code InvokeMetrics}, recorded by the
 * invoke path into {@link #registry()}), the async queue (depth, age of the oldest event, retries,
 * dead letters, {@code AsyncEventsDropped}) and the sandbox table (idle, busy, cold and warm starts).
 * Meters are read when scraped, never on the invoke path.
 */
final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private volatile Assignment sandboxes;
    private volatile MultiGauge byWorker;
    /** Read once per scrape (the journal's table is walked once), then by each cause's counter. */
    private volatile Map<Assignment.RetireCause, Long> retirements = Map.of();

    /** A registry with no platform meters yet (a cluster frontend's: only its invoke path records). */
    Metrics() {}

    Metrics(EventQueue events, Assignment assignment) {
        watch(events, assignment);
    }

    /** Where the invoke path's meters go. */
    io.micrometer.core.instrument.MeterRegistry registry() {
        return registry;
    }

    /** Adds the async queue's and the sandbox table's meters (either may be null). */
    Metrics watch(EventQueue events, Assignment assignment) {
        if (events != null) {
            watchEvents(events);
        }
        if (assignment != null) {
            watchSandboxes(assignment);
        }
        return this;
    }

    private void watchEvents(EventQueue events) {
        queueGauge(events, "ignis.async.queue.depth", "events waiting or running", "depth");
        Gauge.builder("ignis.async.oldest.event.age", events, e -> number(e, "oldestEventAgeMillis") / 1000.0)
                .baseUnit("seconds").description("age of the oldest queued event").register(registry);
        queueCounter(events, "ignis.async.enqueued", "enqueued");
        queueCounter(events, "ignis.async.retries", "retries");
        queueCounter(events, "ignis.async.succeeded", "succeeded");
        queueCounter(events, "ignis.async.dead.lettered", "deadLettered");
        queueCounter(events, "ignis.async.failed.to.destination", "failedToDestination");
        // Lambda's AsyncEventsDropped: events that ended without a successful invoke (to the OnFailure destination or the dead letters)
        FunctionCounter.builder("lambda.async.events.dropped", events, e -> number(e, "deadLettered") + number(e, "failedToDestination"))
                .description("async events that ended without a successful invoke").register(registry);
    }

    private void watchSandboxes(Assignment assignment) {
        sandboxes = assignment;
        byWorker = MultiGauge.builder("ignis.sandboxes").description("live sandboxes per worker and state").register(registry);
        for (Assignment.RetireCause cause : Assignment.RetireCause.values()) {
            FunctionCounter.builder("ignis.sandboxes.retirements", this, m -> m.retirements.getOrDefault(cause, 0L))
                    .description("sandboxes retired, by cause").tag("cause", cause.label()).register(registry);
        }
        sandboxGauge(assignment, "ignis.sandboxes.idle", s -> s.idle());
        sandboxGauge(assignment, "ignis.sandboxes.busy", s -> s.busy());
        FunctionCounter.builder("ignis.sandboxes.cold.starts", assignment, a -> a.stats().coldStarts()).register(registry);
        FunctionCounter.builder("ignis.sandboxes.warm.starts", assignment, a -> a.stats().warmStarts()).register(registry);
        FunctionCounter.builder("ignis.sandboxes.retired", assignment, a -> a.stats().retired()).register(registry);
    }

    String scrape() {
        Assignment a = sandboxes;
        if (a != null) {
            // per worker and state: the rows are the workers and states there are now (workers are the operator's, few)
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            a.sandboxesByWorker().forEach((worker, states) -> states.forEach((state, n) ->
                    rows.add(MultiGauge.Row.of(Tags.of("worker", worker, "state", state), n))));
            byWorker.register(rows, true);
            retirements = a.retirementsByCause();
        }
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
