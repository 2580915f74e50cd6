package io.spate.chaos.check;

import io.spate.chaos.history.Txn;
import io.spate.chaos.history.Txn.Outcome;
import io.spate.chaos.history.TxnHistory;
import io.spate.chaos.history.TxnOutput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The exactly-once pipeline's part of a synthetic history: transactions of member {@code t1} over
 * the input of a {@link HistoryBuilder}, their results appended to the output partition of the
 * input's number, each transaction followed by its marker (a hole in both reads). Mutable, so a
 * test starts from a clean pipeline and breaks one thing.
 */
final class PipelineBuilder {
    final HistoryBuilder input;
    final List<Txn> transactions = new ArrayList<>();
    final Map<Integer, Long> committedInput = new TreeMap<>();
    final Map<Integer, Long> outputStart = new TreeMap<>();
    final Map<Integer, List<String>> readCommitted = new TreeMap<>();
    final Map<Integer, List<String>> readUncommitted = new TreeMap<>();
    private int number;
    private long clock = 2 * HistoryBuilder.SECOND;

    PipelineBuilder(HistoryBuilder input) {
        this.input = input;
        for (int p : input.finalLog.keySet()) {
            outputStart.put(p, 0L);
            readCommitted.put(p, new ArrayList<>());
            readUncommitted.put(p, new ArrayList<>());
        }
    }

    /**
     * A transaction over inputs {@code first..last} of {@code partition}: its results are in the
     * log (read_uncommitted) and, if {@code visible}, read committed; a committed one also commits
     * the input offset after {@code last}.
     */
    Txn txn(Outcome outcome, int partition, long first, long last, boolean visible) {
        Txn t = new Txn("t1", 1, ++number, outcome, clock, clock + 5_000, List.of(new Txn.InputRange(partition, first, last)),
                outcome == Outcome.COMMITTED || outcome == Outcome.ABORTED_ON_PURPOSE ? "" : "TimeoutException: expired");
        clock += 10_000;
        for (long o = first; o <= last; o++) {
            String value = new TxnOutput(partition, o, input.finalLog.get(partition).get((int) o), t.label()).value();
            readUncommitted.get(partition).add(value);
            readCommitted.get(partition).add(visible ? value : null);
        }
        readUncommitted.get(partition).add(null); // the marker
        readCommitted.get(partition).add(null);
        if (outcome == Outcome.COMMITTED) {
            committedInput.put(partition, last + 1);
        }
        transactions.add(t);
        return t;
    }

    /** Every input processed in transactions of 10 per partition; every 5th is first aborted on purpose, then done again. */
    static PipelineBuilder clean(HistoryBuilder input) {
        PipelineBuilder b = new PipelineBuilder(input);
        for (int p : input.finalLog.keySet()) {
            int size = input.finalLog.get(p).size();
            for (int from = 0, n = 0; from < size; from += 10, n++) {
                int to = Math.min(size, from + 10) - 1;
                if (n % 5 == 4) {
                    b.txn(Outcome.ABORTED_ON_PURPOSE, p, from, to, false);
                }
                b.txn(Outcome.COMMITTED, p, from, to, true);
            }
        }
        return b;
    }

    /** The index in the output lists of the result of input {@code offset} of {@code partition} by a committed transaction. */
    int committedIndexOf(int partition, long offset) {
        List<String> out = readCommitted.get(partition);
        for (int i = 0; i < out.size(); i++) {
            TxnOutput o = TxnOutput.parse(out.get(i));
            if (o != null && o.inputOffset() == offset) {
                return i;
            }
        }
        throw new IllegalArgumentException("no committed result of " + partition + "@" + offset);
    }

    TxnHistory build() {
        return new TxnHistory(2, transactions, committedInput, outputStart, readCommitted, readUncommitted);
    }

    /** The input's history with this pipeline. */
    io.spate.chaos.history.RunHistory history() {
        input.txn = build();
        return input.build();
    }
}
