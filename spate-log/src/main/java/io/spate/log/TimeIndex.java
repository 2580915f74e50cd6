package io.spate.log;

import java.util.Arrays;

/**
 * Sparse map from timestamp to offset within one segment. Timestamps are the running maximum
 * of the batches' max timestamps, so the entries are sorted and a lookup gives a safe place to
 * start scanning for the first record at or after a time.
 */
final class TimeIndex {
    private long[] timestamps = new long[32];
    private int[] relativeOffsets = new int[32];
    private int entries;

    synchronized void maybeAppend(long maxTimestampSoFar, int relativeOffset) {
        if (entries > 0 && maxTimestampSoFar <= timestamps[entries - 1]) {
            return;
        }
        if (entries == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, entries * 2);
            relativeOffsets = Arrays.copyOf(relativeOffsets, entries * 2);
        }
        timestamps[entries] = maxTimestampSoFar;
        relativeOffsets[entries] = relativeOffset;
        entries++;
    }

    /**
     * Relative offset of the last entry whose timestamp is below {@code timestamp}: every record
     * before it is older than the target, so a scan may start there. 0 if there is none.
     */
    synchronized int startOffsetFor(long timestamp) {
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (timestamps[mid] < timestamp) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? 0 : relativeOffsets[found];
    }

    /** The newest entry as {timestamp, relative offset}, or null when there is none. */
    synchronized long[] lastEntry() {
        return entries == 0 ? null : new long[]{timestamps[entries - 1], relativeOffsets[entries - 1]};
    }

    synchronized void truncateToRelativeOffset(int relativeOffset) {
        while (entries > 0 && relativeOffsets[entries - 1] >= relativeOffset) {
            entries--;
        }
    }
}
