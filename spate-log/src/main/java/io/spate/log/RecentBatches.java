package io.spate.log;

/**
 * Where a segment's newest batches start and which offset each ends with, kept in memory as they
 * are appended. Readers that keep up (followers, pipeline tasks, consumers at the tail) ask for
 * offsets among the last few batches; without this every such read walked batch headers from the
 * nearest offset-index entry back in the file, a read system call per header, twice per fetch
 * bounded by the high watermark.
 *
 * <p>A fixed ring of the last {@value #CAPACITY} batches: it answers only what it knows for sure
 * and says {@link #UNKNOWN} otherwise, and the caller walks the file as before. Entries are
 * relative to the segment's base offset, like the offset index. Guarded by its own monitor: one
 * appender and a few readers per partition, each holding it for a handful of array reads.
 */
final class RecentBatches {
    /** The answer when the ring cannot tell: the caller looks in the file. */
    static final int UNKNOWN = -2;
    static final int CAPACITY = 64;

    private final int[] lastOffsets = new int[CAPACITY];
    private final int[] positions = new int[CAPACITY];
    /** Ring slot of the oldest entry held. */
    private int oldest;
    private int entries;
    /** Whether the oldest entry held is the segment's first batch: no entry was ever pushed out. */
    private boolean fromSegmentStart = true;

    synchronized void add(int relativeLastOffset, int position) {
        if (entries == CAPACITY) {
            oldest = (oldest + 1) % CAPACITY;
            entries--;
            fromSegmentStart = false;
        }
        int slot = (oldest + entries) % CAPACITY;
        lastOffsets[slot] = relativeLastOffset;
        positions[slot] = position;
        entries++;
    }

    /** Drops the batches at or past {@code position}, after the segment was cut there. */
    synchronized void truncateToPosition(int position) {
        while (entries > 0 && positions[(oldest + entries - 1) % CAPACITY] >= position) {
            entries--;
        }
    }

    /**
     * Where the newest batch held ends, relative to the segment's base (its last offset plus
     * one): 0 when the segment holds no batch, {@link #UNKNOWN} when the ring lost track (every
     * batch it held was cut away, and older ones were pushed out).
     */
    synchronized int newestEnd() {
        if (entries > 0) {
            return lastOffsets[slot(entries - 1)] + 1;
        }
        return fromSegmentStart ? 0 : UNKNOWN;
    }

    /**
     * The position of the first batch below {@code limit} (a batch boundary or the segment's
     * size) whose last offset is at or after {@code relativeOffset}; -1 when every batch below
     * {@code limit} ends before it; {@link #UNKNOWN} when the answer lies outside the ring.
     */
    synchronized int positionOf(int relativeOffset, int limit) {
        int i = entries - 1;
        while (i >= 0 && positions[slot(i)] >= limit) {
            i--;
        }
        if (i < 0) {
            // No batch below the limit is held: either there is none (an empty segment, whose
            // file walk costs nothing) or they were pushed out.
            return UNKNOWN;
        }
        if (lastOffsets[slot(i)] < relativeOffset) {
            return -1; // the newest batch below the limit is held, and ends before the offset
        }
        while (i > 0 && lastOffsets[slot(i - 1)] >= relativeOffset) {
            i--;
        }
        if (i == 0 && !fromSegmentStart) {
            return UNKNOWN; // a batch pushed out of the ring may hold the offset too
        }
        return positions[slot(i)];
    }

    private int slot(int i) {
        return (oldest + i) % CAPACITY;
    }
}
