package io.spate.tables;

/**
 * The tokens after {@code startExclusive} up to and including {@code endInclusive}, going round
 * the ring (signed longs, wrapping from {@link Long#MAX_VALUE} to {@link Long#MIN_VALUE}). Equal
 * ends mean the whole ring (a ring of one virtual node).
 */
public record TokenRange(long startExclusive, long endInclusive) {
    public boolean contains(long token) {
        if (startExclusive == endInclusive) {
            return true;
        }
        if (startExclusive < endInclusive) {
            return token > startExclusive && token <= endInclusive;
        }
        return token > startExclusive || token <= endInclusive; // wraps past MAX_VALUE
    }

    public boolean wraps() {
        return startExclusive >= endInclusive;
    }

    /** How many tokens it holds, unsigned; 0 stands for the whole ring (2^64). */
    public long widthUnsigned() {
        return endInclusive - startExclusive;
    }

    /** Position of a token inside the range, from 0 (unsigned). */
    public long offsetOf(long token) {
        return token - startExclusive - 1;
    }

    @Override
    public String toString() {
        return "(" + startExclusive + "," + endInclusive + "]";
    }
}
