package io.spate.log.compaction;

import io.spate.record.ControlBatches;
import io.spate.record.InvalidRecordBatchException;
import io.spate.record.Record;
import io.spate.record.RecordBatch;
import io.spate.record.RecordBatchBuilder;
import io.spate.record.RecordReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

/**
 * What one compaction pass does with the end-transaction markers it rewrites (Kafka's cleaner
 * rules of KIP-98 with KIP-534's delete horizon). It sees the pass's output, in offset order,
 * after the records are filtered: a marker whose transaction left no data batch in that output
 * (an abort's records are always dropped; a commit's once every record of it was compacted away)
 * is kept the first time with a delete horizon, {@code now + delete.retention.ms}, written as
 * Kafka writes it (the batch's base timestamp, attribute bit {@value #DELETE_HORIZON_MASK}; the
 * record keeps its own timestamp, so its delta goes negative), and dropped by the first pass
 * after the horizon. Consumers that read the log meanwhile still see the marker. A marker that
 * carries its producer's current epoch, with no data batch of that epoch left, stays: it is what
 * fences the producer's older instances on a replica that replays the log. Other control
 * batches, and markers at or past the cleanable end, are copied as they are.
 *
 * <p>One instance per pass: it remembers, per producer, whether a data batch of its current
 * transaction was kept since that producer's last marker.
 */
final class TxnMarkers {
    /** Kafka's {@code DefaultRecordBatch.DELETE_HORIZON_FLAG_MASK}. */
    static final int DELETE_HORIZON_MASK = 0x40;

    private final long end;
    private final long now;
    private final long deleteRetentionMs;
    private final ProducersLastRecords producersLast;
    private final Set<Long> keptDataSinceMarker = new HashSet<>();
    private final RecordReader reader = new RecordReader(null);
    private final RecordBatch view = new RecordBatch();
    private long earliestHorizon = Long.MAX_VALUE;
    private int stamped;
    private int removed;

    /**
     * @param end           the cleanable end of the pass: no marker at or past it is touched
     * @param producersLast markers that carry their producer's current epoch with no data batch of it left stay as they are
     */
    TxnMarkers(long end, long now, long deleteRetentionMs, ProducersLastRecords producersLast) {
        this.end = end;
        this.now = now;
        this.deleteRetentionMs = deleteRetentionMs;
        this.producersLast = producersLast;
    }

    static boolean hasDeleteHorizon(RecordBatch batch) {
        return (batch.attributes() & DELETE_HORIZON_MASK) != 0;
    }

    /**
     * The batches of {@code batches} (position to limit, whole, filtered, in offset order) with
     * the markers removed or stamped as the rules say: {@code batches} itself when nothing changes.
     */
    ByteBuffer apply(ByteBuffer batches) throws IOException {
        ByteBuffer out = null;
        int position = batches.position();
        while (position < batches.limit()) {
            view.wrap(batches, position);
            int size = view.sizeInBytes();
            ByteBuffer replacement = null;
            boolean drop = false;
            if (view.isControl()) {
                Action action = decide(view);
                drop = action == Action.REMOVE;
                if (action == Action.STAMP) {
                    replacement = stamp(view, TombstoneHorizons.saturatedPlus(now, deleteRetentionMs));
                }
            } else if (view.isTransactional() && view.hasProducerId()) {
                keptDataSinceMarker.add(view.producerId());
            }
            if (out == null && (drop || replacement != null)) {
                out = ByteBuffer.allocate(batches.remaining() + 64);
                out.put(batches.duplicate().limit(position).position(batches.position()));
            }
            if (out != null && !drop) {
                ByteBuffer piece = replacement != null ? replacement : batches.duplicate().limit(position + size).position(position);
                if (out.remaining() < piece.remaining()) {
                    ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + piece.remaining()));
                    out = bigger.put(out.flip());
                }
                out.put(piece);
            }
            position += size;
        }
        return out == null ? batches : out.flip();
    }

    private enum Action { KEEP, STAMP, REMOVE }

    private Action decide(RecordBatch batch) {
        ControlBatches.EndTxnMarker marker;
        try {
            marker = ControlBatches.readMarker(batch);
        } catch (InvalidRecordBatchException e) {
            return Action.KEEP; // not a marker this pass can judge: it stays as it is
        }
        if (marker == null) {
            return Action.KEEP;
        }
        // The marker ends its producer's transaction here, whatever happens to the marker itself.
        boolean dataKept = keptDataSinceMarker.remove(batch.producerId());
        if (dataKept || batch.lastOffset() >= end || batch.compressionCodec() != 0 || batch.recordCount() != 1 || producersLast.holds(batch)) {
            return Action.KEEP;
        }
        if (hasDeleteHorizon(batch)) {
            long horizon = batch.baseTimestamp();
            if (horizon <= now) {
                removed++;
                return Action.REMOVE;
            }
            earliestHorizon = Math.min(earliestHorizon, horizon);
            return Action.KEEP;
        }
        stamped++;
        earliestHorizon = Math.min(earliestHorizon, TombstoneHorizons.saturatedPlus(now, deleteRetentionMs));
        return Action.STAMP;
    }

    /**
     * {@code marker} rewritten with {@code horizon} as its base timestamp and the delete-horizon
     * bit: built again by the codec's builder (the record keeps its key, value and timestamp),
     * with the original offsets, leader epoch, attributes and max timestamp, and a new CRC.
     */
    private ByteBuffer stamp(RecordBatch marker, long horizon) throws IOException {
        Record record = reader.open(marker).next();
        ByteBuffer rebuilt = new RecordBatchBuilder(horizon)
                .producer(marker.producerId(), marker.producerEpoch(), marker.baseSequence())
                .attributes(true, true)
                .append(record.timestamp(), record.key(), record.value())
                .build();
        RecordBatch batch = RecordBatch.of(rebuilt);
        batch.assign(marker.baseOffset(), marker.partitionLeaderEpoch());
        rebuilt.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) (marker.attributes() | DELETE_HORIZON_MASK));
        rebuilt.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, marker.lastOffsetDelta());
        rebuilt.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, marker.maxTimestamp());
        rebuilt.putInt(RecordBatch.CRC_OFFSET, (int) batch.computeCrc());
        batch.validate(rebuilt.remaining());
        return rebuilt;
    }

    /** The earliest delete horizon of a marker this pass kept and a later pass will remove; Long.MAX_VALUE for none. */
    long earliestHorizon() {
        return earliestHorizon;
    }

    int stamped() {
        return stamped;
    }

    int removed() {
        return removed;
    }
}
