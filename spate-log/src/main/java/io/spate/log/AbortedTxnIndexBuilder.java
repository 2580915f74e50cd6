package io.spate.log;

import io.spate.record.RecordBatch;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Works out the aborted-transaction entries of a log from its batches, seen in offset order from
 * its first segment, as the log loads. It follows every segment, whereas the producer state
 * replays only what lies past its snapshot, so it keeps its own open transactions: only which
 * producer has one open, and since when.
 *
 * <p>A transaction begun before the first segment (retention took its start) is seen to begin at
 * its first batch still stored: no record of it before that can be read anyway.
 */
final class AbortedTxnIndexBuilder {
    private final Map<Long, Long> firstOffsetByProducer = new HashMap<>();
    private final TreeMap<Long, Long> producerByFirstOffset = new TreeMap<>();

    void onData(RecordBatch batch) {
        if (batch.isTransactional() && batch.producerId() >= 0 && !firstOffsetByProducer.containsKey(batch.producerId())) {
            firstOffsetByProducer.put(batch.producerId(), batch.baseOffset());
            producerByFirstOffset.put(batch.baseOffset(), batch.producerId());
        }
    }

    /** The entry for an end marker of {@code producerId} at {@code markerOffset}, or null for a commit. */
    AbortedTxn onMarker(long producerId, long markerOffset, boolean commit) {
        Long first = firstOffsetByProducer.remove(producerId);
        if (first != null) {
            producerByFirstOffset.remove(first);
        }
        if (commit) {
            return null;
        }
        long lastStable = producerByFirstOffset.isEmpty() ? markerOffset + 1 : producerByFirstOffset.firstKey();
        return new AbortedTxn(producerId, first == null ? markerOffset : first, markerOffset, lastStable);
    }
}
