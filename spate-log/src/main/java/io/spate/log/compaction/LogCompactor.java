package io.spate.log.compaction;

import io.spate.log.CleanedSegments;
import io.spate.log.LogConfig;
import io.spate.log.LogScanner;
import io.spate.log.PartitionLog;
import io.spate.record.Codecs;
import io.spate.record.Record;
import io.spate.record.RecordBatch;
import io.spate.record.RecordBatchFilter;
import io.spate.record.RecordReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * Log compaction for topics with {@code cleanup.policy=compact}: keeps the latest record of each
 * key in the sealed, committed segments, and drops tombstones (null values) once they are older
 * than {@code delete.retention.ms}, so that a consumer reading from the start sees the latest
 * value of every key and deleted keys eventually vanish.
 *
 * <p>One pass: (1) map the keys of the dirty part (from where the last pass stopped) to their
 * last offset, until the map reaches its memory bound ({@code log.cleaner.dedupe.buffer.size}),
 * (2) rewrite every segment from the log start up to the end of the segment where the map
 * stopped, keeping a record unless the map holds a later offset for its key
 * ({@link RecordBatchFilter} rewrites batches keeping their offsets), into new
 * segments of at most {@code segment.bytes}, (3) swap them in through {@link CleanedSegments}.
 * A log whose keys do not fit the bound takes several passes; each is correct on its own,
 * since a record is only dropped for a later record of the same key that the map has seen.
 * Never touches the active segment or anything at or above the last stable offset (so every
 * transaction in the range is decided). Offsets never change; compacted logs have gaps, as in
 * Kafka.
 *
 * <p>Transactions (KIP-98): the records of aborted transactions, found through the log's
 * aborted-transaction index, never enter the key map and are dropped (an aborted value or
 * tombstone must not replace or delete an older committed one); committed transactional records
 * are compacted like any others. The batch holding the last sequence of a producer the log still
 * knows stays, empty if none of its records does, and so does a marker that carries its
 * producer's current epoch when no data batch of that epoch is left ({@link ProducersLastRecords},
 * as Kafka's cleaner): a replica that replays the log knows the producer, so its retry is still
 * found a duplicate and an older instance still fenced. A transaction marker goes once its transaction has no data
 * left before it and its delete horizon has passed ({@link TxnMarkers}, KIP-534): the first pass
 * that finds the transaction empty stamps the horizon ({@code delete.retention.ms} from then),
 * a pass after it removes the marker; a log with a stamped marker is due again at its horizon
 * even without new dirty data. The swap drops the aborted-transaction index entries of removed
 * abort markers. Tombstones keep their own rule (their record timestamp plus
 * {@code delete.retention.ms}).
 *
 * <p>Not thread-safe: one compactor per cleaner thread.
 */
public final class LogCompactor {
    private static final Logger log = LoggerFactory.getLogger(LogCompactor.class);
    /** Per map entry on top of the key bytes: the HashMap node, the ByteBuffer and the Long. */
    public static final int ENTRY_OVERHEAD_BYTES = 96;
    public static final long DEFAULT_KEY_MAP_BYTES = 32L << 20;

    private final Clock clock;
    private final long keyMapBytes;
    private final RecordReader reader;
    private final RecordBatchFilter filter;
    private final Map<PartitionLog, Long> cleanedUpTo = new HashMap<>();
    /** Set by {@link #stop}: a pass gives up at its next batch, its output discarded. */
    private volatile boolean stopping;
    /** Per log, the earliest delete horizon of a marker or tombstone the last pass kept: the log is due again then. */
    private final Map<PartitionLog, Long> horizonDue = new HashMap<>();
    /** Per log, up to where its passes kept tombstones, and when. */
    private final Map<PartitionLog, TombstoneHorizons> tombstoneHorizons = new HashMap<>();
    private ByteBuffer output = ByteBuffer.allocate(0);

    /** @param codecs inflate and deflate compressed batches (null: only uncompressed topics can be compacted) */
    public LogCompactor(Clock clock, long keyMapBytes, Codecs codecs) {
        this.clock = clock;
        this.keyMapBytes = keyMapBytes;
        this.reader = new RecordReader(codecs);
        this.filter = new RecordBatchFilter(codecs);
    }

    /**
     * Makes a pass running now give up at its next batch (and no later one start): a node
     * stopping does not wait for a pass over a big log, nor interrupts it, which would close the
     * files of the log it reads (ClosedByInterruptException).
     */
    public void stop() {
        stopping = true;
    }

    private void checkNotStopping() throws IOException {
        if (stopping) {
            throw new StoppedException();
        }
    }

    /** A pass given up because the compactor was stopped. */
    private static final class StoppedException extends IOException {
        StoppedException() {
            super("the log cleaner is stopping");
        }
    }

    /** Compacts every log in {@code logs} whose dirty share of sealed bytes reaches its threshold. */
    public void compactDue(Iterable<PartitionLog> logs) {
        for (PartitionLog partitionLog : logs) {
            if (stopping) {
                return;
            }
            LogConfig config = partitionLog.config();
            if (!config.compact() || partitionLog.isOffline()) {
                continue;
            }
            try {
                long cleaned = Math.max(cleanedUpTo.getOrDefault(partitionLog, partitionLog.logStartOffset()), partitionLog.logStartOffset());
                // Counted below where a pass may clean, as Kafka's dirty ratio is: with the last
                // stable offset held by an open transaction, the bytes written past it made every
                // pass due, and each rewrote the whole log unchanged.
                long cleanable = partitionLog.cleanableEndOffset();
                long sealed = partitionLog.sealedBytesBetween(partitionLog.logStartOffset(), cleanable);
                long dirty = partitionLog.sealedBytesBetween(cleaned, cleanable);
                Long horizon = horizonDue.get(partitionLog);
                boolean markersDue = horizon != null && horizon <= clock.millis();
                if (sealed > 0 && (markersDue || dirty > 0 && (double) dirty / sealed >= config.minCleanableDirtyRatio())) {
                    compact(partitionLog);
                }
            } catch (StoppedException e) {
                log.info("{}: compaction given up, the node is stopping; the log is unchanged", partitionLog.topicPartition());
                return;
            } catch (IOException | RuntimeException e) {
                log.error("{}: compaction failed; the log is unchanged", partitionLog.topicPartition(), e);
            }
        }
        cleanedUpTo.keySet().removeIf(l -> l.config() == null);
        horizonDue.keySet().removeIf(l -> l.config() == null);
        tombstoneHorizons.keySet().removeIf(l -> l.config() == null);
    }

    /**
     * One compaction pass over the committed sealed segments of {@code partitionLog}.
     *
     * @return true when segments were replaced
     */
    public boolean compact(PartitionLog partitionLog) throws IOException {
        long from = partitionLog.logStartOffset();
        long end = partitionLog.cleanableEndOffset();
        long dirtyFrom = Math.max(from, cleanedUpTo.getOrDefault(partitionLog, from));
        if (end <= from) {
            return false;
        }
        if (dirtyFrom >= end) {
            dirtyFrom = from;
        }
        long firstSegment = partitionLog.segmentBaseAtOrBelow(from);
        AbortedBatches aborted = new AbortedBatches(partitionLog.abortedTransactions(firstSegment, end));
        KeyMap latest = mapKeys(partitionLog, dirtyFrom, end, aborted);
        // Rewrite whole segments: up to the start of the segment after the one the map ended in.
        long to = segmentEndAtOrAfter(partitionLog, latest.mappedUpTo, end);
        long now = clock.millis();
        long deleteRetentionMs = partitionLog.config().deleteRetentionMs();
        long mappedUpTo = latest.mappedUpTo;
        TombstoneHorizons tombstones = tombstoneHorizons.computeIfAbsent(partitionLog, l -> new TombstoneHorizons());
        long tombstonesGoBelow = tombstones.removableBelow(now, deleteRetentionMs, partitionLog.truncations());
        long[] tombstonesKept = {0};
        ProducersLastRecords producersLast = new ProducersLastRecords(partitionLog.lastRecordsOfProducers());
        RecordBatchFilter.Retention retention = new RecordBatchFilter.Retention() {
            @Override
            public boolean retain(RecordBatch batch, Record record) {
                if (aborted.contains(batch)) {
                    return false;
                }
                if (!record.hasKey() || record.offset() >= mappedUpTo) {
                    return true;
                }
                Long last = latest.offsets.get(record.key());
                if (last != null && last > record.offset()) {
                    return false;
                }
                // A tombstone stays until delete.retention.ms after the first pass that kept it.
                if (record.hasValue()) {
                    return true;
                }
                if (record.offset() < tombstonesGoBelow) {
                    return false;
                }
                tombstonesKept[0]++;
                return true;
            }

            @Override
            public boolean keepWhenEmpty(RecordBatch batch) {
                return producersLast.holds(batch);
            }
        };
        TxnMarkers markers = new TxnMarkers(end, now, deleteRetentionMs, producersLast);
        long[] kept = new long[2];
        boolean replaced;
        int outputs;
        try (CleanedSegments cleaned = partitionLog.beginCleaning(firstSegment, to)) {
            // From the first segment's base, which may lie below the log start: read as stored.
            partitionLog.forEachStoredChunk(firstSegment, to, chunk -> {
                checkNotStopping();
                if (output.capacity() < chunk.remaining()) {
                    output = ByteBuffer.allocate(chunk.remaining());
                }
                RecordBatchFilter.Result result = filter.filter(chunk, retention, output);
                output = result.output();
                ByteBuffer batches = markers.apply(result.output());
                kept[0] += result.recordsKept();
                kept[1] += batches.remaining();
                cleaned.append(batches);
            });
            replaced = cleaned.commit();
            outputs = cleaned.segmentCount();
        }
        if (replaced) {
            cleanedUpTo.put(partitionLog, mappedUpTo);
            if (tombstonesKept[0] > 0) {
                // Up to where the keys were mapped: a tombstone past it was kept without being looked
                // at, and its older value may go only at a later pass, from which its stay counts.
                tombstones.kept(mappedUpTo, now);
            }
            long due = Math.min(markers.earliestHorizon(), tombstones.nextDueMs(deleteRetentionMs));
            if (due == Long.MAX_VALUE) {
                horizonDue.remove(partitionLog);
            } else {
                horizonDue.put(partitionLog, due);
            }
            log.info("{}: compacted offsets [{}, {}) ({} key(s) mapped up to {}): {} record(s), {} bytes kept in {} segment(s); "
                            + "{} transaction marker(s) given a delete horizon, {} removed",
                    partitionLog.topicPartition(), firstSegment, to, latest.offsets.size(), mappedUpTo, kept[0], kept[1], outputs,
                    markers.stamped(), markers.removed());
        }
        return replaced;
    }

    /**
     * The last offset of each key in [from, end), stopping at a batch boundary when the map is
     * full. Records of aborted transactions are not mapped: they never supersede anything.
     */
    private KeyMap mapKeys(PartitionLog partitionLog, long from, long end, AbortedBatches aborted) throws IOException {
        KeyMap map = new KeyMap();
        map.mappedUpTo = from;
        LogScanner.forEachBatch(partitionLog, from, end, batch -> {
            checkNotStopping();
            if (map.full) {
                return;
            }
            if (map.bytes >= keyMapBytes && map.mappedUpTo > from) {
                map.full = true;
                return;
            }
            if (!batch.isControl() && !aborted.contains(batch)) {
                reader.open(batch);
                while (reader.hasNext()) {
                    Record record = reader.next();
                    if (record.hasKey()) {
                        ByteBuffer key = record.key();
                        if (map.offsets.put(copy(key), record.offset()) == null) {
                            map.bytes += key.remaining() + ENTRY_OVERHEAD_BYTES;
                        }
                    }
                }
            }
            map.mappedUpTo = batch.lastOffset() + 1;
        });
        if (!map.full) {
            map.mappedUpTo = end;
        }
        return map;
    }

    /** The end of the segment holding {@code offset} (the next segment's base), at most {@code end}. */
    private static long segmentEndAtOrAfter(PartitionLog partitionLog, long offset, long end) {
        if (offset >= end) {
            return end;
        }
        long next = partitionLog.nextSegmentBaseAfter(offset);
        return next < 0 ? end : Math.min(next, end);
    }

    private static final class KeyMap {
        final Map<ByteBuffer, Long> offsets = new HashMap<>();
        long bytes;
        long mappedUpTo;
        boolean full;
    }

    private static ByteBuffer copy(ByteBuffer key) {
        ByteBuffer copy = ByteBuffer.allocate(key.remaining());
        copy.put(key.duplicate()).flip();
        return copy;
    }
}
