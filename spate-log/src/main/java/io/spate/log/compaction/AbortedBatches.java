package io.spate.log.compaction;

import io.spate.log.AbortedTxn;
import io.spate.record.RecordBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which stored batches belong to aborted transactions, from the aborted-transaction index of the
 * range a compaction rewrites: a transactional data batch of producer P at offset o is aborted
 * when an aborted transaction of P began at or before o and ended (its abort marker) after it.
 * A producer's transactions never overlap, so one lookup by first offset per batch decides.
 */
final class AbortedBatches {
    private final Map<Long, List<AbortedTxn>> byProducer = new HashMap<>();

    /** @param aborted the aborted transactions of the range, by first offset */
    AbortedBatches(List<AbortedTxn> aborted) {
        for (AbortedTxn txn : aborted) {
            byProducer.computeIfAbsent(txn.producerId(), id -> new ArrayList<>()).add(txn);
        }
    }

    boolean contains(RecordBatch batch) {
        if (!batch.isTransactional() || batch.isControl()) {
            return false;
        }
        List<AbortedTxn> txns = byProducer.get(batch.producerId());
        if (txns == null) {
            return false;
        }
        long offset = batch.baseOffset();
        int low = 0;
        int high = txns.size() - 1;
        AbortedTxn candidate = null;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (txns.get(mid).firstOffset() <= offset) {
                candidate = txns.get(mid);
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return candidate != null && candidate.lastOffset() > offset;
    }
}
