package io.spate.log;

/**
 * How many bytes each append above the high watermark added, so that a move of the high
 * watermark can say how many bytes it made readable: what a consumer's {@code fetch.min.bytes}
 * counts (Kafka keeps a byte position with its high watermark for the same reason). One entry
 * per append call, in a ring of primitives (the produce path allocates nothing here).
 *
 * <p>Where it cannot know (an append cut in its middle, the ring full, a gap a compacted leader
 * left, the high watermark set back), it answers {@link #UNKNOWN} and readers wake as if enough
 * had arrived: early rather than late. A move that lands inside an append counts all of that
 * append at once. Not thread-safe: the log calls it under its append lock.
 */
final class UncommittedBytes {
    /** The answer when the bytes are not known: wakes every waiting reader. */
    static final long UNKNOWN = Long.MAX_VALUE;
    private static final int MAX_ENTRIES = 1 << 12;

    private long[] ends = new long[16];
    private long[] sizes = new long[16];
    private int head;
    private int count;
    /** Bytes from here on are either counted already or held by an entry. */
    private long knownFrom;
    /** Where the oldest entry starts: everything below was counted (from {@link #knownFrom}). */
    private long countedTo;
    /** Where the newest entry ends. */
    private long coveredTo;

    UncommittedBytes(long logEndOffset) {
        restartAt(logEndOffset);
    }

    /** An append of {@code bytes} at offsets [{@code from}, {@code to}). */
    void appended(long from, long to, long bytes) {
        if (from != coveredTo) {
            restartAt(from);
        }
        if (count == MAX_ENTRIES) {
            dropOldest();
            knownFrom = countedTo; // what the dropped entry held is not known any more
        } else if (count == ends.length) {
            grow();
        }
        int tail = (head + count) % ends.length;
        ends[tail] = to;
        sizes[tail] = bytes;
        count++;
        coveredTo = to;
    }

    /**
     * The high watermark moved from {@code from} up to {@code to}: the bytes this made
     * readable (at least 1), or {@link #UNKNOWN}. Entries it passed are let go.
     */
    long committed(long from, long to) {
        if (from < knownFrom || to > coveredTo) {
            while (count > 0 && countedTo < to) {
                dropOldest();
            }
            return UNKNOWN;
        }
        long bytes = 0;
        while (count > 0 && countedTo < to) {
            if (ends[head] > from) {
                bytes += sizes[head];
            }
            dropOldest();
        }
        return Math.max(1, bytes);
    }

    /** The log was cut back to end at {@code offset}. */
    void truncatedTo(long offset) {
        while (count > 0 && ends[(head + count - 1) % ends.length] > offset) {
            count--;
        }
        coveredTo = count == 0 ? countedTo : ends[(head + count - 1) % ends.length];
        if (coveredTo != offset) {
            restartAt(offset); // an append cut in its middle, or counted already: not known any more
        }
    }

    /** The high watermark went back: what it passes again was counted once and is not known now. */
    void highWatermarkSetBack() {
        knownFrom = countedTo;
    }

    /** Forgets everything; what is appended from {@code offset} on is counted again. */
    void restartAt(long offset) {
        head = 0;
        count = 0;
        knownFrom = offset;
        countedTo = offset;
        coveredTo = offset;
    }

    private void dropOldest() {
        countedTo = ends[head];
        head = (head + 1) % ends.length;
        count--;
    }

    private void grow() {
        long[] newEnds = new long[ends.length * 2];
        long[] newSizes = new long[sizes.length * 2];
        for (int i = 0; i < count; i++) {
            newEnds[i] = ends[(head + i) % ends.length];
            newSizes[i] = sizes[(head + i) % sizes.length];
        }
        ends = newEnds;
        sizes = newSizes;
        head = 0;
    }
}
