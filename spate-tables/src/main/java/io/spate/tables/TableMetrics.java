package io.spate.tables;

import java.util.EnumMap;
import java.util.Map;

/**
 * A node's table counters, for the next slice to export (Prometheus, the admin API). Plain longs:
 * only the node's event thread writes them; a reader on another thread sees values that may be
 * a moment old, which is all a scrape needs.
 */
public final class TableMetrics {
    /** Count, total and largest latency of one kind of request at one consistency. */
    public static final class Latency {
        private long count;
        private long totalNanos;
        private long maxNanos;

        void record(long nanos) {
            count++;
            totalNanos += nanos;
            maxNanos = Math.max(maxNanos, nanos);
        }

        public long count() {
            return count;
        }

        public long totalNanos() {
            return totalNanos;
        }

        public long maxNanos() {
            return maxNanos;
        }
    }

    private final Map<Consistency, Latency> writeLatency = new EnumMap<>(Consistency.class);
    private final Map<Consistency, Latency> readLatency = new EnumMap<>(Consistency.class);
    long writes;
    long writeTimeouts;
    long writesUnavailable;
    long reads;
    long readTimeouts;
    long readsUnavailable;
    /** Reads that found a stale or missing replica among the ones they consulted and repaired it before answering. */
    long blockingReadRepairs;
    /** Replicas repaired after a read had answered (late, stale answers). */
    long backgroundReadRepairs;
    long keysReadRepaired;
    long antiEntropySessions;
    long antiEntropyInSync;
    long antiEntropyAbandoned;
    long keysPushedByAntiEntropy;
    long keysPulledByAntiEntropy;
    long tombstonesPurged;
    long hintsSent;

    public TableMetrics() {
        for (Consistency c : Consistency.values()) {
            writeLatency.put(c, new Latency());
            readLatency.put(c, new Latency());
        }
    }

    void write(Consistency c, long nanos) {
        writeLatency.get(c).record(nanos);
    }

    void read(Consistency c, long nanos) {
        readLatency.get(c).record(nanos);
    }

    public Latency writeLatency(Consistency c) {
        return writeLatency.get(c);
    }

    public Latency readLatency(Consistency c) {
        return readLatency.get(c);
    }

    public long writes() {
        return writes;
    }

    public long writeTimeouts() {
        return writeTimeouts;
    }

    public long writesUnavailable() {
        return writesUnavailable;
    }

    public long reads() {
        return reads;
    }

    public long readTimeouts() {
        return readTimeouts;
    }

    public long readsUnavailable() {
        return readsUnavailable;
    }

    public long blockingReadRepairs() {
        return blockingReadRepairs;
    }

    public long backgroundReadRepairs() {
        return backgroundReadRepairs;
    }

    public long keysReadRepaired() {
        return keysReadRepaired;
    }

    /** Reads that repaired something, over all reads answered. */
    public double readRepairRate() {
        return reads == 0 ? 0 : (double) blockingReadRepairs / reads;
    }

    public long antiEntropySessions() {
        return antiEntropySessions;
    }

    public long antiEntropyInSync() {
        return antiEntropyInSync;
    }

    public long antiEntropyAbandoned() {
        return antiEntropyAbandoned;
    }

    public long keysPushedByAntiEntropy() {
        return keysPushedByAntiEntropy;
    }

    public long keysPulledByAntiEntropy() {
        return keysPulledByAntiEntropy;
    }

    public long tombstonesPurged() {
        return tombstonesPurged;
    }

    public long hintsSent() {
        return hintsSent;
    }
}
