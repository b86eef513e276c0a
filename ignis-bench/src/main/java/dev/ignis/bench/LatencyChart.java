package dev.ignis.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * The talk's latency picture, drawn with Java2D (headless): warm and cold invokes as two coloured
 * histograms over a logarithmic latency axis (counts on a log axis too, so a 1 % cold tail shows),
 * and below it the throughput-vs-concurrency curves.
 */
final class LatencyChart {
    static final int W = 1200;
    static final int H = 900;
    /** Bins: 20 per decade from 10 µs to 100 s. */
    static final int PER_DECADE = 20;
    static final double MIN_NS = 1e4;
    static final int DECADES = 7;
    private static final Color WARM = new Color(31, 119, 180);
    private static final Color COLD = new Color(214, 39, 40);
    private static final Color[] CURVES = {new Color(31, 119, 180), new Color(127, 127, 127), new Color(44, 160, 44), new Color(255, 127, 14),
            new Color(148, 103, 189), new Color(140, 86, 75)};

    private LatencyChart() {}

    static byte[] png(Report r) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("ignis bench: " + r.scenario() + "   (" + r.date() + ", " + r.machine() + ")", 20, 24);
        Histogram warm = merged(r, true);
        Histogram cold = merged(r, false);
        histogramPanel(g, 80, 50, W - 120, 470, warm, cold);
        curvePanel(g, 80, 590, W - 120, 250, r.curves());
        g.dispose();
        var out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static Histogram merged(Report r, boolean warm) {
        Histogram h = Load.histogram();
        for (PhaseResult p : r.phases()) {
            if (r.picture().contains(p.target() + "/" + p.name())) {
                h.add(warm ? p.warm() : p.cold());
            }
        }
        return h;
    }

    static long[] bins(Histogram h) {
        long[] bins = new long[PER_DECADE * DECADES];
        for (HistogramIterationValue v : h.recordedValues()) {
            double ns = h.medianEquivalentValue(v.getValueIteratedTo());
            int b = (int) Math.floor(Math.log10(Math.max(ns, MIN_NS) / MIN_NS) * PER_DECADE);
            bins[Math.min(bins.length - 1, b)] += v.getCountAtValueIteratedTo();
        }
        return bins;
    }

    private static void histogramPanel(Graphics2D g, int x, int y, int w, int h, Histogram warm, Histogram cold) {
        long[] wb = bins(warm);
        long[] cb = bins(cold);
        long max = 1;
        for (int i = 0; i < wb.length; i++) {
            max = Math.max(max, Math.max(wb[i], cb[i]));
        }
        double logMax = Math.log10(max) + 0.2;
        frame(g, x, y, w, h, "latency of one invoke (log scale)", "invokes per bin (log scale)");
        int n = wb.length;
        double bw = (double) w / n;
        for (int pass = 0; pass < 2; pass++) {
            long[] bins = pass == 0 ? wb : cb;
            Color c = pass == 0 ? WARM : COLD;
            g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 170));
            for (int i = 0; i < n; i++) {
                if (bins[i] > 0) {
                    int bh = (int) Math.round(h * (Math.log10(bins[i]) + 0.2) / logMax);
                    g.fillRect(x + (int) (i * bw), y + h - bh, Math.max(1, (int) bw - 1), bh);
                }
            }
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        String[] labels = {"10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s"};
        for (int d = 0; d <= DECADES; d++) {
            int tx = x + (int) (d * PER_DECADE * bw);
            g.setColor(new Color(220, 220, 220));
            g.drawLine(tx, y, tx, y + h);
            g.setColor(Color.BLACK);
            g.drawString(labels[d], tx - 18, y + h + 16);
        }
        for (int e = 0; e <= (int) logMax; e++) {
            int ty = y + h - (int) Math.round(h * (e + 0.2) / logMax);
            g.setColor(Color.DARK_GRAY);
            g.drawString(e == 0 ? "1" : "1e" + e, x - 40, ty + 4);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(WARM);
        g.drawString(String.format(Locale.ROOT, "warm: %d invokes, p50 %s ms, p99 %s ms", warm.getTotalCount(), Report.num(Load.ms(warm, 50)),
                Report.num(Load.ms(warm, 99))), x + w - 430, y + 20);
        g.setColor(COLD);
        g.drawString(String.format(Locale.ROOT, "cold: %d invokes, p50 %s ms, p99 %s ms", cold.getTotalCount(), Report.num(Load.ms(cold, 50)),
                Report.num(Load.ms(cold, 99))), x + w - 430, y + 40);
    }

    private static void curvePanel(Graphics2D g, int x, int y, int w, int h, List<Report.Curve> curves) {
        frame(g, x, y, w, h, "concurrent clients (log2)", "requests / s");
        double maxX = 1;
        double maxY = 1;
        for (var c : curves) {
            for (double[] p : c.points()) {
                maxX = Math.max(maxX, p[0]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        double lx = Math.max(1, Math.log(maxX) / Math.log(2));
        maxY *= 1.1;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int k = 0; k <= (int) lx; k++) {
            int tx = x + (int) (w * k / lx);
            g.setColor(new Color(220, 220, 220));
            g.drawLine(tx, y, tx, y + h);
            g.setColor(Color.BLACK);
            g.drawString(Integer.toString(1 << k), tx - 6, y + h + 16);
        }
        for (int k = 0; k <= 4; k++) {
            int ty = y + h - h * k / 4;
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.0f", maxY * k / 4), x - 50, ty + 4);
        }
        int legend = 0;
        for (int i = 0; i < curves.size(); i++) {
            var c = curves.get(i);
            g.setColor(CURVES[i % CURVES.length]);
            g.setStroke(new BasicStroke(2.2f));
            int px = -1;
            int py = -1;
            for (double[] p : c.points()) {
                int cx = x + (int) (w * (Math.log(p[0]) / Math.log(2)) / lx);
                int cy = y + h - (int) (h * p[1] / maxY);
                g.fillOval(cx - 4, cy - 4, 8, 8);
                if (px >= 0) {
                    g.drawLine(px, py, cx, cy);
                }
                px = cx;
                py = cy;
            }
            g.setStroke(new BasicStroke(1f));
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString(c.label(), x + 10, y + 18 + 16 * legend++);
        }
    }

    private static void frame(Graphics2D g, int x, int y, int w, int h, String xLabel, String yLabel) {
        g.setColor(Color.BLACK);
        g.drawRect(x, y, w, h);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString(xLabel, x + w / 2 - 80, y + h + 34);
        var t = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(y + h / 2 + 70), x - 58);
        g.setTransform(t);
    }
}
