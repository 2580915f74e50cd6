package io.spate.chaos.check;

import io.spate.chaos.history.Commit;
import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Txn;
import io.spate.chaos.history.Write;

import java.util.Map;
import java.util.TreeMap;

/**
 * The sizes of a run, for the summary line and the campaign table. {@code txnsByOutcome}: the
 * exactly-once pipeline's transactions by the outcome their clients saw (empty without it).
 */
public record RunCounts(long writesAttempted, long writesAcked, long writesFailed, long writesIndeterminate,
                        long reads, long commitsOk, long commitsFailed, Map<String, Integer> faultsByKind,
                        Map<String, Integer> txnsByOutcome) {

    public static RunCounts of(RunHistory h) {
        long acked = 0;
        long failed = 0;
        long indeterminate = 0;
        for (Write w : h.writes()) {
            switch (w.outcome()) {
                case OK -> acked++;
                case FAIL -> failed++;
                case INDETERMINATE -> indeterminate++;
            }
        }
        long commitsOk = 0;
        for (Commit c : h.commits()) {
            if (c.ok()) {
                commitsOk++;
            }
        }
        Map<String, Integer> faults = new TreeMap<>();
        for (NodeFault f : h.faults()) {
            faults.merge(f.kind(), 1, Integer::sum);
        }
        Map<String, Integer> txns = new TreeMap<>();
        for (Txn t : h.txn().transactions()) {
            txns.merge(t.outcome().name().toLowerCase().replace('_', ' '), 1, Integer::sum);
        }
        return new RunCounts(h.writes().size(), acked, failed, indeterminate, h.reads().size(), commitsOk,
                h.commits().size() - commitsOk, Map.copyOf(faults), Map.copyOf(txns));
    }

    public int transactions() {
        return txnsByOutcome.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** {@code 812 transactions (aborted on purpose 90, committed 720, unknown 2)}, or empty without the pipeline. */
    public String transactionsDescription() {
        return txnsByOutcome.isEmpty() ? "" : transactions() + " transactions ("
                + new TreeMap<>(txnsByOutcome).toString().replaceAll("[{}]", "").replace("=", " ") + ")";
    }

    public int faults() {
        return faultsByKind.values().stream().mapToInt(Integer::intValue).sum();
    }

    public String faultsDescription() {
        return faultsByKind.isEmpty() ? "none" : new TreeMap<>(faultsByKind).toString().replaceAll("[{}]", "");
    }
}
