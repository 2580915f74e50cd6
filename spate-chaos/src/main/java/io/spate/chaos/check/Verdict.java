package io.spate.chaos.check;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the checker concluded about one run.
 *
 * @param violations   safety violations in the order the checks found them, then the availability ones
 *                     ({@code stall}, {@code recovery})
 * @param notes        things that were not checked and why (normally empty)
 */
public record Verdict(long seed, List<Violation> violations, Availability availability, RunCounts counts,
                      List<String> notes) {

    /** How many violations of each check {@link #describe()} lists before it abbreviates. */
    private static final int LISTED_PER_CHECK = 10;

    public Verdict {
        violations = List.copyOf(violations);
        notes = List.copyOf(notes);
    }

    public boolean safetyOk() {
        return violations.stream().noneMatch(Violation::safety);
    }

    public boolean availabilityOk() {
        return violations.stream().allMatch(Violation::safety);
    }

    public boolean ok() {
        return violations.isEmpty();
    }

    public List<Violation> violationsOf(String check) {
        return violations.stream().filter(v -> v.check().equals(check)).toList();
    }

    public long count(String check) {
        return violations.stream().filter(v -> v.check().equals(check)).count();
    }

    public long safetyViolations() {
        return violations.stream().filter(Violation::safety).count();
    }

    /** The failed checks with their violation counts, in first-found order. */
    public Map<String, Long> failedChecks() {
        Map<String, Long> failed = new LinkedHashMap<>();
        for (Violation v : violations) {
            failed.merge(v.check(), 1L, Long::sum);
        }
        return failed;
    }

    /** {@code PASS seed 42: 1203/1250 writes acked, ...} or {@code FAIL seed 42 (lost-write x3, stall x1): ...}. */
    public String summaryLine() {
        StringBuilder b = new StringBuilder(ok() ? "PASS" : "FAIL").append(" seed ").append(seed);
        if (!ok()) {
            b.append(" (");
            failedChecks().forEach((check, n) -> b.append(b.charAt(b.length() - 1) == '(' ? "" : ", ")
                    .append(check).append(" x").append(n));
            b.append(')');
        }
        return b.append(": ").append(counts.writesAcked()).append('/').append(counts.writesAttempted())
                .append(" writes acked (").append(counts.writesFailed()).append(" failed, ")
                .append(counts.writesIndeterminate()).append(" indeterminate), ").append(counts.reads())
                .append(" reads, ").append(counts.commitsOk()).append(" commits, ")
                .append(counts.txnsByOutcome().isEmpty() ? "" : counts.transactionsDescription() + ", ").append(counts.faults())
                .append(" faults; longest stall with quorum ").append(Times.s(availability.worstStallUs()))
                .append(" (").append(Times.s(availability.worstQuorumStallUs())).append(" counting waits for an eligible replica)")
                .append(", recovery ").append(Times.s(availability.worstRecoveryUs()))
                .append(availability.allRecovered() ? "" : " (not recovered)").toString();
    }

    /** Several lines: the summary, each failed check with where it failed, notes, how to replay. */
    public String describe() {
        StringBuilder b = new StringBuilder(summaryLine()).append('\n');
        b.append("  faults: ").append(counts.faultsDescription()).append('\n');
        b.append("  safety: ").append(safetyOk() ? "ok" : "FAILED").append(", availability: ")
                .append(availabilityOk() ? "ok" : "FAILED").append('\n');
        for (Map.Entry<String, Long> e : failedChecks().entrySet()) {
            b.append("  ").append(e.getKey()).append(": ").append(e.getValue()).append(" violation")
                    .append(e.getValue() == 1 ? "" : "s").append('\n');
            List<Violation> list = violationsOf(e.getKey());
            for (Violation v : list.subList(0, Math.min(LISTED_PER_CHECK, list.size()))) {
                b.append("    ").append(v.where()).append(": ").append(v.detail()).append('\n');
            }
            if (list.size() > LISTED_PER_CHECK) {
                b.append("    ... and ").append(list.size() - LISTED_PER_CHECK).append(" more\n");
            }
        }
        for (String note : notes) {
            b.append("  note: ").append(note).append('\n');
        }
        if (!ok()) {
            b.append("  replay with seed ").append(seed).append('\n');
        }
        return b.toString();
    }
}
