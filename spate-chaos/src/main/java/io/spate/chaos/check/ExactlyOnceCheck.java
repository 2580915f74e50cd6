package io.spate.chaos.check;

import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Txn;
import io.spate.chaos.history.TxnHistory;
import io.spate.chaos.history.TxnOutput;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The exactly-once pipeline's promise, judged from the output as a read_committed consumer reads
 * it at the end (the {@code txn} workload):
 * <ul>
 *   <li>every input record below the pipeline group's committed offset has exactly one result
 *       ({@code txn-duplicate}, {@code txn-missing}); once the pipeline drained the input that is
 *       every input record, every acknowledged write among them, and one that was not drained is
 *       reported ({@code txn-undrained});</li>
 *   <li>no result of a transaction its client saw aborted, or never asked to commit, or whose
 *       producer was fenced, is read committed ({@code txn-aborted-read}); a transaction its client
 *       saw commit has all its results read committed, one whose outcome the client did not learn
 *       all or none ({@code txn-missing}, {@code txn-partial}); a zombie's commit is refused once a
 *       successor with its transactional id initialized ({@code txn-zombie});</li>
 *   <li>every result names an input that is in the input's final log with the value the pipeline
 *       read, in the output partition of its input's number, below the committed offset
 *       ({@code txn-unexpected}), and the results of one input partition are in input order
 *       ({@code txn-out-of-order});</li>
 *   <li>read_uncommitted reads a superset of read_committed: the same record at every offset where
 *       read_committed read one ({@code txn-superset}), and no transaction is left open at the end
 *       (the last stable offset reaches the high watermark; {@code txn-hanging}).</li>
 * </ul>
 * The input side (acknowledged input writes in the input log, once, in order) is the plain checks'.
 */
final class ExactlyOnceCheck {

    private ExactlyOnceCheck() {
    }

    /** A result in the read_committed output. */
    private record Result(int partition, long offset, TxnOutput output) {
        String where() {
            return "p" + partition + "@" + offset;
        }
    }

    /** An input record: the input partition and offset a result names. */
    private record Input(int partition, long offset) {
    }

    static void check(RunHistory h, FinalLog input, List<Violation> out, List<String> notes) {
        TxnHistory t = h.txn();
        if (!t.ran()) {
            return;
        }
        Map<String, Txn> byLabel = new HashMap<>();
        for (Txn x : t.transactions()) {
            byLabel.put(x.label(), x);
        }
        Map<Input, List<Result>> resultsOf = new HashMap<>();
        Map<String, Integer> resultsPerTxn = new HashMap<>();
        for (Map.Entry<Integer, List<String>> e : new TreeMap<>(t.readCommitted()).entrySet()) {
            int p = e.getKey();
            long start = t.outputStart().getOrDefault(p, 0L);
            List<String> values = e.getValue();
            for (int i = 0; i < values.size(); i++) {
                String value = values.get(i);
                if (value == null) {
                    continue;
                }
                TxnOutput o = TxnOutput.parse(value);
                if (o == null) {
                    out.add(new Violation(Violation.TXN_UNEXPECTED, p, start + i, "'" + value + "' is no result the pipeline writes"));
                    continue;
                }
                Result r = new Result(p, start + i, o);
                resultsOf.computeIfAbsent(new Input(o.inputPartition(), o.inputOffset()), k -> new ArrayList<>(1)).add(r);
                resultsPerTxn.merge(o.label(), 1, Integer::sum);
                checkResult(r, byLabel.get(o.label()), t, input, out);
            }
        }
        checkEachInputOnce(t, input, resultsOf, out);
        checkTransactions(t, resultsPerTxn, out);
        checkInputOrder(t, resultsOf, out);
        checkSuperset(t, out);
        checkNothingOpen(t, out);
        long abortedOnPurpose = t.transactions().stream().filter(x -> x.outcome() == Txn.Outcome.ABORTED_ON_PURPOSE).count();
        if (abortedOnPurpose == 0) {
            notes.add("no transaction of the pipeline was aborted on purpose: read_committed had no deliberately aborted results to hide");
        }
    }

    /** One result: from a transaction that may be read, about an input that exists, where it belongs. */
    private static void checkResult(Result r, Txn txn, TxnHistory t, FinalLog input, List<Violation> out) {
        TxnOutput o = r.output();
        if (txn == null) {
            out.add(new Violation(Violation.TXN_UNEXPECTED, r.partition(), r.offset(),
                    "result of input " + o.inputPartition() + "@" + o.inputOffset() + " is labelled " + o.label()
                            + ", a transaction the pipeline did not record"));
        } else if (txn.outcome().mustBeInvisible()) {
            out.add(new Violation(Violation.TXN_ABORTED_READ, r.partition(), r.offset(),
                    "result of input " + o.inputPartition() + "@" + o.inputOffset() + " is read committed, but its transaction "
                            + o.label() + " ended " + txn.outcome() + " at " + Times.s(txn.endUs())
                            + (txn.error().isEmpty() ? "" : " (" + txn.error() + ")")));
        }
        if (o.inputPartition() != r.partition()) {
            out.add(new Violation(Violation.TXN_UNEXPECTED, r.partition(), r.offset(),
                    "result of input " + o.inputPartition() + "@" + o.inputOffset() + " belongs in output partition " + o.inputPartition()));
        }
        String there = input.valueAt(o.inputPartition(), o.inputOffset());
        if (!o.inputValue().equals(there)) {
            out.add(new Violation(Violation.TXN_UNEXPECTED, r.partition(), r.offset(),
                    "the pipeline read " + o.inputValue() + " at input " + o.inputPartition() + "@" + o.inputOffset()
                            + " (transaction " + o.label() + "), where the input's final log holds "
                            + (there == null ? "no record" : there)));
        }
        long committed = t.committedInput().getOrDefault(o.inputPartition(), 0L);
        if (o.inputOffset() >= committed) {
            out.add(new Violation(Violation.TXN_UNEXPECTED, r.partition(), r.offset(),
                    "result of input " + o.inputPartition() + "@" + o.inputOffset() + " (transaction " + o.label()
                            + ") is read committed, but the group's committed offset is " + committed
                            + ": the input's offset was not committed with it, so it is processed again"));
        }
    }

    /** Every input below the committed offset has one result; the committed offset reached the input's end. */
    private static void checkEachInputOnce(TxnHistory t, FinalLog input, Map<Input, List<Result>> resultsOf, List<Violation> out) {
        for (Map.Entry<Integer, List<String>> e : new TreeMap<>(input.partitions()).entrySet()) {
            int p = e.getKey();
            long committed = t.committedInput().getOrDefault(p, 0L);
            long end = input.end(p);
            for (long o = input.start(p); o < Math.min(committed, end); o++) {
                String value = input.valueAt(p, o);
                if (value == null) {
                    continue; // a hole in the input: the plain checks report it if it was acknowledged
                }
                List<Result> results = resultsOf.getOrDefault(new Input(p, o), List.of());
                if (results.isEmpty()) {
                    out.add(new Violation(Violation.TXN_MISSING, p, -1, "input " + p + "@" + o + " (" + value
                            + ") is below the committed offset " + committed + " but has no result in the committed output"));
                } else if (results.size() > 1) {
                    Result second = results.get(1);
                    out.add(new Violation(Violation.TXN_DUPLICATE, second.partition(), second.offset(), "input " + p + "@" + o
                            + " (" + value + ") has " + results.size() + " results: " + results.stream()
                            .map(r -> r.where() + " by " + r.output().label()).toList()));
                }
            }
            if (committed < end) {
                out.add(new Violation(Violation.TXN_UNDRAINED, p, -1, "the pipeline committed input offset " + committed
                        + " of " + end + " by the end (" + (end - committed) + " inputs not consumed): their results are not checked"));
            }
        }
    }

    /** A transaction seen committed has all its results; one of unknown outcome all or none; no zombie commits. */
    private static void checkTransactions(TxnHistory t, Map<String, Integer> resultsPerTxn, List<Violation> out) {
        for (Txn x : t.transactions()) {
            if (x.outcome() == Txn.Outcome.ZOMBIE_COMMITTED) {
                out.add(new Violation(Violation.TXN_ZOMBIE, x.inputs().isEmpty() ? -1 : x.inputs().getFirst().partition(), -1,
                        "transaction " + x.label() + " (inputs " + ranges(x) + ") of a producer left mid-transaction was committed at "
                                + Times.s(x.endUs()) + ", after a successor with its transactional id had initialized: it was not fenced"));
            }
            long expected = x.inputCount();
            int found = resultsPerTxn.getOrDefault(x.label(), 0);
            int p = x.inputs().isEmpty() ? -1 : x.inputs().getFirst().partition();
            String what = "transaction " + x.label() + " (" + x.outcome() + " at " + Times.s(x.endUs()) + ", inputs " + ranges(x) + ")";
            if (x.outcome() == Txn.Outcome.COMMITTED && found == 0 && expected > 0) {
                out.add(new Violation(Violation.TXN_MISSING, p, -1, what + " has none of its " + expected + " results in the committed output"));
            } else if ((x.outcome() == Txn.Outcome.COMMITTED || x.outcome() == Txn.Outcome.UNKNOWN) && found > 0 && found != expected) {
                out.add(new Violation(Violation.TXN_PARTIAL, p, -1, what + " has " + found + " of its " + expected
                        + " results in the committed output"));
            }
        }
    }

    /** In each output partition, the results of committed transactions follow their inputs' order. */
    private static void checkInputOrder(TxnHistory t, Map<Input, List<Result>> resultsOf, List<Violation> out) {
        for (Map.Entry<Integer, List<String>> e : new TreeMap<>(t.readCommitted()).entrySet()) {
            int p = e.getKey();
            long start = t.outputStart().getOrDefault(p, 0L);
            Map<Integer, TxnOutput> last = new HashMap<>(); // per input partition, the last result seen
            List<String> values = e.getValue();
            for (int i = 0; i < values.size(); i++) {
                TxnOutput o = TxnOutput.parse(values.get(i));
                if (o == null || resultsOf.get(new Input(o.inputPartition(), o.inputOffset())).size() > 1) {
                    continue; // duplicates are reported as such, not once more as disorder
                }
                TxnOutput before = last.put(o.inputPartition(), o);
                if (before != null && before.inputOffset() > o.inputOffset()) {
                    out.add(new Violation(Violation.TXN_OUT_OF_ORDER, p, start + i, "result of input " + o.inputPartition() + "@"
                            + o.inputOffset() + " (" + o.label() + ") comes after that of input " + before.inputPartition() + "@"
                            + before.inputOffset() + " (" + before.label() + ")"));
                }
            }
        }
    }

    /** Where read_committed read a record, read_uncommitted read the same one. */
    private static void checkSuperset(TxnHistory t, List<Violation> out) {
        for (Map.Entry<Integer, List<String>> e : new TreeMap<>(t.readCommitted()).entrySet()) {
            int p = e.getKey();
            long start = t.outputStart().getOrDefault(p, 0L);
            List<String> committed = e.getValue();
            List<String> uncommitted = t.readUncommitted().getOrDefault(p, List.of());
            for (int i = 0; i < committed.size(); i++) {
                String c = committed.get(i);
                String u = i < uncommitted.size() ? uncommitted.get(i) : null;
                if (c != null && !c.equals(u)) {
                    out.add(new Violation(Violation.TXN_SUPERSET, p, start + i, "read_committed read " + c + ", read_uncommitted "
                            + (u == null ? (i < uncommitted.size() ? "no record" : "nothing (beyond the high watermark)") : u)));
                }
            }
        }
    }

    /** Every client ended or gave up its transactions and their markers had time: nothing is open. */
    private static void checkNothingOpen(TxnHistory t, List<Violation> out) {
        for (int p : new TreeMap<>(t.readUncommitted()).keySet()) {
            long lso = t.lastStable(p);
            long hw = t.highWatermark(p);
            if (lso < hw) {
                out.add(new Violation(Violation.TXN_HANGING, p, lso, "the last stable offset " + lso + " stays below the high watermark "
                        + hw + " after every pipeline producer stopped: a transaction is left open, read_committed readers stop there"));
            }
        }
    }

    private static String ranges(Txn x) {
        StringBuilder b = new StringBuilder();
        for (Txn.InputRange r : x.inputs()) {
            if (!b.isEmpty()) {
                b.append(',');
            }
            b.append(r.partition()).append('@').append(r.first()).append(r.first() == r.last() ? "" : ".." + r.last());
        }
        return b.toString();
    }
}
