package io.spate.log;

import java.util.Arrays;

/**
 * Sparse map from offset to file position within one segment: one entry per
 * {@code index.interval.bytes} of appended data. Entries are relative to the segment's base
 * offset so that they fit in an int. Kept in memory and rebuilt from the segment at load.
 */
final class OffsetIndex {
    private int[] relativeOffsets = new int[64];
    private int[] positions = new int[64];
    private int entries;

    synchronized void append(int relativeOffset, int position) {
        if (entries > 0 && relativeOffset <= relativeOffsets[entries - 1]) {
            return;
        }
        if (entries == relativeOffsets.length) {
            relativeOffsets = Arrays.copyOf(relativeOffsets, entries * 2);
            positions = Arrays.copyOf(positions, entries * 2);
        }
        relativeOffsets[entries] = relativeOffset;
        positions[entries] = position;
        entries++;
    }

    /** Position of the last indexed batch starting at or before {@code relativeOffset}; 0 if none. */
    synchronized int floorPosition(int relativeOffset) {
        int i = Arrays.binarySearch(relativeOffsets, 0, entries, relativeOffset);
        if (i >= 0) {
            return positions[i];
        }
        int insertion = -i - 1;
        return insertion == 0 ? 0 : positions[insertion - 1];
    }

    /**
     * Relative offset of the first indexed batch starting at or after {@code position}, or -1
     * when none is indexed there: no batch that starts before {@code position} holds that offset
     * or a later one (a bound on what a read ending at {@code position} returned).
     */
    synchronized int relativeOffsetAtOrAfterPosition(int position) {
        int i = Arrays.binarySearch(positions, 0, entries, position);
        int at = i >= 0 ? i : -i - 1;
        return at < entries ? relativeOffsets[at] : -1;
    }

    /** Drops entries at or beyond {@code position}, after the segment was truncated. */
    synchronized void truncateToPosition(int position) {
        while (entries > 0 && positions[entries - 1] >= position) {
            entries--;
        }
    }

    synchronized int entries() {
        return entries;
    }
}
