package dev.ignis.async;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ignis.common.Json;
import dev.ignis.common.LambdaException;
import dev.ignis.journal.RatisJournal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AWS's async semantics with a fake clock: the queue runs on a real (single-peer Ratis) journal,
 * and the function is a scripted invoker, so every timing is exact and tests take milliseconds of
 * simulated minutes.
 */
class EventQueueTest {
    static final String ACCOUNT = "123456789012";
    @TempDir Path dir;
    final FakeClock clock = new FakeClock();
    /** function name → what it answers; records every invoke. */
    final Map<String, EventQueue.Kind> behaviour = new ConcurrentHashMap<>();
    final List<Event> invoked = Collections.synchronizedList(new ArrayList<>());
    EventQueue queue;

    EventQueue open() {
        return new EventQueue(sm -> RatisJournal.single("events", dir.resolve("journal"), sm), e -> {
            invoked.add(e);
            var kind = behaviour.getOrDefault(e.functionName(), EventQueue.Kind.SUCCESS);
            byte[] payload = kind == EventQueue.Kind.FUNCTION_ERROR
                    ? "{\"errorMessage\":\"boom\",\"errorType\":\"ValueError\"}".getBytes() : "{\"ok\":true}".getBytes();
            return new EventQueue.Result(kind, payload, "$LATEST");
        }, clock, EventQueue.Settings.aws());
    }

    @AfterEach
    void close() {
        if (queue != null) {
            queue.close();
        }
    }

    void enqueue(String id, String function, String payload) {
        queue.enqueue(id, ACCOUNT, function, null, payload.getBytes(StandardCharsets.UTF_8));
    }

    List<Event> invokesOf(String function) {
        synchronized (invoked) {
            return invoked.stream().filter(e -> e.functionName().equals(function)).toList();
        }
    }

    static String arn(String fn) {
        return "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:" + fn;
    }

    @Test
    void successRunsOnceAndGoesToTheSuccessDestination() throws Exception {
        queue = open();
        queue.putConfig(new Event.ConfigKey(ACCOUNT, "f", "$LATEST"), null, null, arn("on-success"), null, false);
        enqueue("r1", "f", "{\"n\":1}");
        assertThat(queue.runDue()).isEqualTo(1);
        assertThat(queue.runDue()).isEqualTo(1); // the destination's own event
        assertThat(invokesOf("f")).hasSize(1);
        JsonNode record = Json.mapper().readTree(invokesOf("on-success").getFirst().payload());
        assertThat(record.get("version").asText()).isEqualTo("1.0");
        assertThat(record.at("/requestContext/requestId").asText()).isEqualTo("r1");
        assertThat(record.at("/requestContext/condition").asText()).isEqualTo("Success");
        assertThat(record.at("/requestContext/functionArn").asText()).isEqualTo(arn("f") + ":$LATEST");
        assertThat(record.at("/requestContext/approximateInvokeCount").asInt()).isEqualTo(1);
        assertThat(record.at("/requestPayload/n").asInt()).isEqualTo(1);
        assertThat(record.at("/responseContext/statusCode").asInt()).isEqualTo(200);
        assertThat(record.at("/responsePayload/ok").asBoolean()).isTrue();
        assertThat(queue.pending()).isEmpty();
        assertThat(queue.stats()).containsEntry("succeeded", 2L).containsEntry("depth", 0);
    }

    @Test
    void functionErrorsRetryAfterOneThenTwoMinutesThenDeadLetter() throws Exception {
        queue = open();
        behaviour.put("f", EventQueue.Kind.FUNCTION_ERROR);
        enqueue("r1", "f", "{}");
        assertThat(queue.runDue()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(59));
        assertThat(queue.runDue()).as("not before a minute").isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(queue.runDue()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(119));
        assertThat(queue.runDue()).as("not before two more minutes").isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(queue.runDue()).isEqualTo(1);
        clock.advance(Duration.ofHours(1));
        assertThat(queue.runDue()).as("retries exhausted").isZero();
        assertThat(invokesOf("f")).hasSize(3).extracting(Event::requestId).containsOnly("r1");
        var dead = queue.deadLetter("r1").orElseThrow();
        assertThat(dead.condition()).isEqualTo("RetriesExhausted");
        assertThat(dead.event().attempts()).isEqualTo(3);
        assertThat(queue.stats()).containsEntry("retries", 2L).containsEntry("deadLettered", 1L);
    }

    @Test
    void zeroRetriesAndTheFailureDestination() throws Exception {
        queue = open();
        behaviour.put("f", EventQueue.Kind.FUNCTION_ERROR);
        queue.putConfig(new Event.ConfigKey(ACCOUNT, "f", "$LATEST"), 0, null, null, arn("on-failure"), false);
        enqueue("r1", "f", "{\"x\":1}");
        queue.runDue();
        queue.runDue();
        assertThat(invokesOf("f")).hasSize(1);
        JsonNode record = Json.mapper().readTree(invokesOf("on-failure").getFirst().payload());
        assertThat(record.at("/requestContext/condition").asText()).isEqualTo("RetriesExhausted");
        assertThat(record.at("/responseContext/functionError").asText()).isEqualTo("Unhandled");
        assertThat(record.at("/responsePayload/errorType").asText()).isEqualTo("ValueError");
        assertThat(queue.deadLetters()).isEmpty();
    }

    @Test
    void throttledEventsWaitWithBackoffUntilMaximumAge() throws Exception {
        queue = open();
        behaviour.put("f", EventQueue.Kind.THROTTLED);
        queue.putConfig(new Event.ConfigKey(ACCOUNT, "f", "$LATEST"), null, 60, null, arn("on-failure"), false);
        enqueue("r1", "f", "{}");   // never rejected: throttling makes the event wait
        int rounds = 0;
        while (!queue.pending().stream().filter(e -> e.requestId().equals("r1")).toList().isEmpty() && rounds++ < 100) {
            queue.runDue();
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(invokesOf("f").size()).as("backoff doubles: 1, 2, 4, 8, 16 s... within 60 s").isBetween(4, 7);
        queue.runDue();
        JsonNode record = Json.mapper().readTree(invokesOf("on-failure").getFirst().payload());
        assertThat(record.at("/requestContext/condition").asText()).isEqualTo("EventAgeExceeded");
        assertThat(queue.stats().get("retries")).isEqualTo((long) invokesOf("f").size() - 1);
    }

    @Test
    void eventsOlderThanTheMaximumAgeAreNotRun() throws Exception {
        queue = open();
        queue.putConfig(new Event.ConfigKey(ACCOUNT, "f", "$LATEST"), null, 60, null, null, false);
        enqueue("r1", "f", "{}");
        clock.advance(Duration.ofSeconds(61));
        queue.runDue();
        assertThat(invokesOf("f")).isEmpty();
        assertThat(queue.deadLetter("r1").orElseThrow().condition()).isEqualTo("EventAgeExceeded");
    }

    @Test
    void deadLettersCanBeRedriven() throws Exception {
        queue = open();
        behaviour.put("f", EventQueue.Kind.FUNCTION_ERROR);
        queue.putConfig(new Event.ConfigKey(ACCOUNT, "f", "$LATEST"), 0, null, null, null, false);
        enqueue("r1", "f", "{}");
        queue.runDue();
        assertThat(queue.deadLetters()).hasSize(1);
        behaviour.put("f", EventQueue.Kind.SUCCESS);
        queue.redrive("r1");
        assertThat(queue.deadLetters()).isEmpty();
        assertThat(queue.runDue()).isEqualTo(1);
        assertThat(invokesOf("f")).hasSize(2).extracting(Event::requestId).containsOnly("r1");
        assertThat(queue.pending()).isEmpty();
        assertThatThrownBy(() -> queue.redrive("r1")).isInstanceOf(LambdaException.class);
    }

    @Test
    void payloadLimitAndConfigLimits() {
        queue = open();
        assertThatThrownBy(() -> queue.enqueue("big", ACCOUNT, "f", null, new byte[1024 * 1024 + 1]))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(413));
        var key = new Event.ConfigKey(ACCOUNT, "f", "$LATEST");
        assertThatThrownBy(() -> queue.putConfig(key, 3, null, null, null, false)).isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> queue.putConfig(key, null, 59, null, null, false)).isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> queue.putConfig(key, null, 21_601, null, null, false)).isInstanceOf(LambdaException.class);
        assertThatThrownBy(() -> queue.putConfig(key, null, null, "arn:aws:sqs:us-east-1:123456789012:q", null, false))
                .isInstanceOf(LambdaException.class);
        assertThat(queue.pending()).isEmpty();
        assertThat(queue.config(key)).isEmpty();
    }

    @Test
    void queuedAndInterruptedEventsSurviveARestartWithTheirRequestIds() throws Exception {
        queue = open();
        behaviour.put("f", EventQueue.Kind.FUNCTION_ERROR);
        enqueue("r1", "f", "{}");
        enqueue("r2", "g", "{}");
        queue.runDue();            // r1 failed once and waits a minute; r2 succeeded
        enqueue("r3", "g", "{}");  // never started
        queue.close();
        queue = open();
        assertThat(queue.pending()).extracting(Event::requestId).containsExactlyInAnyOrder("r1", "r3");
        assertThat(queue.pending().stream().filter(e -> e.requestId().equals("r1")).findFirst().orElseThrow().attempts()).isEqualTo(1);
        behaviour.put("f", EventQueue.Kind.SUCCESS);
        clock.advance(Duration.ofMinutes(1));
        queue.runDue();
        assertThat(queue.pending()).isEmpty();
        assertThat(invokesOf("f")).extracting(Event::requestId).containsExactly("r1", "r1");
    }
}
