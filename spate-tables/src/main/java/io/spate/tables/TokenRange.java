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

    /**
     * Slice {@code i} of the ring cut in {@code slices} equal parts (a power of two):
     * {@code (MIN + i*width - 1, MIN + (i+1)*width - 1]}, so slice 0 starts at {@link Long#MIN_VALUE}, the
     * last ends at {@link Long#MAX_VALUE}, and the slices in turn visit the keys in a whole scan's order.
     */
    public static TokenRange slice(int i, int slices) {
        if (slices < 2 || Integer.bitCount(slices) != 1 || i < 0 || i >= slices) {
            throw new IllegalArgumentException("slice " + i + " of " + slices);
        }
        long width = 1L << (64 - Integer.numberOfTrailingZeros(slices));
        return new TokenRange(Long.MIN_VALUE + i * width - 1, Long.MIN_VALUE + (i + 1) * width - 1);
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
