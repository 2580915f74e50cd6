package io.spate.record;

import java.nio.ByteBuffer;

/**
 * The zigzag varints of Kafka's v2 records (lengths, deltas and counts), read and written at an
 * absolute index of a buffer or at its position.
 */
final class Varints {
    private Varints() {
    }

    static int sizeOfVarint(int value) {
        // An int's zigzag form is the same number as its long's, so it takes as many bytes.
        return sizeOfVarlong(value);
    }

    static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((v & 0xffffffffffffff80L) != 0L) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    static void writeVarint(ByteBuffer out, int value) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xffffff80) != 0) {
            out.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    static void writeVarlong(ByteBuffer out, long value) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xffffffffffffff80L) != 0L) {
            out.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }
}
