package dev.ignis.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ignis.common.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The report of one `ignis bench` run: every phase's percentiles, the overhead over the floor as a
 * difference and a ratio, and the latency picture (PNG, also embedded in the HTML). Written as
 * JSON (for tools and A/B), HTML and PNG next to each other.
 *
 * @param picture    phases whose warm and cold latencies make the histogram of the picture
 * @param curves     throughput vs concurrency, one curve per target
 * @param comparisons rows "Ignis vs floor" (or "B vs A"): the same metric measured in the same run
 */
public record Report(String scenario, String command, String machine, String date, List<PhaseResult> phases,
                     List<Comparison> comparisons, List<String> picture, List<Curve> curves, List<String> notes) {

    /** One metric of a subject beside its reference: difference and ratio. */
    public record Comparison(String subject, String reference, String metric, double value, double referenceValue, String unit) {
        public double difference() {
            return value - referenceValue;
        }

        public double ratio() {
            return value / referenceValue;
        }
    }

    /** Requests per second by client count for one target. */
    public record Curve(String label, List<double[]> points) {}

    static final double[] PERCENTILES = {50, 90, 99, 99.9, 100};

    /** Writes {@code <dir>/<scenario>.json}, {@code .png} and {@code .html}. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(scenario + ".json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(json()));
        byte[] png = LatencyChart.png(this);
        Files.write(dir.resolve(scenario + ".png"), png);
        Files.writeString(dir.resolve(scenario + ".html"), html(png));
    }

    ObjectNode json() {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("scenario", scenario).put("command", command).put("machine", machine).put("date", date);
        ArrayNode ps = root.putArray("phases");
        for (PhaseResult p : phases) {
            ObjectNode n = ps.addObject();
            n.put("name", p.name()).put("target", p.target()).put("clients", p.clients()).put("rate", p.rate())
                    .put("requests", p.count()).put("errors", p.errors()).put("seconds", p.seconds()).put("perSecond", p.perSecond());
            if (p.firstError() != null) {
                n.put("firstError", p.firstError());
            }
            n.set("allMs", percentiles(p.all()));
            n.set("warmMs", percentiles(p.warm()));
            n.set("coldMs", percentiles(p.cold()));
            n.set("initDurationMs", percentiles(p.init()));
            n.set("signingMs", percentiles(p.signing()));
        }
        ArrayNode cs = root.putArray("comparisons");
        for (Comparison c : comparisons) {
            cs.addObject().put("subject", c.subject()).put("reference", c.reference()).put("metric", c.metric()).put("value", c.value())
                    .put("referenceValue", c.referenceValue()).put("difference", c.difference()).put("ratio", c.ratio()).put("unit", c.unit());
        }
        ArrayNode notesNode = root.putArray("notes");
        notes.forEach(notesNode::add);
        return root;
    }

    private static ObjectNode percentiles(Histogram h) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("count", h.getTotalCount());
        if (h.getTotalCount() > 0) {
            for (double p : PERCENTILES) {
                n.put(p == 100 ? "max" : "p" + fmt(p), round(Load.ms(h, p)));
            }
        }
        return n;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static String fmt(double p) {
        return p == Math.rint(p) ? Integer.toString((int) p) : Double.toString(p);
    }

    String html(byte[] png) {
        StringBuilder h = new StringBuilder(16 * 1024);
        h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ignis bench: ").append(esc(scenario))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;margin:1em 0}"
                        + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
                        + ".warm{color:#1f77b4}.cold{color:#d62728}</style></head><body>\n");
        h.append("<h1>ignis bench: ").append(esc(scenario)).append("</h1>\n<p>").append(esc(date)).append(" — ").append(esc(machine))
                .append("<br><code>").append(esc(command)).append("</code></p>\n");
        h.append("<img alt=\"latency distribution (warm and cold invokes) and throughput vs concurrency\" width=\"1200\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">\n");
        if (!comparisons.isEmpty()) {
            h.append("<h2>Measured side by side in this run</h2>\n<table><tr><th>subject</th><th>reference</th><th>metric</th><th>value</th>"
                    + "<th>reference</th><th>difference</th><th>ratio</th></tr>\n");
            for (Comparison c : comparisons) {
                h.append("<tr><td>").append(esc(c.subject())).append("</td><td>").append(esc(c.reference())).append("</td><td>").append(esc(c.metric()))
                        .append("</td><td>").append(num(c.value())).append(' ').append(c.unit()).append("</td><td>").append(num(c.referenceValue()))
                        .append(' ').append(c.unit()).append("</td><td>").append(String.format(Locale.ROOT, "%+.3f", c.difference())).append(' ')
                        .append(c.unit()).append("</td><td>×").append(String.format(Locale.ROOT, "%.2f", c.ratio())).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        h.append("<h2>Phases</h2>\n<table><tr><th>phase</th><th>target</th><th>clients / rate</th><th>ok</th><th>errors</th><th>req/s</th>"
                + "<th>p50 ms</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th class=warm>warm</th><th class=cold>cold</th>"
                + "<th class=cold>cold p50 ms</th><th>Init Duration p50 ms</th><th>signing p50 µs</th></tr>\n");
        for (PhaseResult p : phases) {
            h.append("<tr><td>").append(esc(p.name())).append("</td><td>").append(esc(p.target())).append("</td><td>")
                    .append(p.clients() > 0 ? Integer.toString(p.clients()) : num(p.rate()) + "/s").append("</td><td>").append(p.count())
                    .append("</td><td>").append(p.errors()).append("</td><td>").append(String.format(Locale.ROOT, "%.0f", p.perSecond())).append("</td>");
            for (double q : PERCENTILES) {
                h.append("<td>").append(num(p.p(q))).append("</td>");
            }
            h.append("<td>").append(p.warm().getTotalCount()).append("</td><td>").append(p.cold().getTotalCount()).append("</td><td>")
                    .append(num(Load.ms(p.cold(), 50))).append("</td><td>").append(num(Load.ms(p.init(), 50))).append("</td><td>")
                    .append(num(Load.ms(p.signing(), 50) * 1000)).append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (!notes.isEmpty()) {
            h.append("<h2>Notes</h2>\n<ul>\n");
            notes.forEach(n -> h.append("<li>").append(esc(n)).append("</li>\n"));
            h.append("</ul>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.3f", v);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
