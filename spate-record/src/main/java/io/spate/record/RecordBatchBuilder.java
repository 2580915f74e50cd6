package io.spate.record;

import java.nio.ByteBuffer;

/**
 * Encodes a new, uncompressed v2 batch of records with keys and values and no headers, as a
 * node writes its own records (a coordinator's state, a transaction marker). The batch has base
 * offset 0 and no leader epoch: the log assigns both when it appends it. By default it has no
 * producer id and is neither transactional nor a control batch.
 */
public final class RecordBatchBuilder {
    private final long baseTimestamp;
    private ByteBuffer records = ByteBuffer.allocate(256);
    private int count;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private long producerId = RecordBatch.NO_PRODUCER_ID;
    private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    private short attributes;

    /** @param baseTimestamp the timestamp the records' deltas count from (their first one, usually) */
    public RecordBatchBuilder(long baseTimestamp) {
        this.baseTimestamp = baseTimestamp;
    }

    /** Adds a record; {@code key} and {@code value} (null for none) are read from position to limit and not modified. */
    public RecordBatchBuilder append(long timestamp, ByteBuffer key, ByteBuffer value) {
        long timestampDelta = timestamp - baseTimestamp;
        int keyLength = key == null ? -1 : key.remaining();
        int valueLength = value == null ? -1 : value.remaining();
        int bodySize = 1 + Varints.sizeOfVarlong(timestampDelta) + Varints.sizeOfVarint(count)
                + Varints.sizeOfVarint(keyLength) + Math.max(0, keyLength)
                + Varints.sizeOfVarint(valueLength) + Math.max(0, valueLength)
                + Varints.sizeOfVarint(0);
        ensure(Varints.sizeOfVarint(bodySize) + bodySize);
        Varints.writeVarint(records, bodySize);
        records.put((byte) 0);
        Varints.writeVarlong(records, timestampDelta);
        Varints.writeVarint(records, count);
        Varints.writeVarint(records, keyLength);
        if (key != null) {
            records.put(key.duplicate());
        }
        Varints.writeVarint(records, valueLength);
        if (value != null) {
            records.put(value.duplicate());
        }
        Varints.writeVarint(records, 0); // no headers
        count++;
        maxTimestamp = Math.max(maxTimestamp, timestamp);
        return this;
    }

    /** The producer the batch comes from; {@code baseSequence} -1 for none (a marker has none). */
    public RecordBatchBuilder producer(long id, short epoch, int baseSequence) {
        this.producerId = id;
        this.producerEpoch = epoch;
        this.baseSequence = baseSequence;
        return this;
    }

    /** Marks the batch as part of a transaction ({@code transactional}) and as a control batch ({@code control}). */
    public RecordBatchBuilder attributes(boolean transactional, boolean control) {
        attributes = (short) ((transactional ? RecordBatch.TRANSACTIONAL_MASK : 0) | (control ? RecordBatch.CONTROL_MASK : 0));
        return this;
    }

    public int recordCount() {
        return count;
    }

    /** The batch, from position 0 to its size. */
    public ByteBuffer build() {
        if (count == 0) {
            throw new IllegalStateException("a record batch needs at least one record");
        }
        ByteBuffer section = records.duplicate().flip();
        ByteBuffer batch = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + section.remaining());
        batch.putLong(0L)
                .putInt(0) // length: below
                .putInt(-1)
                .put(RecordBatch.MAGIC_V2)
                .putInt(0) // CRC: below
                .putShort(attributes)
                .putInt(count - 1)
                .putLong(baseTimestamp)
                .putLong(maxTimestamp)
                .putLong(producerId)
                .putShort(producerEpoch)
                .putInt(baseSequence)
                .putInt(count)
                .put(section);
        batch.flip();
        RecordBatch.of(batch).seal(batch.limit());
        return batch;
    }

    private void ensure(int bytes) {
        if (records.remaining() < bytes) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(records.capacity() * 2, records.position() + bytes));
            records.flip();
            bigger.put(records);
            records = bigger;
        }
    }
}
