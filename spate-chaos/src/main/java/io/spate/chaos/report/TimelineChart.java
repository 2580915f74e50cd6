package io.spate.chaos.report;

import io.spate.chaos.check.Availability;
import io.spate.chaos.check.Times;
import io.spate.chaos.check.Verdict;
import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The run as one inline SVG: acknowledged writes per second as bars (left axis), p50 and max ack
 * latency per second as lines (right axis, ms, logarithmic so both a 3 ms median and a 30 s
 * timeout are readable), one labelled band per fault in its own lane, and markers for workload
 * start, heal and end; stalls beyond the bound are a red strip along the bottom. Buckets are by
 * acknowledgement time.
 */
final class TimelineChart {

    private static final int WIDTH = 1200;
    private static final int LEFT = 60;
    private static final int RIGHT = 70;
    private static final int LANE_HEIGHT = 18;
    private static final int PLOT_HEIGHT = 280;
    private static final int BOTTOM = 40;
    private static final String[] PALETTE = {"#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
            "#bcbd22", "#7f7f7f"};

    private TimelineChart() {
    }

    static String svg(RunHistory h, Verdict verdict) {
        long endUs = h.endUs();
        for (Write w : h.writes()) {
            endUs = Math.max(endUs, w.doneUs());
        }
        for (NodeFault f : h.faults()) {
            endUs = Math.max(endUs, f.endUs());
        }
        int seconds = (int) Math.max(1, (endUs + 999_999) / 1_000_000);

        int[] acks = new int[seconds];
        List<List<Long>> latencies = new ArrayList<>(seconds);
        for (int i = 0; i < seconds; i++) {
            latencies.add(new ArrayList<>());
        }
        for (Write w : h.writes()) {
            if (w.acknowledged() && w.doneUs() >= 0) {
                int s = (int) Math.min(seconds - 1, w.doneUs() / 1_000_000);
                acks[s]++;
                latencies.get(s).add(w.doneUs() - w.sentUs());
            }
        }
        double[] p50 = new double[seconds];
        double[] max = new double[seconds];
        double highestMs = 1;
        for (int s = 0; s < seconds; s++) {
            long[] l = latencies.get(s).stream().mapToLong(Long::longValue).toArray();
            if (l.length == 0) {
                p50[s] = max[s] = Double.NaN;
                continue;
            }
            Arrays.sort(l);
            p50[s] = l[(l.length - 1) / 2] / 1000.0;
            max[s] = l[l.length - 1] / 1000.0;
            highestMs = Math.max(highestMs, max[s]);
        }

        int[] lanes = lanes(h.faults());
        int laneCount = Arrays.stream(lanes).max().orElse(-1) + 1;
        int top = 10 + laneCount * LANE_HEIGHT + 16;
        int height = top + PLOT_HEIGHT + BOTTOM;
        double plotWidth = WIDTH - LEFT - RIGHT;
        double xPerSecond = plotWidth / seconds;
        int maxAcks = Math.max(1, Arrays.stream(acks).max().orElse(1));
        double ackTop = niceCeiling(maxAcks);
        double latLo = 0.1;
        double latHi = Math.pow(10, Math.ceil(Math.log10(highestMs)));

        Svg svg = new Svg(WIDTH, height);
        int bottom = top + PLOT_HEIGHT;
        svg.raw("<rect x='" + LEFT + "' y='" + top + "' width='" + fmt(plotWidth) + "' height='" + PLOT_HEIGHT
                + "' fill='#fafafa' stroke='#ccc'/>");

        // Fault bands: shaded through the plot, labelled in their lane above it.
        for (int i = 0; i < h.faults().size(); i++) {
            NodeFault f = h.faults().get(i);
            String color = PALETTE[Math.floorMod(f.kind().hashCode(), PALETTE.length)];
            double x0 = LEFT + f.startUs() / 1e6 * xPerSecond;
            double w = Math.max(2, (f.endUs() - f.startUs()) / 1e6 * xPerSecond);
            String label = f.kind() + (f.description().isEmpty() ? "" : ": " + f.description());
            String title = label + " (" + Times.s(f.startUs()) + " - " + Times.s(f.endUs()) + ")";
            int laneY = 10 + lanes[i] * LANE_HEIGHT;
            svg.raw("<g class='fault'><title>" + Html.esc(title) + "</title>"
                    + "<rect x='" + fmt(x0) + "' y='" + top + "' width='" + fmt(w) + "' height='" + PLOT_HEIGHT
                    + "' fill='" + color + "' fill-opacity='0.12'/>"
                    + "<rect x='" + fmt(x0) + "' y='" + laneY + "' width='" + fmt(w) + "' height='" + (LANE_HEIGHT - 3)
                    + "' fill='" + color + "' fill-opacity='0.55' rx='2'/>"
                    + "<text x='" + fmt(x0 + 3) + "' y='" + (laneY + LANE_HEIGHT - 7) + "' class='lane'>"
                    + Html.esc(fit(label, w)) + "</text></g>");
        }

        // Acks per second.
        for (int s = 0; s < seconds; s++) {
            if (acks[s] == 0) {
                continue;
            }
            double barHeight = acks[s] / ackTop * PLOT_HEIGHT;
            svg.raw("<rect x='" + fmt(LEFT + s * xPerSecond) + "' y='" + fmt(bottom - barHeight) + "' width='"
                    + fmt(Math.max(0.5, xPerSecond * 0.85)) + "' height='" + fmt(barHeight)
                    + "' fill='#4c78a8'><title>" + s + "s: " + acks[s] + " acks</title></rect>");
        }

        // Latency lines, broken where a second had no ack.
        svg.raw(latencyPath(p50, xPerSecond, bottom, latLo, latHi, "#2ca02c"));
        svg.raw(latencyPath(max, xPerSecond, bottom, latLo, latHi, "#e45756"));

        // Axes.
        for (int i = 0; i <= 4; i++) {
            double v = ackTop * i / 4;
            double y = bottom - PLOT_HEIGHT * i / 4.0;
            svg.raw("<line x1='" + LEFT + "' x2='" + fmt(LEFT + plotWidth) + "' y1='" + fmt(y) + "' y2='" + fmt(y)
                    + "' stroke='#eee'/>");
            svg.text(LEFT - 6, y + 4, "end", String.valueOf(Math.round(v)));
        }
        for (double ms = latLo; ms <= latHi * 1.0001; ms *= 10) {
            double y = latencyY(ms, bottom, latLo, latHi);
            svg.text(LEFT + plotWidth + 6, y + 4, "start", ms < 1 ? "0.1" : String.valueOf(Math.round(ms)));
        }
        int step = tickStep(seconds);
        for (int s = 0; s <= seconds; s += step) {
            double x = LEFT + s * xPerSecond;
            svg.raw("<line x1='" + fmt(x) + "' x2='" + fmt(x) + "' y1='" + bottom + "' y2='" + (bottom + 4)
                    + "' stroke='#666'/>");
            svg.text(x, bottom + 16, "middle", s + "s");
        }
        svg.text(14, top + PLOT_HEIGHT / 2.0, "middle", "acks/s", "rotate(-90 14 " + (top + PLOT_HEIGHT / 2) + ")");
        double rx = WIDTH - 12;
        svg.text(rx, top + PLOT_HEIGHT / 2.0, "middle", "ack latency ms (log)",
                "rotate(90 " + fmt(rx) + " " + (top + PLOT_HEIGHT / 2) + ")");
        svg.text(LEFT + plotWidth / 2, bottom + 34, "middle", "seconds since start");

        // Stalls beyond the bound: a red strip along the bottom of the plot, where the stall counted.
        for (Availability.PartitionAvailability pa : verdict.availability().partitions().values()) {
            Availability.Stall stall = pa.longestStall();
            if (stall.lengthUs() > h.bounds().maxStallUs()) {
                double x0 = LEFT + stall.startUs() / 1e6 * xPerSecond;
                svg.raw("<rect x='" + fmt(x0) + "' y='" + (bottom - 6) + "' width='"
                        + fmt(Math.max(2, stall.lengthUs() / 1e6 * xPerSecond)) + "' height='6' fill='#c62828'>"
                        + "<title>p" + pa.partition() + " stalled " + Times.s(stall.lengthUs()) + " with a quorum up ("
                        + Times.s(stall.startUs()) + " - " + Times.s(stall.endUs()) + ")</title></rect>");
            }
        }

        marker(svg, "workload start", h.workloadStartUs(), xPerSecond, top, bottom, "#555");
        if (!h.faults().isEmpty()) {
            marker(svg, "healed", h.healedUs(), xPerSecond, top, bottom, "#2ca02c");
        }
        marker(svg, "end", h.endUs(), xPerSecond, top, bottom, "#000");
        return svg.toString();
    }

    /** The label cut to what fits in a band {@code width} pixels wide; the tooltip has it whole. */
    private static String fit(String label, double width) {
        int chars = (int) ((width - 4) / 6.2);
        if (label.length() <= chars) {
            return label;
        }
        return chars < 2 ? "" : label.substring(0, chars - 1) + "\u2026";
    }

    /** Greedy lanes: each fault goes to the first lane whose previous fault has ended. */
    static int[] lanes(List<NodeFault> faults) {
        Integer[] byStart = new Integer[faults.size()];
        for (int i = 0; i < byStart.length; i++) {
            byStart[i] = i;
        }
        Arrays.sort(byStart, (a, b) -> Long.compare(faults.get(a).startUs(), faults.get(b).startUs()));
        int[] lane = new int[faults.size()];
        List<Long> laneEnds = new ArrayList<>();
        for (int i : byStart) {
            NodeFault f = faults.get(i);
            int l = 0;
            while (l < laneEnds.size() && laneEnds.get(l) > f.startUs()) {
                l++;
            }
            if (l == laneEnds.size()) {
                laneEnds.add(f.endUs());
            } else {
                laneEnds.set(l, f.endUs());
            }
            lane[i] = l;
        }
        return lane;
    }

    private static void marker(Svg svg, String label, long us, double xPerSecond, int top, int bottom, String color) {
        double x = LEFT + us / 1e6 * xPerSecond;
        svg.raw("<line x1='" + fmt(x) + "' x2='" + fmt(x) + "' y1='" + (top - 4) + "' y2='" + bottom + "' stroke='"
                + color + "' stroke-dasharray='4 3'><title>" + label + " " + Times.s(us) + "</title></line>");
        svg.raw("<text x='" + fmt(x + 3) + "' y='" + (top + 10) + "' class='marker' fill='" + color + "'>"
                + Html.esc(label) + "</text>");
    }

    private static String latencyPath(double[] ms, double xPerSecond, int bottom, double lo, double hi, String color) {
        StringBuilder d = new StringBuilder();
        boolean pen = false;
        for (int s = 0; s < ms.length; s++) {
            if (Double.isNaN(ms[s])) {
                pen = false;
                continue;
            }
            d.append(pen ? " L" : " M").append(fmt(LEFT + (s + 0.5) * xPerSecond)).append(' ')
                    .append(fmt(latencyY(ms[s], bottom, lo, hi)));
            pen = true;
        }
        return "<path d='" + d.toString().trim() + "' fill='none' stroke='" + color + "' stroke-width='1.5'/>";
    }

    private static double latencyY(double ms, int bottom, double lo, double hi) {
        double clamped = Math.max(lo, Math.min(hi, ms));
        return bottom - PLOT_HEIGHT * Math.log10(clamped / lo) / Math.log10(hi / lo);
    }

    private static double niceCeiling(int v) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[]{1, 2, 2.5, 5, 10}) {
            if (m * magnitude >= v) {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static int tickStep(int seconds) {
        for (int step : new int[]{1, 2, 5, 10, 15, 30, 60, 120, 300, 600}) {
            if (seconds / step <= 20) {
                return step;
            }
        }
        return 1200;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** A tiny SVG builder: enough to keep the chart code readable. */
    private static final class Svg {
        private final StringBuilder b = new StringBuilder();

        Svg(int width, int height) {
            b.append("<svg xmlns='http://www.w3.org/2000/svg' width='").append(width).append("' height='")
                    .append(height).append("' viewBox='0 0 ").append(width).append(' ').append(height)
                    .append("' font-family='sans-serif' font-size='11'>\n");
        }

        void raw(String s) {
            b.append(s).append('\n');
        }

        void text(double x, double y, String anchor, String text) {
            text(x, y, anchor, text, null);
        }

        void text(double x, double y, String anchor, String text, String transform) {
            b.append("<text x='").append(fmt(x)).append("' y='").append(fmt(y)).append("' text-anchor='")
                    .append(anchor).append('\'');
            if (transform != null) {
                b.append(" transform='").append(transform).append('\'');
            }
            b.append('>').append(Html.esc(text)).append("</text>\n");
        }

        @Override
        public String toString() {
            return b + "</svg>";
        }
    }
}
