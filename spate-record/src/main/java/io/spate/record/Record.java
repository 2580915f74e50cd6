package io.spate.record;

import java.nio.ByteBuffer;

/**
 * One record of a v2 batch, as a view over the batch's (inflated) records section. It is valid
 * until the {@link RecordReader} that gave it moves on; {@link #key()} and {@link #value()} are
 * views too, copy them to keep them.
 */
public final class Record {
    ByteBuffer buffer;
    int start;
    int end;
    long offset;
    long timestamp;
    int keyStart;
    int keyLength;
    int valueStart;
    int valueLength;

    public long offset() {
        return offset;
    }

    /** The record's timestamp; for a batch stamped with log-append time, the batch's. */
    public long timestamp() {
        return timestamp;
    }

    public boolean hasKey() {
        return keyLength >= 0;
    }

    /** The key's bytes, or null when the record has none. */
    public ByteBuffer key() {
        return keyLength < 0 ? null : view(keyStart, keyLength);
    }

    /** False for a tombstone. */
    public boolean hasValue() {
        return valueLength >= 0;
    }

    /** The value's bytes, or null for a tombstone. */
    public ByteBuffer value() {
        return valueLength < 0 ? null : view(valueStart, valueLength);
    }

    /** The record's encoded size, its length prefix included. */
    public int sizeInBytes() {
        return end - start;
    }

    /** Copies the record as encoded (length prefix, deltas and all) to {@code out}'s position. */
    void copyTo(ByteBuffer out) {
        out.put(buffer.duplicate().limit(end).position(start));
    }

    private ByteBuffer view(int from, int length) {
        return buffer.duplicate().limit(from + length).position(from).slice().asReadOnlyBuffer();
    }
}
