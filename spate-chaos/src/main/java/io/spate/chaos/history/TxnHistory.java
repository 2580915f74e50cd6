package io.spate.chaos.history;

import java.util.List;
import java.util.Map;

/**
 * The exactly-once pipeline's part of a run (the {@code txn} workload): its transactions as its
 * clients saw them, and the state at the end: the input offsets its group committed, and the
 * output topic read twice from its start, once read_committed (up to the last stable offset) and
 * once read_uncommitted (up to the high watermark). An output list holds the value at {@code
 * outputStart + i}; offsets without a record in that read (transaction markers, and for
 * read_committed the records of aborted transactions) hold null.
 *
 * @param members        how many members the pipeline's group had; 0: the pipeline did not run
 * @param committedInput the pipeline group's committed offset per input partition at the end (absent: none)
 */
public record TxnHistory(int members, List<Txn> transactions, Map<Integer, Long> committedInput,
                         Map<Integer, Long> outputStart, Map<Integer, List<String>> readCommitted,
                         Map<Integer, List<String>> readUncommitted) {

    /** A run without the pipeline. */
    public static final TxnHistory NONE = new TxnHistory(0, List.of(), Map.of(), Map.of(), Map.of(), Map.of());

    public boolean ran() {
        return members > 0;
    }

    /** The output's last stable offset at the end: where the read_committed read stopped. */
    public long lastStable(int partition) {
        return outputStart.getOrDefault(partition, 0L) + readCommitted.getOrDefault(partition, List.of()).size();
    }

    /** The output's high watermark at the end: where the read_uncommitted read stopped. */
    public long highWatermark(int partition) {
        return outputStart.getOrDefault(partition, 0L) + readUncommitted.getOrDefault(partition, List.of()).size();
    }
}
