package io.spate.record;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * A flyweight over one Kafka record batch (magic v2) held in a {@link ByteBuffer}.
 *
 * <p>The broker never decodes the records inside a batch on the data path: it validates the
 * header and the CRC, then patches the fields that live outside the CRC (base offset and
 * partition leader epoch). The layout, all big-endian, offsets from the start of the batch:
 *
 * <pre>
 *  0 baseOffset            int64   ─┐ outside the CRC: rewritten by the broker
 *  8 batchLength           int32    │ (bytes that follow this field)
 * 12 partitionLeaderEpoch  int32   ─┘
 * 16 magic                 int8    = 2
 * 17 crc                   uint32  CRC-32C of bytes [21, end)
 * 21 attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 * 23 lastOffsetDelta       int32
 * 27 baseTimestamp         int64
 * 35 maxTimestamp          int64
 * 43 producerId            int64
 * 51 producerEpoch         int16
 * 53 baseSequence          int32
 * 57 recordCount           int32
 * 61 records...
 * </pre>
 *
 * <p>Not thread-safe; re-point it with {@link #wrap} to read the next batch without allocating.
 */
public final class RecordBatch {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORD_COUNT_OFFSET = 57;
    public static final int HEADER_SIZE = 61;
    /** Bytes needed to learn a batch's total size: base offset and length. */
    public static final int LOG_OVERHEAD = 12;
    public static final byte MAGIC_V2 = 2;

    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final long NO_TIMESTAMP = -1L;

    static final int COMPRESSION_MASK = 0x07;
    private static final int TIMESTAMP_TYPE_MASK = 0x08;
    public static final int TRANSACTIONAL_MASK = 0x10;
    public static final int CONTROL_MASK = 0x20;

    private ByteBuffer buffer;
    private int start;

    public RecordBatch wrap(ByteBuffer buffer, int start) {
        this.buffer = buffer;
        this.start = start;
        return this;
    }

    public static RecordBatch of(ByteBuffer buffer) {
        return new RecordBatch().wrap(buffer, buffer.position());
    }

    public int start() {
        return start;
    }

    /** The buffer this view reads. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Total size in bytes, header included. */
    public int sizeInBytes() {
        return LOG_OVERHEAD + buffer.getInt(start + LENGTH_OFFSET);
    }

    public long baseOffset() {
        return buffer.getLong(start + BASE_OFFSET_OFFSET);
    }

    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    public int lastOffsetDelta() {
        return buffer.getInt(start + LAST_OFFSET_DELTA_OFFSET);
    }

    public int partitionLeaderEpoch() {
        return buffer.getInt(start + PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return buffer.get(start + MAGIC_OFFSET);
    }

    public long storedCrc() {
        return Integer.toUnsignedLong(buffer.getInt(start + CRC_OFFSET));
    }

    public short attributes() {
        return buffer.getShort(start + ATTRIBUTES_OFFSET);
    }

    public int compressionCodec() {
        return attributes() & COMPRESSION_MASK;
    }

    public boolean isLogAppendTime() {
        return (attributes() & TIMESTAMP_TYPE_MASK) != 0;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_MASK) != 0;
    }

    public boolean isControl() {
        return (attributes() & CONTROL_MASK) != 0;
    }

    public long baseTimestamp() {
        return buffer.getLong(start + BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return buffer.getLong(start + MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buffer.getLong(start + PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buffer.getShort(start + PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buffer.getInt(start + BASE_SEQUENCE_OFFSET);
    }

    /** Sequence of the last record, wrapping at Integer.MAX_VALUE as Kafka does. */
    public int lastSequence() {
        int base = baseSequence();
        if (base == NO_SEQUENCE) {
            return NO_SEQUENCE;
        }
        long last = (long) base + lastOffsetDelta();
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }

    public boolean hasProducerId() {
        return producerId() >= 0;
    }

    public int recordCount() {
        return buffer.getInt(start + RECORD_COUNT_OFFSET);
    }

    public long computeCrc() {
        CRC32C crc = new CRC32C();
        int from = start + ATTRIBUTES_OFFSET;
        int to = start + sizeInBytes();
        ByteBuffer view = buffer.duplicate().limit(to).position(from);
        crc.update(view);
        return crc.getValue();
    }

    /**
     * Checks what a broker must check before it stores a batch: the size fits the buffer, the
     * magic is v2, the header is sane and the CRC matches.
     *
     * @param available bytes of the buffer that belong to this batch and what follows it
     */
    public void validate(int available) {
        if (available < HEADER_SIZE) {
            throw new InvalidRecordBatchException("batch of " + available + " bytes is smaller than the v2 header (" + HEADER_SIZE + ")");
        }
        int size = sizeInBytes();
        if (size < HEADER_SIZE || size > available) {
            throw new InvalidRecordBatchException("batch length " + size + " does not fit in " + available + " bytes");
        }
        if (magic() != MAGIC_V2) {
            throw new InvalidRecordBatchException("unsupported record batch magic " + magic() + " (Spate stores v2 batches)");
        }
        if (lastOffsetDelta() < 0 || recordCount() < 0 || (recordCount() > 0 && lastOffsetDelta() + 1 < recordCount())) {
            throw new InvalidRecordBatchException("inconsistent batch header: lastOffsetDelta=" + lastOffsetDelta() + " recordCount=" + recordCount());
        }
        if (computeCrc() != storedCrc()) {
            throw new InvalidRecordBatchException("record batch CRC mismatch: stored " + storedCrc() + ", computed " + computeCrc());
        }
    }

    /** Sets the batch's length and then its CRC: the last step of writing a batch of {@code sizeInBytes}. */
    void seal(int sizeInBytes) {
        buffer.putInt(start + LENGTH_OFFSET, sizeInBytes - LOG_OVERHEAD);
        buffer.putInt(start + CRC_OFFSET, (int) computeCrc());
    }

    /** Assigns the batch its place in the log; both fields sit outside the CRC. */
    public void assign(long baseOffset, int partitionLeaderEpoch) {
        buffer.putLong(start + BASE_OFFSET_OFFSET, baseOffset);
        buffer.putInt(start + PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
    }

    /**
     * Writes the batch under a producer's id and epoch without a sequence, as the node's own
     * writers do for a producer (a task's results in place; see the log's append origins). The
     * producer fields are covered by the CRC, so it is recomputed.
     */
    public void stampProducer(long producerId, short epoch) {
        buffer.putLong(start + PRODUCER_ID_OFFSET, producerId);
        buffer.putShort(start + PRODUCER_EPOCH_OFFSET, epoch);
        buffer.putInt(start + BASE_SEQUENCE_OFFSET, NO_SEQUENCE);
        buffer.putInt(start + CRC_OFFSET, (int) computeCrc());
    }

    /**
     * Stamps broker time for topics with {@code message.timestamp.type=LogAppendTime}. The
     * attributes and max timestamp are covered by the CRC, so the CRC is recomputed; the records
     * themselves are untouched (their timestamp deltas are ignored by readers of such batches).
     */
    public void stampLogAppendTime(long nowMs) {
        short attributes = (short) (attributes() | TIMESTAMP_TYPE_MASK);
        buffer.putShort(start + ATTRIBUTES_OFFSET, attributes);
        buffer.putLong(start + MAX_TIMESTAMP_OFFSET, nowMs);
        buffer.putInt(start + CRC_OFFSET, (int) computeCrc());
    }
}
