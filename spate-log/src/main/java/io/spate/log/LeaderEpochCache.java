package io.spate.log;

import java.util.Map;
import java.util.TreeMap;

/**
 * Where each leader epoch begins in the log, learned from the epoch stamped in every batch.
 * It is what lets a replica that comes back after a leader change find the point where its
 * history and the new leader's part (Kafka's KIP-101 / KIP-279), instead of trusting a high
 * watermark that may be stale. Rebuilt from batch headers when the log is opened.
 */
final class LeaderEpochCache {
    private final TreeMap<Integer, Long> startOffsets = new TreeMap<>();

    /** Records that a batch of {@code epoch} starts at {@code baseOffset}; only the first one of an epoch counts. */
    void observe(int epoch, long baseOffset) {
        if (epoch < 0) {
            return;
        }
        Map.Entry<Integer, Long> last = startOffsets.lastEntry();
        if (last == null || epoch > last.getKey()) {
            startOffsets.put(epoch, baseOffset);
        }
    }

    int latestEpoch() {
        return startOffsets.isEmpty() ? -1 : startOffsets.lastKey();
    }

    long[] endOffsetFor(int epoch, long logEndOffset) {
        Map.Entry<Integer, Long> floor = startOffsets.floorEntry(epoch);
        if (floor == null) {
            return new long[]{-1, -1};
        }
        Map.Entry<Integer, Long> next = startOffsets.higherEntry(floor.getKey());
        return new long[]{floor.getKey(), next == null ? logEndOffset : next.getValue()};
    }

    /** Forgets epochs that began at or after {@code offset} (the log was cut there). */
    void truncateFrom(long offset) {
        startOffsets.values().removeIf(start -> start >= offset);
    }
}
