package io.spate.chaos.report;

import io.spate.chaos.check.Times;
import io.spate.chaos.check.Verdict;
import io.spate.chaos.check.Violation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The campaign at a glance: one row per run (seed, faults, acked, safety violations, stall and
 * recovery, verdict) and totals, as {@code summary.md} and as plain text for the console.
 */
public final class CampaignSummary {

    /** One run of the campaign: {@code neighbour} tells a run with a noisy neighbour apart. */
    public record Run(long seed, boolean neighbour, Verdict verdict, Path runDir) {
        /** False when the run could not finish (no verdict): it counts as failed. */
        boolean checked() {
            return verdict != null;
        }
    }

    private static final List<String> HEADER = List.of("seed", "neighbour", "faults", "acked", "lost", "duplicates",
            "other safety", "longest stall, quorum and eligible replica up (s)", "longest stall, quorum up (s)",
            "recovery after heal (s)", "verdict");

    private CampaignSummary() {
    }

    /** Writes {@code summaryMd} and returns the same table and totals as plain text. */
    public static String write(List<Run> runs, Path summaryMd) {
        Path base = summaryMd.toAbsolutePath().getParent();
        StringBuilder md = new StringBuilder("# Chaos campaign\n\n");
        md.append('|').append(String.join("|", HEADER)).append("|\n|");
        for (int i = 0; i < HEADER.size(); i++) {
            md.append(i < 2 || i == HEADER.size() - 1 ? "---|" : "---:|");
        }
        md.append('\n');
        List<List<String>> rows = new ArrayList<>();
        for (Run run : runs) {
            List<String> row = row(run);
            rows.add(row);
            List<String> linked = new ArrayList<>(row);
            if (run.runDir() != null) {
                // The seed links to the run's directory (timeline page, history, logs).
                String dir = base == null ? run.runDir().toString()
                        : base.relativize(run.runDir().toAbsolutePath()).toString();
                linked.set(0, "[" + row.get(0) + "](" + (dir.isEmpty() ? "." : dir) + ")");
            }
            md.append('|').append(String.join("|", linked.stream().map(c -> c.replace("|", "\\|")).toList()))
                    .append("|\n");
        }
        List<String> totals = totals(runs);
        md.append("\n## Totals\n\n");
        for (String t : totals) {
            md.append("- ").append(t).append('\n');
        }
        try {
            Files.writeString(summaryMd, md, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + summaryMd, e);
        }
        return text(rows, totals);
    }

    static List<String> row(Run run) {
        Verdict v = run.verdict();
        if (v == null) {
            return List.of(String.valueOf(run.seed()), run.neighbour() ? "yes" : "no", "-", "-", "-", "-", "-", "-", "-", "-",
                    "DID NOT FINISH (see its directory)");
        }
        long lost = v.count(Violation.LOST_WRITE);
        long duplicates = v.count(Violation.DUPLICATE);
        String verdict = v.ok() ? "PASS" : "FAIL " + String.join(",", v.failedChecks().keySet());
        return List.of(String.valueOf(run.seed()), run.neighbour() ? "yes" : "no",
                String.valueOf(v.counts().faults()), String.valueOf(v.counts().writesAcked()), String.valueOf(lost),
                String.valueOf(duplicates), String.valueOf(v.safetyViolations() - lost - duplicates),
                Times.s1(v.availability().worstStallUs()),
                Times.s1(v.availability().worstQuorumStallUs()),
                Times.s1(v.availability().worstRecoveryUs()) + (v.availability().allRecovered() ? "" : " (never)"),
                verdict);
    }

    static List<String> totals(List<Run> all) {
        long unfinished = all.stream().filter(r -> !r.checked()).count();
        List<Run> runs = all.stream().filter(Run::checked).toList();
        long passed = runs.stream().filter(r -> r.verdict().ok()).count();
        long faults = runs.stream().mapToLong(r -> r.verdict().counts().faults()).sum();
        long acked = runs.stream().mapToLong(r -> r.verdict().counts().writesAcked()).sum();
        long safety = runs.stream().mapToLong(r -> r.verdict().safetyViolations()).sum();
        java.util.Map<String, Integer> txns = new java.util.TreeMap<>();
        runs.forEach(r -> r.verdict().counts().txnsByOutcome().forEach((k, n) -> txns.merge(k, n, Integer::sum)));
        List<String> lines = new ArrayList<>(List.of(
                "runs: " + all.size() + " (" + passed + " passed, " + (runs.size() - passed) + " failed"
                        + (unfinished > 0 ? ", " + unfinished + " did not finish" : "") + ")",
                "faults injected: " + faults,
                "writes acknowledged: " + acked,
                "safety violations: " + safety,
                "longest stall with a quorum and an eligible replica up (bounded): median "
                        + medianAndWorst(runs, r -> r.verdict().availability().worstStallUs()),
                "longest stall with a quorum up, counting waits for an eligible replica (not bounded): median "
                        + medianAndWorst(runs, r -> r.verdict().availability().worstQuorumStallUs()),
                "recovery after heal: median " + medianAndWorst(runs, r -> r.verdict().availability().worstRecoveryUs())));
        if (!txns.isEmpty()) {
            lines.add(3, "exactly-once pipeline transactions: " + txns.values().stream().mapToInt(Integer::intValue).sum()
                    + " (" + txns.toString().replaceAll("[{}]", "").replace("=", " ") + ")");
        }
        return lines;
    }

    private static String medianAndWorst(List<Run> runs, ToLongFunction<Run> us) {
        long[] values = runs.stream().mapToLong(us).sorted().toArray();
        if (values.length == 0) {
            return "-, worst -";
        }
        long median = values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
        return Times.s1(median) + " s, worst " + Times.s1(values[values.length - 1]) + " s";
    }

    private static String text(List<List<String>> rows, List<String> totals) {
        int[] width = new int[HEADER.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = HEADER.get(i).length();
        }
        for (List<String> row : rows) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder b = new StringBuilder();
        line(b, HEADER, width);
        char[] rule = new char[Arrays.stream(width).sum() + 2 * (width.length - 1)];
        Arrays.fill(rule, '-');
        b.append(rule).append('\n');
        for (List<String> row : rows) {
            line(b, row, width);
        }
        b.append('\n');
        for (String t : totals) {
            b.append(t).append('\n');
        }
        return b.toString();
    }

    private static void line(StringBuilder b, List<String> cells, int[] width) {
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            boolean left = i < 2 || i == cells.size() - 1;
            String pad = " ".repeat(width[i] - c.length());
            b.append(left ? c + pad : pad + c);
            if (i < cells.size() - 1) {
                b.append("  ");
            }
        }
        // No trailing spaces on the last (left-aligned) column.
        while (b.charAt(b.length() - 1) == ' ') {
            b.setLength(b.length() - 1);
        }
        b.append('\n');
    }
}
