package io.spate.record;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Control batches: the end-transaction markers a transaction coordinator has each partition
 * leader write when a transaction commits or aborts (KIP-98). A marker is a batch with the
 * transactional and control attributes, the producer's id and epoch, no sequence, and one record:
 * key {@code [int16 version 0][int16 type]} (0 abort, 1 commit), value
 * {@code [int16 version 0][int32 coordinator epoch]}. Other control types (2 and up) exist in
 * Kafka for other purposes; they are not end markers.
 */
public final class ControlBatches {
    public static final short ABORT = 0;
    public static final short COMMIT = 1;
    private static final short VERSION = 0;

    /** What an end-transaction marker says. */
    public record EndTxnMarker(boolean commit, int coordinatorEpoch) {
    }

    private ControlBatches() {
    }

    /** A marker ending {@code producerId}'s transaction at {@code producerEpoch}. */
    public static ByteBuffer endTxnMarker(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit, long timestamp) {
        ByteBuffer key = ByteBuffer.allocate(4).putShort(VERSION).putShort(commit ? COMMIT : ABORT).flip();
        ByteBuffer value = ByteBuffer.allocate(6).putShort(VERSION).putInt(coordinatorEpoch).flip();
        return new RecordBatchBuilder(timestamp).producer(producerId, producerEpoch, RecordBatch.NO_SEQUENCE).attributes(true, true)
                .append(timestamp, key, value).build();
    }

    /**
     * The end marker {@code batch} holds, or null when it is not a control batch or holds another
     * control type. A control batch whose record cannot be read as one is corrupt.
     */
    public static EndTxnMarker readMarker(RecordBatch batch) {
        if (!batch.isControl()) {
            return null;
        }
        try {
            Record record = new RecordReader(null).open(batch).next();
            ByteBuffer key = record.key();
            if (key == null || key.remaining() < 4) {
                throw new InvalidRecordBatchException("a control batch without a control key");
            }
            short type = key.getShort(key.position() + 2);
            if (type != ABORT && type != COMMIT) {
                return null;
            }
            ByteBuffer value = record.value();
            if (value == null || value.remaining() < 6) {
                throw new InvalidRecordBatchException("an end-transaction marker without a coordinator epoch");
            }
            return new EndTxnMarker(type == COMMIT, value.getInt(value.position() + 2));
        } catch (InvalidRecordBatchException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidRecordBatchException("an unreadable control batch: " + e);
        }
    }
}
