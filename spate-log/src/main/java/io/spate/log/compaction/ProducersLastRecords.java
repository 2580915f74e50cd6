package io.spate.log.compaction;

import io.spate.log.ProducerStateTable;
import io.spate.record.RecordBatch;

import java.util.Map;

/**
 * The batches a compaction pass keeps for the producers the log knows, taken once when the pass
 * begins (a producer that writes meanwhile writes past the pass's range): each producer's last
 * data batch, and, for one with no data batch in its current epoch, its last marker.
 */
final class ProducersLastRecords {
    private final Map<Long, ProducerStateTable.LastRecord> byProducer;

    ProducersLastRecords(Map<Long, ProducerStateTable.LastRecord> byProducer) {
        this.byProducer = byProducer;
    }

    /** Whether {@code batch} holds what the log knows last of its producer. */
    boolean holds(RecordBatch batch) {
        if (!batch.hasProducerId()) {
            return false;
        }
        ProducerStateTable.LastRecord last = byProducer.get(batch.producerId());
        if (last == null) {
            return false;
        }
        if (last.lastDataOffset() >= 0) {
            return !batch.isControl() && batch.lastOffset() == last.lastDataOffset();
        }
        if (!batch.isControl() || batch.producerEpoch() != last.epoch()) {
            return false;
        }
        // Where the table does not know its last marker, every marker of the epoch stays until it does.
        return last.lastOffset() < 0 || batch.lastOffset() == last.lastOffset();
    }
}
