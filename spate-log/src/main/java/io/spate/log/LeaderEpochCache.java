package io.spate.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each leader epoch begins in the log. It is what lets a replica that comes back after a
 * leader change find the point where its history and the new leader's part (Kafka's KIP-101 /
 * KIP-279), instead of trusting a high watermark that may be stale.
 *
 * <p>Learned from the epoch stamped in every batch, and kept in a checkpoint file next to the
 * segments, rewritten whenever an epoch begins or the log is cut: compaction can remove the
 * first batch of an epoch and retention whole epochs, and a returning replica still needs those
 * boundaries. At load the file is read first and the batches then add what it missed (a crash
 * between an append and the checkpoint write).
 */
final class LeaderEpochCache {
    private static final Logger log = LoggerFactory.getLogger(LeaderEpochCache.class);
    static final String FILE_NAME = "leader-epoch-checkpoint";

    private final TreeMap<Integer, Long> startOffsets = new TreeMap<>();
    /** {@link #latestEpoch()}, readable without the log's lock (kept by each change, under it). */
    private volatile int latest = -1;
    private final Path file;

    /** A cache persisted in {@code file}, or kept in memory only when {@code file} is null. */
    LeaderEpochCache(Path file) {
        this.file = file;
    }

    LeaderEpochCache() {
        this(null);
    }

    /** Reads the checkpoint, if there is a readable one; whether there was. */
    boolean load() {
        if (file == null || !Files.exists(file)) {
            return false;
        }
        try {
            var lines = StableRead.lines(file);
            int count = Integer.parseInt(lines.get(1).trim());
            TreeMap<Integer, Long> read = new TreeMap<>();
            for (int i = 0; i < count; i++) {
                String[] parts = lines.get(2 + i).trim().split(" ");
                read.put(Integer.parseInt(parts[0]), Long.parseLong(parts[1]));
            }
            startOffsets.putAll(read);
            latest = latestEpoch();
            return true;
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring unreadable {}: epochs are rebuilt from the batches", file, e);
            return false;
        }
    }

    /** Where the oldest epoch held begins, -1 when none is (after the log start when retention or compaction removed what lay before it). */
    long firstStart() {
        return startOffsets.isEmpty() ? -1 : startOffsets.firstEntry().getValue();
    }

    /** Records that a batch of {@code epoch} starts at {@code baseOffset}; only the first one of an epoch counts. */
    void observe(int epoch, long baseOffset) throws IOException {
        if (epoch < 0) {
            return;
        }
        Map.Entry<Integer, Long> last = startOffsets.lastEntry();
        if (last == null || epoch > last.getKey()) {
            startOffsets.put(epoch, baseOffset);
            persist();
        }
    }

    /**
     * Checks, batch by batch as a load reads them, that each batch lies in the epoch this cache
     * places its offset in, and keeps where each epoch's first batch is, to rebuild from.
     */
    BatchCheck checkAgainstBatches() {
        return new BatchCheck(startOffsets);
    }

    static final class BatchCheck {
        /** The loaded epochs by where they begin: a batch's epoch is the one that began last at or before it. */
        private final TreeMap<Long, Integer> loadedByStart = new TreeMap<>();
        private final int newestLoaded;
        private final TreeMap<Integer, Long> seen = new TreeMap<>();
        private long firstBase = -1;
        private int lastEpoch = -1;
        private String disagreement;

        private BatchCheck(TreeMap<Integer, Long> loaded) {
            loaded.forEach((epoch, start) -> loadedByStart.put(start, epoch));
            this.newestLoaded = loaded.isEmpty() ? -1 : loaded.lastKey();
        }

        void onBatch(int epoch, long baseOffset) {
            if (epoch < 0) {
                return;
            }
            if (firstBase < 0) {
                firstBase = baseOffset;
            }
            if (epoch > lastEpoch) {
                seen.put(epoch, baseOffset);
                lastEpoch = epoch;
            }
            if (disagreement != null || epoch > newestLoaded) {
                return; // an epoch the checkpoint never heard of (written after it): nothing to compare
            }
            Map.Entry<Long, Integer> placed = loadedByStart.floorEntry(baseOffset);
            // Below the checkpoint's first start (placed == null) lie records deleted just before a
            // crash, whose log start was not checkpointed yet: nothing to compare.
            if (placed != null && placed.getValue() != epoch) {
                disagreement = "a batch of epoch " + epoch + " at offset " + baseOffset + ", where the checkpoint has epoch "
                        + placed.getValue() + " from offset " + placed.getKey();
            }
        }

        /** What the first batch that disagreed found, or null. */
        String disagreement() {
            return disagreement;
        }
    }

    /**
     * Replaces what the checkpoint said from the first batch on with where the batches begin each
     * epoch; entries for epochs older than the first batch's, whose batches are gone (retention,
     * compaction), are kept.
     */
    void rebuild(BatchCheck check) throws IOException {
        int firstEpoch = check.seen.isEmpty() ? Integer.MAX_VALUE : check.seen.firstKey();
        startOffsets.entrySet().removeIf(e -> e.getKey() >= firstEpoch || e.getValue() >= check.firstBase && check.firstBase >= 0);
        startOffsets.putAll(check.seen);
        persist();
    }

    int latestEpoch() {
        return startOffsets.isEmpty() ? -1 : startOffsets.lastKey();
    }

    /** The newest epoch as of the last change, for a reader that does not hold the log's lock. */
    int latestEpochUnlocked() {
        return latest;
    }

    /** The epoch whose batches hold {@code offset}: the newest beginning at or below it; -1 when none does. */
    int epochAt(long offset) {
        int epoch = -1;
        for (Map.Entry<Integer, Long> entry : startOffsets.entrySet()) {
            if (entry.getValue() > offset) {
                break;
            }
            epoch = entry.getKey();
        }
        return epoch;
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
    void truncateFrom(long offset) throws IOException {
        if (startOffsets.values().removeIf(start -> start >= offset)) {
            persist();
        }
    }

    /**
     * The log now starts at {@code logStartOffset}: epochs that ended before it are dropped, and
     * the one that spans it begins there (Kafka does the same), so that no answer points below
     * the log start.
     */
    void truncateBefore(long logStartOffset) throws IOException {
        Map.Entry<Integer, Long> spanning = null;
        for (Map.Entry<Integer, Long> entry : startOffsets.entrySet()) {
            if (entry.getValue() <= logStartOffset) {
                spanning = entry;
            }
        }
        if (spanning == null || spanning.getValue() == logStartOffset && spanning.getKey().equals(startOffsets.firstKey())) {
            return;
        }
        int keep = spanning.getKey();
        startOffsets.headMap(keep, false).clear();
        startOffsets.put(keep, logStartOffset);
        persist();
    }

    /** Forgets everything: the log restarts empty at a new offset. */
    void clear() throws IOException {
        startOffsets.clear();
        persist();
    }

    private void persist() throws IOException {
        latest = latestEpoch();
        if (file == null) {
            return;
        }
        StringBuilder text = new StringBuilder("0\n").append(startOffsets.size()).append('\n');
        startOffsets.forEach((epoch, start) -> text.append(epoch).append(' ').append(start).append('\n'));
        LogManager.writeAtomically(file, StableRead.withChecksum(text.toString()));
    }

    @Override
    public String toString() {
        return startOffsets.toString();
    }
}
