package io.spate.record;

import java.nio.ByteBuffer;

/**
 * Reads the fields of v2 records from a buffer between a position and an end, without moving
 * the buffer's own position. Running past the end throws {@link IndexOutOfBoundsException}, which
 * callers turn into a refusal of the batch.
 */
final class ByteCursor {
    private ByteBuffer buffer;
    int position;
    int end;

    ByteCursor at(ByteBuffer buffer, int position, int end) {
        this.buffer = buffer;
        this.position = position;
        this.end = end;
        return this;
    }

    ByteBuffer buffer() {
        return buffer;
    }

    byte get() {
        if (position >= end) {
            throw new IndexOutOfBoundsException();
        }
        return buffer.get(position++);
    }

    void skip(int bytes) {
        if (bytes < 0 || (long) position + bytes > end) {
            throw new IndexOutOfBoundsException();
        }
        position += bytes;
    }

    int varint() {
        return (int) zigzag(28);
    }

    long varlong() {
        return zigzag(63);
    }

    /** A zigzag-encoded varint of at most {@code maxShift / 7 + 1} bytes, as Kafka's record fields are. */
    private long zigzag(int maxShift) {
        long raw = 0;
        int shift = 0;
        while (true) {
            byte b = get();
            raw |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > maxShift) {
                throw new IndexOutOfBoundsException();
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }
}
