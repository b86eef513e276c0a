package dev.ignis.dist;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The platform's own log format, chosen at start ({@code --log-format}, env {@code IGNIS_LOG_FORMAT}):
 * {@code text} (the default, {@code logback.xml}) or {@code json} ({@code logback-json.xml}: one JSON
 * object per line, with the request id, account and function of the request being served; Helidon's
 * {@code java.util.logging} records are routed into it too).
 */
enum LogFormat {
    TEXT("/logback.xml"), JSON("/logback-json.xml");

    private final String resource;

    LogFormat(String resource) {
        this.resource = resource;
    }

    /** The format named {@code text} or {@code json} (any case); null or empty: text. */
    static LogFormat parse(String name) {
        if (name == null || name.isBlank()) {
            return TEXT;
        }
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "text" -> TEXT;
            case "json" -> JSON;
            default -> throw new IllegalArgumentException("--log-format must be text or json, not " + name.strip());
        };
    }

    /** Reconfigures the process's logging in this format, from here on ({@code text}: as configured at start). */
    void apply() {
        if (this == TEXT) {
            return; // logback.xml is read at start already (or whatever -Dlogback.configurationFile names)
        }
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // not logback (a test harness's binding): nothing to choose
        }
        var configurator = new JoranConfigurator();
        configurator.setContext(context);
        context.reset();
        try {
            configurator.doConfigure(LogFormat.class.getResource(resource));
        } catch (JoranException e) {
            throw new IllegalStateException("cannot configure logging from " + resource, e);
        }
        // Helidon logs through java.util.logging, whose own handler would print text lines among the JSON ones
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
    }
}
