package io.spate.chaos.report;

import io.spate.chaos.check.Availability;
import io.spate.chaos.check.Times;
import io.spate.chaos.check.Verdict;
import io.spate.chaos.check.Violation;
import io.spate.chaos.history.RunHistory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One run on one self-contained HTML page (inline CSS and SVG, nothing fetched): the verdict,
 * the timeline of writes, latency and faults, each partition's stall and recovery, and the first
 * violations. Meant to be read at a glance when a campaign flags a seed.
 */
public final class TimelinePage {

    /** Violations listed on the page; the rest are counted (the checker's output has them all). */
    static final int LISTED_VIOLATIONS = 50;

    private static final String CSS = """
            body { font-family: sans-serif; margin: 1.5em; color: #222; }
            h1 { font-size: 1.4em; margin-bottom: 0.2em; }
            .pass { color: #fff; background: #2e7d32; padding: 0.1em 0.5em; border-radius: 4px; }
            .fail { color: #fff; background: #c62828; padding: 0.1em 0.5em; border-radius: 4px; }
            .summary { color: #555; margin-bottom: 1em; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em 0; font-size: 0.9em; }
            th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            tr.bad td { background: #fdecea; }
            .legend span { margin-right: 1.5em; }
            .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
            svg text.lane { font-size: 10px; fill: #000; }
            svg text.marker { font-size: 10px; }
            """;

    private TimelinePage() {
    }

    public static void write(RunHistory h, Verdict v, Path html) {
        try {
            Files.writeString(html, render(h, v), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + html, e);
        }
    }

    static String render(RunHistory h, Verdict v) {
        StringBuilder b = new StringBuilder(64 * 1024);
        String title = "Spate chaos run, seed " + h.seed();
        b.append("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>")
                .append(Html.esc(title + ": " + (v.ok() ? "PASS" : "FAIL"))).append("</title>\n<style>")
                .append(CSS).append("</style></head><body>\n");
        b.append("<h1>").append(Html.esc(title)).append(" ").append(badge(v)).append("</h1>\n");
        b.append("<div class='summary'>").append(Html.esc(v.summaryLine())).append("<br>")
                .append("faults: ").append(Html.esc(v.counts().faultsDescription())).append("; nodes ")
                .append(h.nodes()).append(", voters ").append(h.voters()).append("; bounds: stall ")
                .append(Times.s(h.bounds().maxStallUs())).append(", recovery ")
                .append(Times.s(h.bounds().maxRecoveryUs())).append("</div>\n");

        b.append("<div class='legend'>")
                .append("<span><i class='swatch' style='background:#4c78a8'></i>acknowledged writes per second</span>")
                .append("<span><i class='swatch' style='background:#2ca02c'></i>p50 ack latency</span>")
                .append("<span><i class='swatch' style='background:#e45756'></i>max ack latency</span>")
                .append("<span>shaded: fault windows (hover for details)</span>")
                .append("<span><i class='swatch' style='background:#c62828'></i>stall with quorum beyond the bound</span></div>\n");
        b.append(TimelineChart.svg(h, v)).append('\n');

        b.append("<h2>Availability per partition</h2>\n");
        stallTable(b, h, v.availability());
        b.append("<h2>Violations</h2>\n");
        violations(b, v.violations());
        if (!v.notes().isEmpty()) {
            b.append("<h2>Notes</h2><ul>");
            for (String note : v.notes()) {
                b.append("<li>").append(Html.esc(note)).append("</li>");
            }
            b.append("</ul>\n");
        }
        return b.append("</body></html>\n").toString();
    }

    private static String badge(Verdict v) {
        if (v.ok()) {
            return "<span class='pass'>PASS</span>";
        }
        StringBuilder checks = new StringBuilder();
        for (Map.Entry<String, Long> e : v.failedChecks().entrySet()) {
            checks.append(checks.isEmpty() ? "" : ", ").append(e.getKey()).append(" \u00d7").append(e.getValue());
        }
        return "<span class='fail'>FAIL: " + Html.esc(checks.toString()) + "</span>";
    }

    private static void stallTable(StringBuilder b, RunHistory h, Availability a) {
        b.append("<table><tr><th>partition</th><th>replicas</th><th>acks</th>")
                .append("<th>longest stall, quorum and eligible replica up (s)</th><th>stall from &ndash; to (s)</th>")
                .append("<th>longest stall, quorum up (s)</th>")
                .append("<th>recovery after heal (s)</th></tr>\n");
        for (Availability.PartitionAvailability pa : a.partitions().values()) {
            Availability.Stall s = pa.longestStall();
            boolean bad = s.lengthUs() > h.bounds().maxStallUs() || !pa.recovered()
                    || pa.recoveryUs() > h.bounds().maxRecoveryUs();
            b.append(bad ? "<tr class='bad'>" : "<tr>")
                    .append("<td>").append(pa.partition()).append("</td>")
                    .append("<td>").append(h.replicas().getOrDefault(pa.partition(), List.of())).append("</td>")
                    .append("<td class='num'>").append(pa.acks()).append("</td>")
                    .append("<td class='num'>").append(Times.s1(s.lengthUs())).append("</td>")
                    .append("<td>").append(s.lengthUs() == 0 ? "" : Times.s1(s.startUs()) + " &ndash; " + Times.s1(s.endUs()))
                    .append("</td><td class='num'>").append(Times.s1(pa.longestQuorumStall().lengthUs()))
                    .append("</td><td class='num'>").append(Times.s1(pa.recoveryUs()))
                    .append(pa.recovered() ? "" : " (not recovered)").append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static void violations(StringBuilder b, List<Violation> violations) {
        if (violations.isEmpty()) {
            b.append("<p>None.</p>\n");
            return;
        }
        b.append("<table><tr><th>check</th><th>partition</th><th>offset</th><th>detail</th></tr>\n");
        for (Violation v : violations.subList(0, Math.min(LISTED_VIOLATIONS, violations.size()))) {
            b.append("<tr><td>").append(Html.esc(v.check())).append("</td><td class='num'>").append(v.partition())
                    .append("</td><td class='num'>").append(v.offset() >= 0 ? String.valueOf(v.offset()) : "")
                    .append("</td><td>").append(Html.esc(v.detail())).append("</td></tr>\n");
        }
        b.append("</table>\n");
        if (violations.size() > LISTED_VIOLATIONS) {
            b.append("<p>&hellip; and ").append(violations.size() - LISTED_VIOLATIONS).append(" more.</p>\n");
        }
    }
}
