package io.spate.log;

import io.spate.record.ControlBatches;
import io.spate.record.InvalidRecordBatchException;
import io.spate.record.RecordBatch;
import io.spate.record.RecordReader;
import io.spate.record.RecordBatches;
import io.spate.record.RecordsValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The log of one partition: an ordered run of {@link LogSegment}s.
 *
 * <p>Offsets: {@code logStartOffset <= lastStableOffset <= highWatermark <= logEndOffset}. The
 * log start offset is the first offset still stored (retention moves it); the log end offset is
 * the offset the next record will get; the high watermark is what readers may see (on one node,
 * everything appended; with replication, what the in-sync replicas hold); the last stable offset
 * is what read_committed readers may see: below the first transaction not yet decided (open, or
 * ended by a marker the high watermark has not passed). The recovery point is the offset below
 * which every byte has been fsynced.
 *
 * <p>Threading: appends, truncation, rolls and retention hold the append lock; reads take no
 * lock and see only bytes below the segment sizes and offsets published by appends; fsync runs
 * on the flusher thread without the append lock, so producers keep appending while it runs.
 */
public final class PartitionLog {
    private static final Logger log = LoggerFactory.getLogger(PartitionLog.class);

    /**
     * How a log is opened: the offsets the data directory's checkpoints hold for it, and whether
     * corrupt data found on the way is set aside (an operator asked for it) or keeps the log
     * offline.
     */
    public record OpenOptions(long recoveryPoint, long logStartOffset, long highWatermark, boolean setAsideCorruptData) {
        public static OpenOptions recoveryPoint(long recoveryPoint) {
            return new OpenOptions(recoveryPoint, 0, 0, false);
        }
    }

    /** Where sets-aside of corrupt data go, under the data directory. */
    public static final String QUARANTINE_DIR = "quarantine";

    private final TopicPartition topicPartition;
    private final Path dir;
    private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
    /** Guarded by the append lock; replaced whole when a truncation rebuilds it by replay. */
    private ProducerStateTable producers = new ProducerStateTable();
    /** KIP-890 part 1: the guard of each producer whose transaction is being verified; under the append lock. */
    private final Map<Long, TxnVerificationGuard> verificationGuards = new HashMap<>();
    private final LeaderEpochCache epochs;
    private final Object appendLock = new Object();
    /** Bytes appended above the high watermark, for readers that wait for a number of bytes; under appendLock. */
    private final UncommittedBytes uncommitted = new UncommittedBytes(0);
    private final Object flushLock = new Object();

    private volatile LogConfig config;
    /** A gap a leader sent once in a topic that does not compact (see appendAsFollower): where it began and where the batch after it starts. */
    private long unconfirmedGapAt = -1;
    private long unconfirmedGapTo = -1;
    /** Likewise a batch whose leader epoch a follower cannot place: its base offset and epoch. */
    private long unconfirmedEpochAt = -1;
    private int unconfirmedEpoch = -1;
    private volatile LogSegment active;
    private volatile long logStartOffset;
    private volatile long logEndOffset;
    private volatile long highWatermark;
    /** Recomputed under the append lock whenever the high watermark, the log start or the transactions move. */
    private volatile long lastStableOffset;
    private volatile long recoveryPoint;
    /** What {@link SealedThrough} holds for this log; under the append lock once loaded. */
    private long sealedThrough;
    private volatile long checkpointedHighWatermark;
    /**
     * Whether the high watermark is one the replica's owner set ({@link #resetHighWatermark}, or
     * moved past the log end it loaded with): a loaded log's is its log end until then, which
     * vouches for nothing, and compaction stays below the checkpointed one meanwhile.
     */
    private volatile boolean highWatermarkSet;
    /** Truncations since the log was opened: offsets they cut are filled again with other batches. */
    private volatile long truncations;
    private volatile long lastFlushMs;
    private volatile boolean closed;
    /** Why this log serves nothing (corrupt data found at load, a failed fsync), or null. */
    private volatile String offlineReason;
    private volatile java.util.function.Consumer<IOException> fsyncFailureListener = e -> { };
    private volatile RecoveryPointListener recoveryPointLowered = () -> { };
    private volatile java.util.function.Consumer<PartitionLog> rolled = l -> { };
    private volatile java.util.function.Consumer<IOException> writeFailureListener = e -> { };
    private volatile LongConsumer stableOffsetAdvanced = bytes -> { };
    private volatile LongConsumer fsynced = nanos -> { };

    private volatile java.util.UUID topicId;

    private PartitionLog(TopicPartition topicPartition, Path dir, LogConfig config, long nowMs) {
        this.topicPartition = topicPartition;
        this.dir = dir;
        this.config = config;
        this.lastFlushMs = nowMs;
        this.epochs = new LeaderEpochCache(dir.resolve(LeaderEpochCache.FILE_NAME));
    }

    /** Creates a new empty log, or opens and recovers the one in {@code dir}. */
    static PartitionLog open(TopicPartition tp, Path dir, LogConfig config, long recoveryPoint, long nowMs) throws IOException {
        return open(tp, dir, config, OpenOptions.recoveryPoint(recoveryPoint), nowMs);
    }

    static PartitionLog open(TopicPartition tp, Path dir, LogConfig config, OpenOptions options, long nowMs) throws IOException {
        boolean created = !Files.isDirectory(dir);
        Files.createDirectories(dir);
        if (created) {
            LogManager.fsyncDirectory(dir.getParent());
        }
        PartitionLog partitionLog = new PartitionLog(tp, dir, config, nowMs);
        try {
            partitionLog.load(options);
        } catch (IOException | RuntimeException e) {
            partitionLog.close();
            throw e;
        }
        return partitionLog;
    }

    /**
     * Rebuilds the log from its files. After a crash every batch is validated (CRC, offsets);
     * after a clean stop the batch headers are read to rebuild the indexes and the producer and
     * epoch state. Two kinds of bad data are told apart:
     * <ul>
     *   <li>a <em>torn tail</em>: past the recovery point, bytes that hold no whole batch (a
     *       write cut short by a crash), or a gap before the next segment outside compacted
     *       topics (a tail lost whole). A power loss keeps each file's unsynced writes
     *       independently, so this can be in any segment past the recovery point. Never
     *       acknowledged as durable, so it is cut, with the unflushed segments after it, as
     *       Kafka's recovery does;</li>
     *   <li>anything else (a bit flip inside the data, data below the recovery point):
     *       corruption. Nothing is cut or deleted: the log stays offline and says what
     *       and where, until an operator sets the bad data aside or, in a cluster, the replica
     *       sets it aside to copy it again from a healthy replica.</li>
     * </ul>
     */
    private void load(OpenOptions options) throws IOException {
        long checkpointedRecoveryPoint = options.recoveryPoint();
        // The log manager passes Long.MAX_VALUE after a clean stop: every segment was fsynced.
        boolean cleanStop = checkpointedRecoveryPoint == Long.MAX_VALUE;
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.sorted().toList();
        }
        List<Path> swaps = new ArrayList<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.endsWith(".deleted") || name.endsWith(".tmp") || name.endsWith(".cleaned")) {
                Files.deleteIfExists(file);
            } else if (name.endsWith(CleanedSegments.CLEANING_SUFFIX)) {
                CleanedSegments.deleteFolder(file); // never committed: the old segments are whole
            } else if (name.endsWith(".swap")) {
                swaps.add(file);
            }
        }
        for (Path swap : swaps) {
            String name = swap.getFileName().toString();
            if (Files.isDirectory(swap)) {
                String[] range = name.substring(0, name.length() - CleanedSegments.SWAP_SUFFIX.length()).split("-");
                completeSwapFolder(swap, Long.parseLong(range[0]), Long.parseLong(range[1]));
                log.info("{}: completed an interrupted compaction of offsets [{}, {})", topicPartition, range[0], range[1]);
            } else {
                completeSwap(swap);
            }
        }
        List<Path> segmentFiles;
        try (Stream<Path> list = Files.list(dir)) {
            segmentFiles = list.filter(f -> f.getFileName().toString().endsWith(".log") && f.getFileName().toString().length() == 24)
                    .sorted().toList();
        }
        Long storedSeal = SealedThrough.read(dir);
        // Without the file (a log written before it existed) the load judges gaps as it did then:
        // by the topic's policy, a compacted log's segments having been fsynced before each roll.
        long sealed = storedSeal != null ? storedSeal : config.compact() ? Long.MAX_VALUE : SealedThrough.NONE;
        long epochsStart = epochs.load() ? epochs.firstStart() : -1;
        long[] firstBatch = {-1};
        ProducerSnapshot.migrateLegacy(dir);
        // Where the first segment is or will be (an empty log's starts at its log start offset).
        long firstBase = segmentFiles.isEmpty() ? Math.max(0, options.logStartOffset()) : baseOffsetOf(segmentFiles.get(0));
        ProducerSnapshot.Contents snapshot = ProducerSnapshot.newest(dir, firstBase);
        snapshot.restoreInto(producers);
        long replayFrom = snapshot.offset();
        AbortedTxnIndexBuilder aborts = new AbortedTxnIndexBuilder();
        int epochBefore = Integer.MIN_VALUE;   // the last batch's epoch in the segments loaded so far
        LeaderEpochCache.BatchCheck epochCheck = epochs.checkAgainstBatches();
        for (int i = 0; i < segmentFiles.size(); i++) {
            Path file = segmentFiles.get(i);
            boolean last = i == segmentFiles.size() - 1;
            LogSegment segment = LogSegment.open(file, config.indexIntervalBytes());
            long nextBase = last ? Long.MAX_VALUE : baseOffsetOf(segmentFiles.get(i + 1));
            // After a crash every batch is checked, below the recovery point too: a flipped bit
            // in an old segment is found now, as corruption, rather than by a consumer later. The
            // recovery point decides only what bad bytes are: a tear past it, damage below it.
            boolean validate = !cleanStop;
            IOException[] epochWrite = new IOException[1];
            LogSegment.LoadOutcome outcome = segment.load(validate, batch -> {
                if (batch.isControl()) {
                    ControlBatches.EndTxnMarker marker = storedMarker(batch);
                    if (marker != null) {
                        AbortedTxn aborted = aborts.onMarker(batch.producerId(), batch.baseOffset(), marker.commit());
                        if (aborted != null) {
                            segment.abortedTxns().add(aborted);
                        }
                        if (batch.baseOffset() >= replayFrom) {
                            producers.completeTxn(batch.producerId(), batch.producerEpoch(), marker.coordinatorEpoch(), marker.commit(),
                                    batch.baseOffset(), batch.maxTimestamp());
                        }
                    }
                } else {
                    aborts.onData(batch);
                    if (batch.baseOffset() >= replayFrom) {
                        producers.update(batch);
                    }
                }
                if (firstBatch[0] < 0) {
                    firstBatch[0] = batch.baseOffset();
                }
                epochCheck.onBatch(batch.partitionLeaderEpoch(), batch.baseOffset());
                try {
                    epochs.observe(batch.partitionLeaderEpoch(), batch.baseOffset());
                } catch (IOException e) {
                    epochWrite[0] = e;
                }
            }, epochBefore);
            epochBefore = outcome.lastEpoch();
            if (epochWrite[0] != null) {
                segment.close();
                throw epochWrite[0];
            }
            if (!outcome.clean()) {
                long badOffset = segment.nextOffset();
                // Past the recovery point nothing was fsynced, and a power loss keeps each file's
                // unsynced writes independently: an older segment's tail can be torn while the
                // next segment (created by the roll) survives. Found by the simulated disk.
                // The torn batch's own offsets say whether it was written after the last flush: in a
                // copy of a compacted leader's log, the batch before it may end below the recovery
                // point with a gap between (a cut inside a gap, or the leader's compaction, moved the
                // log's end, and the recovery point with it, past the last batch). Judged by the
                // batch before it, such a tear was taken for damage below the recovery point and
                // the partition came back offline (found by LogPowerLossTest with a compacted
                // follower, and again once the follower's policy switched to delete). Only when both
                // reads of the header agree and the offset lies in this segment's range: it is
                // outside the CRC, and a synced batch would otherwise need a fault that both makes
                // it run past the end and moves its offset up to pass for a tear. Only in the last
                // segment or one the next of which began past the recovery point without a seal: a
                // sealed one was fsynced whole before the next was created, and one rolled before
                // the last checkpointed flush was fsynced by it. (A log without the seal file goes
                // by the rules it was written under: compacted logs only, the last segment only.)
                // Only after a crash: then every batch's CRC was checked, and a length read wrong
                // cannot make a synced batch look short.
                boolean judgedByItself = !cleanStop && (storedSeal == null ? config.compact() && last
                        : last || nextBase > sealed && nextBase > checkpointedRecoveryPoint);
                long tornBase = outcome.tornBase();
                long tornAt = judgedByItself && tornBase >= segment.baseOffset() && tornBase < nextBase ? Math.max(badOffset, tornBase) : badOffset;
                // Fewer bytes than a header after the last valid batch were never a synced batch (each is whole and longer).
                boolean tornTail = outcome.tornTail() && (tornAt >= checkpointedRecoveryPoint || judgedByItself && outcome.shortTail());
                if (tornTail) {
                    log.warn("{}: cut a torn write of {} byte(s) at the end of {} (offsets from {} were never acknowledged as durable): {}",
                            topicPartition, segment.channel().size() - outcome.validBytes(), file.getFileName(), badOffset, outcome.problem());
                    segment.cutTail(outcome.validBytes());
                    if (!last) {
                        dropUnflushedAfterTear(segmentFiles.subList(i + 1, segmentFiles.size()), badOffset);
                    }
                    segments.put(segment.baseOffset(), segment);
                    break;
                } else if (options.setAsideCorruptData()) {
                    setAside(segment, outcome, segmentFiles.subList(i + 1, segmentFiles.size()));
                    segments.put(segment.baseOffset(), segment);
                    break;
                } else {
                    offlineReason = "corrupt data in " + file + " at byte " + outcome.validBytes() + " (after offset "
                            + (badOffset - 1) + "): " + outcome.problem() + "; " + (segmentFiles.size() - i - 1)
                            + " later segment(s) are untouched";
                    log.error("{}: {}. The partition is offline on this node and nothing was deleted.", topicPartition, offlineReason);
                    segments.put(segment.baseOffset(), segment);
                    break;
                }
            }
            long end = Math.max(segment.nextOffset(), segment.baseOffset());
            boolean tear = storedSeal == null ? end >= checkpointedRecoveryPoint && !config.compact()
                    : nextBase > checkpointedRecoveryPoint && nextBase > sealed;
            if (!last && end < nextBase && tear) {
                // A gap before a segment created after the last checkpointed flush: the operating
                // system wrote the next segment back before this one's unsynced tail, and a power
                // loss kept only the former. A gap made on purpose (compaction's output, a roll past
                // a gap a compacted leader left) comes after everything before it was fsynced and
                // the next segment's base was recorded as sealed, so a gap before a segment not known
                // sealed is a tear, whatever the topic's policy is now (it may have changed since the
                // segments were written). This segment's batches may end below the recovery point
                // (a truncation inside a gap left the log's end, which the flush took, past them):
                // the next segment beginning past it says this one was still written to after that
                // flush, and lost what came after.
                dropUnflushedAfterTear(segmentFiles.subList(i + 1, segmentFiles.size()), end);
                if (segment.size() == 0 && i > 0) {
                    segment.markDeleted();
                } else {
                    segments.put(segment.baseOffset(), segment);
                }
                break;
            }
            // An empty segment in the middle carries nothing; an empty last one is where the log ends.
            if (segment.size() == 0 && i > 0 && !last) {
                segment.markDeleted();
                continue;
            }
            segments.put(segment.baseOffset(), segment);
        }
        if (segments.isEmpty()) {
            long start = Math.max(0, options.logStartOffset());
            LogSegment first = LogSegment.create(dir, start, config.indexIntervalBytes());
            LogManager.fsyncDirectory(dir);
            segments.put(start, first);
        }
        active = segments.lastEntry().getValue();
        // Segments created from now on begin past the active one's base; the stored offset may lie
        // beyond it (a roll whose segment a power loss took, a tear cut here), and must not vouch
        // for them before they are sealed.
        sealedThrough = Math.min(sealed, active.baseOffset());
        if (storedSeal == null || storedSeal != sealedThrough) {
            SealedThrough.write(dir, sealedThrough);
        }
        logEndOffset = Math.max(active.nextOffset(), active.baseOffset());
        logStartOffset = Math.min(Math.max(segments.firstKey(), options.logStartOffset()), logEndOffset);
        if (epochsStart > logStartOffset && firstBatch[0] >= 0 && firstBatch[0] < epochsStart) {
            // The epoch checkpoint is cut at the log start, and rewritten at once, whenever the
            // start moves (DeleteRecords, retention, a follower taking its leader's); the start's
            // own checkpoint follows later. A crash in between leaves an older start here, with
            // records below it whose epochs the checkpoint no longer holds (found by the
            // replication simulation with DeleteRecords). They were deleted before the crash.
            // Without records below it, an oldest epoch beginning past the log start is a
            // compacted log's copy whose first batches were compacted away at its source.
            log.info("{}: the log start moved to {} before the last stop (its checkpoint said {})", topicPartition,
                    Math.min(epochsStart, logEndOffset), logStartOffset);
            logStartOffset = Math.min(epochsStart, logEndOffset);
        }
        if (epochCheck.disagreement() != null) {
            // A checkpoint written before checksums has none to fail: a digit changed on the
            // platter would move an epoch boundary, and a follower asking this replica where an
            // epoch ends would cut good data. The batches are the authority from the first one on.
            log.warn("{}: the leader-epoch checkpoint disagrees with the log ({}): rebuilt from the batches", topicPartition,
                    epochCheck.disagreement());
            epochs.rebuild(epochCheck);
            epochs.truncateBefore(logStartOffset);
        }
        highWatermark = logEndOffset;
        checkpointedHighWatermark = Math.max(logStartOffset, Math.min(options.highWatermark(), logEndOffset));
        recoveryPoint = Math.min(checkpointedRecoveryPoint, logEndOffset);
        if (!cleanStop) {
            // After a kill the page cache still held what the last process wrote past its
            // recovery point, so the segments read it back whole; none of it is known to be on
            // disk. The next flush syncs them all before the recovery point passes them: it
            // skipped the sealed ones, and a power loss after that left a tear below the recovery
            // point, taken for damage (found by the replication simulation with compaction).
            Map.Entry<Long, LogSegment> first = segments.floorEntry(recoveryPoint);
            for (LogSegment segment : (first == null ? segments : segments.tailMap(first.getKey())).values()) {
                segment.markUnflushed();
            }
        }
        if (replayFrom > logEndOffset && !producers.truncateFrom(logEndOffset)) {
            // The snapshot is newer than what survived (a tail was lost) and reaches below what
            // it could cut exactly: the state is replayed from the newest one at or below the end.
            replayProducerState(ProducerSnapshot.newestAtOrBelow(dir, logEndOffset, segments.firstKey()));
        }
        // The snapshots past the end go, as at a truncation: the batches that fill those offsets
        // again (a new leader's, or the same resent) would be skipped by the replay after the next
        // crash, which starts there. A power loss lost the tail below them (a roll wrote the
        // snapshot, unsynced segments of a delete topic did not survive), or the log's end lay in
        // a gap past its last batch, which the segments cannot show. Found by a review of fix 66.
        // Not from a log that stays offline: nothing of it is deleted until its damage is dealt with.
        if (offlineReason == null) {
            boolean deleted = ProducerSnapshot.deleteAbove(dir, logEndOffset);
            ProducerSnapshot.deleteStrays(dir, segments.keySet());
            if (deleted) {
                LogManager.fsyncDirectory(dir);
            }
        }
        // Transactions decided below the checkpointed high watermark stay decided; those above
        // it are kept, since the replica's high watermark may be set back to it.
        producers.onHighWatermark(checkpointedHighWatermark);
        refreshLastStableOffset();
        epochs.truncateFrom(logEndOffset);
    }

    /**
     * The end marker a stored control batch holds, or null: a marker whose record cannot be read
     * (it passed its CRC, so it was written so) decides nothing, and the log still loads.
     */
    private ControlBatches.EndTxnMarker storedMarker(RecordBatch batch) {
        try {
            return ControlBatches.readMarker(batch);
        } catch (InvalidRecordBatchException e) {
            log.warn("{}: the control batch at offset {} holds no readable marker ({}); it decides no transaction", topicPartition,
                    batch.baseOffset(), e.getMessage());
            return null;
        }
    }

    /**
     * The segments after a torn write past the recovery point: none of their offsets was
     * fsynced, and they cannot follow the gap the tear left, so they go (as Kafka's recovery
     * deletes the unflushed segments after a truncated one). In a cluster the node registers as
     * uncleanly stopped and copies them again from the leader; alone, they were never promised
     * to survive a power loss (no fsync was asked for).
     */
    private void dropUnflushedAfterTear(List<Path> later, long tornAt) throws IOException {
        for (Path file : later) {
            Files.delete(file);
        }
        LogManager.fsyncDirectory(dir);
        log.warn("{}: removed {} unflushed segment(s) after the torn write at offset {}: {}", topicPartition, later.size(), tornAt,
                later.stream().map(p -> p.getFileName().toString()).toList());
    }

    /**
     * An operator asked for corrupt data to be set aside: the bad part of {@code segment} and
     * every later segment are moved under the data directory's quarantine folder (kept for
     * inspection, never deleted), and the log ends where the valid data ends.
     */
    private void setAside(LogSegment segment, LogSegment.LoadOutcome outcome, List<Path> later) throws IOException {
        Path quarantine = dir.getParent().resolve(QUARANTINE_DIR).resolve(dir.getFileName() + "-" + System.currentTimeMillis());
        Files.createDirectories(quarantine);
        Path copy = quarantine.resolve(segment.file().getFileName());
        Files.copy(segment.file(), copy);
        // The copy is what the operator is promised to keep: on the platter before the cut is.
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        for (Path file : later) {
            Files.move(file, quarantine.resolve(file.getFileName()));
        }
        segment.cutTail(outcome.validBytes());
        LogManager.fsyncDirectory(quarantine);
        LogManager.fsyncDirectory(dir);
        log.warn("{}: set aside corrupt data from offset {} on ({} at byte {}: {}) and {} later segment(s) in {}",
                topicPartition, segment.nextOffset(), segment.file().getFileName(), outcome.validBytes(), outcome.problem(),
                later.size(), quarantine);
    }

    /** Why this log serves nothing, or null when it is in service. */
    public String offlineReason() {
        return offlineReason;
    }

    public boolean isOffline() {
        return offlineReason != null;
    }

    /**
     * Takes this log out of service: appends, reads and fsyncs fail from now on. Used when the
     * log directory failed (an fsync error leaves the page cache in an unknown state: retrying
     * and calling it a success would acknowledge data that may be gone).
     */
    void takeOffline(String reason) {
        if (offlineReason == null) {
            offlineReason = reason;
        }
    }

    void onFsyncFailure(java.util.function.Consumer<IOException> listener) {
        this.fsyncFailureListener = listener;
    }

    /** Told how long each fsync of this log's unflushed segments took, in nanoseconds. */
    void onFsynced(LongConsumer listener) {
        this.fsynced = listener;
    }

    /**
     * Told, under the append lock and before any later append, when a truncation took the
     * recovery point back: the checkpoint on disk must follow before new writes below the old
     * point, or a power loss tearing one of them would look like damage to flushed data.
     */
    void onRecoveryPointLowered(RecoveryPointListener listener) {
        this.recoveryPointLowered = listener;
    }

    /** Makes a lowered recovery point durable; a failure takes the log offline. */
    @FunctionalInterface
    interface RecoveryPointListener {
        void lowered() throws IOException;
    }

    /**
     * Told, under the append lock, of every roll: the log manager flushes the sealed segment in
     * the background (as Kafka does), so that the recovery point keeps up with the rolls and
     * recovery after a crash only has the last segments to validate and, at worst, to cut.
     */
    void onRoll(java.util.function.Consumer<PartitionLog> listener) {
        this.rolled = listener;
    }

    /** Told of every write to this log's files that failed (append, roll, epoch checkpoint); the log stays as it was. */
    void onWriteFailure(java.util.function.Consumer<IOException> listener) {
        this.writeFailureListener = listener;
    }

    /**
     * The id of the topic this log belongs to (see {@link PartitionMetadataFile}), or null when it
     * was opened without one. Replication sends it with every fetch, so a leader never answers
     * with the records of an earlier topic of the same name.
     */
    public java.util.UUID topicId() {
        return topicId;
    }

    void topicId(java.util.UUID id) {
        this.topicId = id;
    }

    /** The high watermark this replica had when the data directory was last checkpointed. */
    public long checkpointedHighWatermark() {
        return checkpointedHighWatermark;
    }

    /**
     * Finishes a compaction of an earlier release interrupted by a crash: one {@code FROM.log.TO.swap}
     * file, complete (fsynced before being renamed), replaces the segments in {@code [FROM, TO)}.
     */
    private void completeSwap(Path swap) throws IOException {
        String[] parts = swap.getFileName().toString().split("\\.");
        long from = Long.parseLong(parts[0]);
        long to = Long.parseLong(parts[2]);
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".log") && name.length() == 24) {
                    long base = baseOffsetOf(file);
                    if (base >= from && base < to) {
                        Files.delete(file);
                    }
                }
            }
        }
        Files.move(swap, dir.resolve(LogSegment.fileName(from)), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        LogManager.fsyncDirectory(dir);
        log.info("{}: completed an interrupted compaction of offsets [{}, {})", topicPartition, from, to);
    }

    LogSegment activeSegmentForTest() {
        return active;
    }

    /** Base offset of the active segment: everything below it is sealed and may be compacted. */
    public long activeSegmentBaseOffset() {
        return active.baseOffset();
    }

    /** How many times the log was cut since it was opened (a follower's truncations, full or not). */
    public long truncations() {
        return truncations;
    }

    /** Bytes of the sealed segments holding offsets in {@code [from, to)}. */
    public long sealedBytesBetween(long from, long to) {
        long total = 0;
        LogSegment current = active;
        for (LogSegment segment : segments.values()) {
            if (segment != current && segment.nextOffset() > from && segment.baseOffset() < to) {
                total += segment.size();
            }
        }
        return total;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Where compaction may clean up to: the base offset of the first segment that is active or
     * holds offsets at or above the last stable offset. Data not yet committed, or of a
     * transaction not yet decided, is never rewritten (compaction must know which records a
     * transaction aborted).
     */
    public long cleanableEndOffset() {
        // Before its owner sets the high watermark, a loaded log's runs to its end: what lies past
        // the checkpointed one may be a tail a follower is about to cut, and a newer value there
        // would let a pass delete the older, committed one of its key for good.
        long stable = highWatermarkSet ? lastStableOffset : Math.min(lastStableOffset, checkpointedHighWatermark);
        for (LogSegment segment : segments.values()) {
            if (segment == active || segment.nextOffset() > stable) {
                return segment.baseOffset();
            }
        }
        return active.baseOffset();
    }

    /** Base offset of the segment holding {@code offset} (the first segment when it is below the log). */
    public long segmentBaseAtOrBelow(long offset) {
        Map.Entry<Long, LogSegment> floor = segments.floorEntry(offset);
        return floor == null ? segments.firstKey() : floor.getKey();
    }

    /** Base offset of the first segment that starts after {@code offset}, or -1 when none does. */
    public long nextSegmentBaseAfter(long offset) {
        Long next = segments.higherKey(offset);
        return next == null ? -1 : next;
    }

    /** Starts the output of a compaction of the sealed segments covering {@code [from, to)}. */
    public CleanedSegments beginCleaning(long from, long to) throws IOException {
        if (closed) {
            throw new java.nio.channels.ClosedChannelException(); // closed or deleted since the pass began
        }
        return new CleanedSegments(this, from, to, config.segmentBytes());
    }

    /**
     * Commits and swaps in a compaction output (called by {@link CleanedSegments#commit}): under
     * the append lock, checks that the segments covering {@code [from, to)} are still exactly
     * the ones compacted, renames the output folder to {@code .swap} (the commit point) and
     * completes the swap. Holding the lock from check to swap keeps retention and truncation
     * from changing the range in between.
     *
     * @return false when the log changed meanwhile: nothing was committed
     */
    boolean swapIn(Path cleaning, long from, long to) throws IOException {
        synchronized (appendLock) {
            var range = segments.subMap(from, true, to, false);
            if (closed || offlineReason != null || range.isEmpty() || range.firstKey() != from || range.containsValue(active)
                    || range.lastEntry().getValue().nextOffset() > to) {
                return false;
            }
            // The output ends where its last batch ends, before the segment at `to` begins: sealed
            // first, so that no crash after the commit takes that gap for a tear.
            fsyncUnsyncedSegmentsBelow(to);
            sealThrough(to);
            // Before the commit point, durably: no snapshot below the range's end is replayed from
            // once it is compacted. A transaction it holds open may have had its marker removed
            // (KIP-534's delete horizon) and would stay open for good, holding the last stable
            // offset; the segments alone open no such transaction, its records going first (found
            // by a review of fix 68). A truncation below the range's end then replays the segments.
            snapshotAtEnd();
            ProducerSnapshot.deleteBefore(dir, to);
            LogManager.fsyncDirectory(dir);
            Path swap = dir.resolve(from + "-" + to + CleanedSegments.SWAP_SUFFIX);
            Files.move(cleaning, swap, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LogManager.fsyncDirectory(dir);
            List<LogSegment> old = new ArrayList<>(range.values());
            // The aborted transactions of the range stay as they were (with their first offsets and
            // last stable offsets, which the copy cannot show), but for those whose marker the
            // compaction removed (KIP-534's delete horizon): their records went before the marker
            // did, and a read_committed reader told of an abort it never sees the marker of would
            // skip that producer's later transactions.
            List<AbortedTxn> aborted = new ArrayList<>();
            old.forEach(segment -> aborted.addAll(segment.abortedTxns().entries()));
            // The old files are renamed away before the new ones take their names, and stay open
            // and in the map until the new segments are in: a reader of the range reads the old
            // copy or the new one, never nothing. An empty answer there ended a scan early: a
            // coordinator loading its state while its partition was compacted loaded part of it,
            // without a word (found by review).
            try {
                for (LogSegment segment : old) {
                    segment.renameForDeletion();
                }
                List<String> names = completeSwapFolder(swap, from, to);
                List<LogSegment> replacements = new ArrayList<>();
                int next = 0;
                for (int i = 0; i < names.size(); i++) {
                    java.util.Set<Long> markers = new java.util.HashSet<>();
                    LogSegment replacement = openReplacement(dir.resolve(names.get(i)), markers);
                    long end = i + 1 < names.size() ? baseOffsetOf(dir.resolve(names.get(i + 1))) : Long.MAX_VALUE;
                    while (next < aborted.size() && aborted.get(next).lastOffset() < end) {
                        AbortedTxn txn = aborted.get(next++);
                        if (markers.contains(txn.lastOffset())) {
                            replacement.abortedTxns().add(txn);
                        }
                    }
                    keepFileTime(replacement, old, end);
                    replacements.add(replacement);
                }
                // All of the range's new segments go in before the old entries leave (readers take no lock).
                replacements.forEach(replacement -> segments.put(replacement.baseOffset(), replacement));
                old.forEach(segment -> segments.remove(segment.baseOffset(), segment));
                old.forEach(LogSegment::markDeleted);
            } catch (IOException | RuntimeException e) {
                // Past the commit point the files are the compacted log (the next start completes and
                // loads them), but this process cannot hold the range: serving on would answer reads
                // there with nothing and let followers skip it (found by the replication simulation
                // with compaction and a read of a wrong bit).
                old.forEach(segment -> segments.remove(segment.baseOffset(), segment));
                old.forEach(LogSegment::markDeleted);
                takeOffline("a compaction of offsets [" + from + ", " + to + ") was committed but its segments could not be loaded: " + e);
                log.error("{}: {}; the partition is offline on this node until it restarts", topicPartition, offlineReason);
                throw e;
            }
            return true;
        }
    }

    /**
     * Gives a compaction's output segment the newest file time of the segments it replaces up to
     * {@code end}, as Kafka's cleaner does: records without a time age by it for time retention,
     * and a new file time at every pass kept them for good on a compact,delete topic.
     */
    private void keepFileTime(LogSegment replacement, List<LogSegment> replaced, long end) {
        long newest = -1;
        for (int i = 0; i < replaced.size(); i++) {
            LogSegment segment = replaced.get(i);
            long segmentEnd = i + 1 < replaced.size() ? replaced.get(i + 1).baseOffset() : Long.MAX_VALUE;
            if (segment.baseOffset() < end && segmentEnd > replacement.baseOffset()) {
                newest = Math.max(newest, segment.lastModifiedMs());
            }
        }
        if (newest >= 0) {
            try {
                Files.setLastModifiedTime(replacement.file(), java.nio.file.attribute.FileTime.fromMillis(newest));
            } catch (IOException e) {
                log.warn("{}: could not keep the file time of the compacted segment {}: {}", topicPartition, replacement.baseOffset(), e.toString());
            }
        }
    }

    /**
     * Opens a compaction's output segment in place and reads its batches, a few times over when
     * a read comes back different (a wrong bit on a read is not on the disk).
     */
    private LogSegment openReplacement(Path file, java.util.Set<Long> markers) throws IOException {
        for (int attempt = 1; ; attempt++) {
            LogSegment replacement = LogSegment.open(file, config.indexIntervalBytes());
            markers.clear();
            try {
                LogSegment.LoadOutcome outcome = replacement.load(false, batch -> {
                    if (batch.isControl()) {
                        markers.add(batch.baseOffset());
                    }
                });
                if (!outcome.clean()) {
                    throw new IOException("it reads back whole only up to byte " + outcome.validBytes() + ": " + outcome.problem());
                }
                return replacement;
            } catch (IOException | RuntimeException e) {
                replacement.close();
                if (attempt == 3) {
                    throw e;
                }
                log.warn("{}: reading the compacted segment {} failed ({}); reading it again", topicPartition, file.getFileName(), e.getMessage());
            }
        }
    }

    /**
     * Finishes a committed compaction swap: segment files in {@code [from, to)} that the
     * manifest does not name go, the files it names move in (replacing old files of the same
     * name), then the folder goes. Each step can be repeated, so a crash in the middle is
     * completed by the next start.
     *
     * @return the names of the segment files now in place, in offset order
     */
    private List<String> completeSwapFolder(Path swap, long from, long to) throws IOException {
        Path manifest = swap.resolve(CleanedSegments.MANIFEST);
        if (!Files.exists(manifest)) {
            // The manifest is durable before the folder is renamed to .swap, and goes only in the
            // last step, the folder's deletion, after the moves were fsynced: a crash cut that
            // deletion short (found by the replication simulation with compaction, where such a
            // folder kept the partition from opening on that node for good).
            log.info("{}: removing what is left of a completed compaction swap, {}", topicPartition, swap.getFileName());
            CleanedSegments.deleteFolder(swap);
            return List.of();
        }
        List<String> names = StableRead.lines(manifest).stream()
                .map(String::trim).filter(n -> !n.isEmpty()).toList();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".log") && name.length() == 24 && !names.contains(name)) {
                    long base = baseOffsetOf(file);
                    if (base >= from && base < to) {
                        Files.delete(file);
                    }
                }
            }
        }
        for (String name : names) {
            Path source = swap.resolve(name);
            if (Files.exists(source)) {
                Files.move(source, dir.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        LogManager.fsyncDirectory(dir);
        CleanedSegments.deleteFolder(swap);
        return names;
    }

    private static long baseOffsetOf(Path segmentFile) {
        String name = segmentFile.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - ".log".length()));
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public LogConfig config() {
        return config;
    }

    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return logEndOffset;
    }

    public long highWatermark() {
        return highWatermark;
    }

    public long recoveryPoint() {
        return recoveryPoint;
    }

    /**
     * Sets the high watermark even backwards: a replica that restarts or changes role does not
     * know what the in-sync set holds, so it hides what it cannot vouch for until it learns.
     */
    public void resetHighWatermark(long offset) {
        long stableBefore;
        synchronized (appendLock) {
            stableBefore = lastStableOffset;
            long before = highWatermark;
            highWatermark = Math.max(logStartOffset, Math.min(offset, logEndOffset));
            highWatermarkSet = true;
            if (highWatermark < before) {
                uncommitted.highWatermarkSetBack();
            } else {
                producers.onHighWatermark(highWatermark);
            }
            assert highWatermarkWithinLog();
            refreshLastStableOffset();
        }
        tellIfStableOffsetAdvanced(stableBefore, UncommittedBytes.UNKNOWN);
    }

    /** The core invariant of a log, checked by {@code assert} wherever the high watermark moves: it never passes the log end. */
    private boolean highWatermarkWithinLog() {
        if (highWatermark > logEndOffset) {
            throw new AssertionError(topicPartition + ": high watermark " + highWatermark + " past the log end " + logEndOffset);
        }
        return true;
    }

    /** The newest leader epoch in this log, or -1 when it holds no batch. */
    public int latestEpoch() {
        synchronized (appendLock) {
            return epochs.latestEpoch();
        }
    }

    /**
     * Kafka's OffsetForLeaderEpoch answer: the largest epoch at or below {@code epoch} that this
     * log knows and the offset where that epoch ended here (the start of the next epoch, or the
     * log end offset for the newest). Returns {@code [-1, -1]} when no epoch that old exists.
     */
    public long[] endOffsetForEpoch(int epoch) {
        synchronized (appendLock) {
            return epochs.endOffsetFor(epoch, logEndOffset);
        }
    }

    /** The leader epoch of the batch holding {@code offset} (as the epoch checkpoint has it); -1 when no epoch covers it. */
    public int epochAt(long offset) {
        synchronized (appendLock) {
            return epochs.epochAt(offset);
        }
    }

    /**
     * The OffsetForLeaderEpoch answer a client is given: {@link #endOffsetForEpoch}, except for an
     * epoch older than any this log still holds (retention, DeleteRecords or compaction removed
     * its batches), answered as Kafka does, with that epoch ending where the oldest one held
     * begins. {@code [-1, -1]} there told a consumer validating a committed position of that
     * epoch that the log was truncated: with the default {@code auto.offset.reset=latest} it
     * skipped everything written since (with {@code none} it threw), where Kafka keeps it.
     */
    public long[] offsetForLeaderEpoch(int epoch) {
        synchronized (appendLock) {
            long[] end = epochs.endOffsetFor(epoch, logEndOffset);
            long oldestStart = epochs.firstStart();
            if (end[0] < 0 && epoch >= 0 && oldestStart >= 0) {
                return new long[] {epoch, oldestStart};
            }
            return end;
        }
    }

    /**
     * Where a replica's history parts from this log's, judged from its fetch (KIP-320's check,
     * which Kafka's followers truncate by): its newest epoch {@code lastFetchedEpoch} must be an
     * epoch this log holds, ending here at or after {@code fetchOffset}. Returns null when it is
     * (or when the replica holds no epoch: nothing to compare), else the {@link #endOffsetForEpoch}
     * answer for that epoch. When this log holds no epoch that old, everything it holds from where
     * its oldest epoch begins was written in later epochs: a replica ending at or before that
     * point shares no epoch with it to compare (null: what it holds below was compacted or
     * deleted here), one ending past it parts from this log there ({@code [-1, that point]}).
     */
    public long[] divergingEpoch(int lastFetchedEpoch, long fetchOffset) {
        if (lastFetchedEpoch < 0) {
            return null;
        }
        if (lastFetchedEpoch == epochs.latestEpochUnlocked() && fetchOffset <= logEndOffset) {
            // The usual case, without the lock appends hold: the replica's newest epoch is this
            // log's, which ends at the log end (a leader's log is never cut under it).
            return null;
        }
        synchronized (appendLock) {
            long[] end = epochs.endOffsetFor(lastFetchedEpoch, logEndOffset);
            if (end[0] == lastFetchedEpoch && end[1] >= fetchOffset) {
                return null;
            }
            if (end[0] < 0) {
                // The oldest epoch held begins past the log start when compaction removed what lay
                // before its first batch on the replica this log was copied from, or DeleteRecords
                // or retention cut the epochs there.
                long oldestEpochStart = epochs.firstStart() < 0 ? logEndOffset : epochs.firstStart();
                return fetchOffset <= oldestEpochStart ? null : new long[] {-1, oldestEpochStart};
            }
            return end;
        }
    }

    /** Moves the high watermark; it never goes back and never passes the log end offset. */
    public void updateHighWatermark(long offset) {
        advanceHighWatermark(offset);
    }

    /**
     * As {@link #updateHighWatermark}, and says how many bytes the move made readable: 0 when
     * it did not move, at least 1 when it did, {@link Long#MAX_VALUE} when that is not known
     * (a reader waiting for a number of bytes should then read and see).
     */
    public long advanceHighWatermark(long offset) {
        long stableBefore;
        long bytes;
        boolean inStep;
        synchronized (appendLock) {
            long bounded = Math.min(offset, logEndOffset);
            if (bounded <= highWatermark) {
                return 0;
            }
            stableBefore = lastStableOffset;
            boolean wasInStep = stableBefore == highWatermark;
            bytes = uncommitted.committed(highWatermark, bounded);
            highWatermark = bounded;
            highWatermarkSet = true;
            assert highWatermarkWithinLog();
            producers.onHighWatermark(bounded);
            refreshLastStableOffset();
            inStep = wasInStep && lastStableOffset == bounded;
        }
        // With no transaction in the way the last stable offset moves with the high watermark, by
        // the same bytes; otherwise how many bytes it passed is not known here.
        tellIfStableOffsetAdvanced(stableBefore, inStep ? bytes : UncommittedBytes.UNKNOWN);
        return bytes;
    }

    public long sizeInBytes() {
        long total = 0;
        for (LogSegment segment : segments.values()) {
            total += segment.size();
        }
        return total;
    }

    public int segmentCount() {
        return segments.size();
    }

    /**
     * Validates {@code records} (the batches of one produce request), numbers them in place from
     * the log end offset, stamps {@code leaderEpoch} and appends them to the active segment.
     * The records are stored as they came: only header fields outside the CRC are rewritten.
     */
    public AppendResult appendAsLeader(ByteBuffer records, int leaderEpoch, long nowMs) {
        return appendAsLeader(records, leaderEpoch, nowMs, AppendOrigin.CLIENT);
    }

    /**
     * As above, for a writer of {@code origin}: the node's coordinators may write transactional
     * batches without a sequence. Transactional batches open or extend their producer's
     * transaction; a producer with one open may not write non-transactional data
     * ({@link LogError#INVALID_TXN_STATE}).
     */
    public AppendResult appendAsLeader(ByteBuffer records, int leaderEpoch, long nowMs, AppendOrigin origin) {
        return appendAsLeader(records, leaderEpoch, nowMs, origin, null);
    }

    /**
     * As above, with the guard of a verified transaction (KIP-890 part 1; null when no
     * verification was asked for): a transactional batch (a client's, or a group coordinator's
     * for a producer's offsets) whose producer has no transaction open here is taken only with the producer's current guard, from
     * {@link #beginTransactionVerification}, and then opens its transaction; otherwise it is
     * refused with {@link LogError#INVALID_TXN_STATE} and nothing is written.
     */
    public AppendResult appendAsLeader(ByteBuffer records, int leaderEpoch, long nowMs, AppendOrigin origin, TxnVerificationGuard verified) {
        LogConfig cfg = config;
        if (offlineReason != null) {
            return AppendResult.failed(LogError.STORAGE_ERROR, "partition " + topicPartition + " is offline on this node: " + offlineReason, logStartOffset);
        }
        AppendResult invalid = validate(records, cfg, nowMs, origin);
        if (invalid != null) {
            return invalid;
        }
        synchronized (appendLock) {
            if (closed) {
                return AppendResult.failed(LogError.STORAGE_ERROR, "log " + topicPartition + " is closed", logStartOffset);
            }
            RecordBatch batch = new RecordBatch();
            ProducerStateTable.Check check = checkProducers(records, batch);
            if (check instanceof ProducerStateTable.Reject reject) {
                return AppendResult.failed(reject.error(), reject.message(), logStartOffset);
            }
            if (check instanceof ProducerStateTable.OldDuplicate old) {
                // Written already, offset unknown: acknowledged (after what precedes it is replicated) without one.
                return new AppendResult(LogError.DUPLICATE_SEQUENCE, old.message(), -1, old.before() - 1, -1, logStartOffset, true);
            }
            if (check instanceof ProducerStateTable.Duplicate duplicate) {
                var original = duplicate.original();
                return new AppendResult(LogError.NONE, null, original.firstOffset(), original.lastOffset(),
                        cfg.logAppendTime() ? original.timestamp() : -1, logStartOffset, true);
            }
            if (verified != null) {
                String unverified = unverifiedTransaction(records, batch, verified);
                if (unverified != null) {
                    return AppendResult.failed(LogError.INVALID_TXN_STATE, unverified, logStartOffset);
                }
            }
            // The write below consumes the buffer; walk the batches by these fixed bounds.
            int start = records.position();
            int end = records.limit();
            long firstOffset = logEndOffset;
            long next = firstOffset;
            for (int position = start; position < end; position += batch.sizeInBytes()) {
                batch.wrap(records, position);
                batch.assign(next, leaderEpoch);
                next = batch.lastOffset() + 1;
            }
            try {
                maybeRoll(next - 1, records.remaining(), cfg, nowMs);
                active.append(records, nowMs);
            } catch (IOException e) {
                log.error("{}: append of {} bytes failed; the log is unchanged", topicPartition, records.remaining(), e);
                writeFailureListener.accept(e);
                return AppendResult.failed(LogError.STORAGE_ERROR, "could not write to the log: " + e.getMessage(), logStartOffset);
            }
            for (int position = start; position < end; position += batch.sizeInBytes()) {
                producers.update(batch.wrap(records, position));
                if (batch.isTransactional() && !verificationGuards.isEmpty()) {
                    verificationGuards.remove(batch.producerId()); // its transaction is open here now
                }
            }
            observeEpoch(leaderEpoch, firstOffset);
            assert next > logEndOffset : topicPartition + ": an append moved the log end from " + logEndOffset + " to " + next;
            logEndOffset = next;
            uncommitted.appended(firstOffset, next, end - start);
            return new AppendResult(LogError.NONE, null, firstOffset, next - 1, cfg.logAppendTime() ? nowMs : -1, logStartOffset, false);
        }
    }

    /**
     * Appends batches copied from the leader as they are: offsets, epochs and producer fields
     * were set by the leader. Offsets must only grow, as in Kafka: the first batch may start
     * past this log's end offset and batches may leave gaps between them, because compaction
     * on the leader drops whole batches (a follower that was away resumes after the gap). An
     * overlap means the follower is out of step and must realign (truncate) first.
     */
    public AppendResult appendAsFollower(ByteBuffer records, long nowMs) {
        return appendAsFollower(records, nowMs, Integer.MAX_VALUE);
    }

    /**
     * As above, from a leader at {@code leaderEpoch}. A batch's leader epoch lies outside its CRC,
     * so it is checked as far as it can be: no batch can carry an epoch newer than its leader's,
     * and epochs never go back along a log. One wrong bit read on the leader's side would
     * otherwise become an epoch boundary here, and a later truncation would cut good data at it.
     */
    public AppendResult appendAsFollower(ByteBuffer records, long nowMs, int leaderEpoch) {
        if (offlineReason != null) {
            return AppendResult.failed(LogError.STORAGE_ERROR, "partition " + topicPartition + " is offline on this node: " + offlineReason, logStartOffset);
        }
        try {
            RecordBatches.validateAll(records, batch -> { });
        } catch (InvalidRecordBatchException e) {
            return AppendResult.failed(LogError.CORRUPT_MESSAGE, e.getMessage(), logStartOffset);
        }
        if (records.hasRemaining()) {
            RecordBatch first = RecordBatch.of(records);
            long end = logEndOffset;
            if (logStartOffset == end && first.baseOffset() < end && first.lastOffset() >= end) {
                // DeleteRecords put the leader's log start inside this batch, and this replica, empty,
                // started over there: the leader serves the whole batch, which begins below this log's
                // end. Start over at the batch's base instead, as Kafka's followers do; the log start
                // follows the leader's again after the append. (Only the fetcher appends here, so
                // nothing moves the log between the check and the append.)
                log.info("{}: the first batch the leader sent starts at {}, inside this empty log's start {}: starting over at {}",
                        topicPartition, first.baseOffset(), end, first.baseOffset());
                try {
                    truncateFullyAndStartAt(first.baseOffset());
                } catch (IOException e) {
                    return AppendResult.failed(LogError.STORAGE_ERROR, "could not start the log over at " + first.baseOffset() + ": "
                            + e.getMessage(), logStartOffset);
                }
            }
        }
        synchronized (appendLock) {
            if (closed) {
                return AppendResult.failed(LogError.STORAGE_ERROR, "log " + topicPartition + " is closed", logStartOffset);
            }
            // Replicated data means another replica leads: what this one verified as leader is void (a marker may
            // be among these batches, and this replica may lead again before a delayed write comes).
            if (!verificationGuards.isEmpty()) {
                verificationGuards.clear();
            }
            int start = records.position();
            int end = records.limit();
            if (start == end) {
                return new AppendResult(LogError.NONE, null, logEndOffset, logEndOffset - 1, -1, logStartOffset, false);
            }
            RecordBatch batch = new RecordBatch().wrap(records, start);
            long firstOffset = batch.baseOffset();
            if (firstOffset < logEndOffset) {
                return AppendResult.failed(LogError.OFFSET_OUT_OF_RANGE,
                        "replicated batch starts at " + firstOffset + " but the log already ends at " + logEndOffset, logStartOffset);
            }
            // A base offset lies outside the CRC too, and one bit read wrong on the leader's side moves it
            // up by a power of two: outside compaction, which leaves gaps of any size, such a gap is taken
            // only when the leader sends it again. What comes before it is appended now, and the next
            // fetch starts at it (the topic may have compacted before a change of policy).
            boolean compacted = config.compact();
            long next = logEndOffset;
            int epoch = epochs.latestEpoch();
            int upTo = end;
            for (int position = start; position < end; position += batch.sizeInBytes()) {
                batch.wrap(records, position);
                long gap = batch.baseOffset() - next;
                if (!compacted && gap > 0 && Long.bitCount(gap) == 1) {
                    boolean confirmed = unconfirmedGapAt == next && unconfirmedGapTo == batch.baseOffset();
                    unconfirmedGapAt = next;
                    unconfirmedGapTo = batch.baseOffset();
                    if (!confirmed) {
                        upTo = position;
                        log.info("{}: the leader's batch at {} leaves a gap of a power of two after {}: fetching it again before taking it",
                                topicPartition, batch.baseOffset(), next - 1);
                        break;
                    }
                }
                if (batch.baseOffset() < next || batch.lastOffset() < batch.baseOffset()) {
                    return AppendResult.failed(LogError.OFFSET_OUT_OF_RANGE, "replicated batch at " + batch.baseOffset()
                            + " does not follow the previous one, which ends before " + next, logStartOffset);
                }
                if (batch.lastOffset() - firstOffset > Integer.MAX_VALUE) {
                    // Too far on from the first batch for one segment (see maybeRollAt): the next fetch brings it.
                    upTo = position;
                    break;
                }
                if (batch.isControl()) {
                    try {
                        ControlBatches.readMarker(batch);
                    } catch (InvalidRecordBatchException e) {
                        // Refused before anything is written: a marker this log cannot read would decide nothing here.
                        return AppendResult.failed(LogError.CORRUPT_MESSAGE, "replicated control batch at " + batch.baseOffset() + ": "
                                + e.getMessage(), logStartOffset);
                    }
                }
                int batchEpoch = batch.partitionLeaderEpoch();
                // Negative too: a leader that read the epoch's sign bit wrong sent -2147483647 for 1,
                // which passed here and made the log look damaged at its next load (found by the
                // replication simulation with wrong reads and moves, seed 24254).
                if (batchEpoch > leaderEpoch || batchEpoch < Math.max(epoch, 0)) {
                    // Taken when the leader sends the same again (a log written before this check may
                    // hold such epochs: refusing it for good would stop this replica for good), but
                    // it moves no epoch boundary here. What comes before it is appended now.
                    boolean confirmed = unconfirmedEpochAt == batch.baseOffset() && unconfirmedEpoch == batchEpoch;
                    unconfirmedEpochAt = batch.baseOffset();
                    unconfirmedEpoch = batchEpoch;
                    if (!confirmed) {
                        upTo = position;
                        log.info("{}: the leader's batch at {} carries leader epoch {}, outside {}..{}: fetching it again before taking it",
                                topicPartition, batch.baseOffset(), batchEpoch, Math.max(epoch, 0), leaderEpoch);
                        break;
                    }
                    log.warn("{}: the leader sent the batch at {} with leader epoch {} twice, outside {}..{}: taking it", topicPartition,
                            batch.baseOffset(), batchEpoch, Math.max(epoch, 0), leaderEpoch);
                } else {
                    epoch = Math.max(epoch, batchEpoch);
                }
                next = batch.lastOffset() + 1;
            }
            if (upTo == start) {
                return new AppendResult(LogError.NONE, null, logEndOffset, logEndOffset - 1, -1, logStartOffset, false);
            }
            ByteBuffer taken = records.duplicate().limit(upTo);
            try {
                maybeRollAt(firstOffset, next - 1, upTo - start, config, nowMs);
                active.append(taken, nowMs);
            } catch (IOException e) {
                log.error("{}: replicated append of {} bytes failed; the log is unchanged", topicPartition, upTo - start, e);
                writeFailureListener.accept(e);
                return AppendResult.failed(LogError.STORAGE_ERROR, "could not write to the log: " + e.getMessage(), logStartOffset);
            }
            boolean markers = false;
            for (int position = start; position < upTo; position += batch.sizeInBytes()) {
                batch.wrap(records, position);
                if (batch.isControl()) {
                    markers |= applyMarker(batch);
                } else {
                    producers.update(batch);
                }
                if (batch.partitionLeaderEpoch() <= leaderEpoch) {
                    observeEpoch(batch.partitionLeaderEpoch(), batch.baseOffset());
                }
            }
            assert next > logEndOffset : topicPartition + ": a replicated append moved the log end from " + logEndOffset + " to " + next;
            logEndOffset = next;
            uncommitted.appended(firstOffset, next, upTo - start);
            if (markers) {
                refreshLastStableOffset();
            }
            return new AppendResult(LogError.NONE, null, firstOffset, next - 1, -1, logStartOffset, false);
        }
    }

    /**
     * Applies a replicated control batch, just appended to the active segment, to the producer
     * state and the aborted-transaction index (the leader decided it: nothing is checked).
     *
     * @return whether it was an end marker
     */
    private boolean applyMarker(RecordBatch batch) {
        ControlBatches.EndTxnMarker marker = ControlBatches.readMarker(batch);
        if (marker == null) {
            return false;
        }
        AbortedTxn aborted = producers.completeTxn(batch.producerId(), batch.producerEpoch(), marker.coordinatorEpoch(), marker.commit(),
                batch.baseOffset(), batch.maxTimestamp());
        if (aborted != null) {
            active.abortedTxns().add(aborted);
        }
        return true;
    }

    /** The log was cut: a gap or epoch a leader sent once before no longer follows this log's end. */
    private void forgetUnconfirmedReads() {
        unconfirmedGapAt = -1;
        unconfirmedGapTo = -1;
        unconfirmedEpochAt = -1;
        unconfirmedEpoch = -1;
    }

    /**
     * Notes where an epoch begins. A failed write of the epoch checkpoint does not undo the
     * append: the epoch is in the batch headers too, and the cache in memory is right.
     */
    private void observeEpoch(int epoch, long baseOffset) {
        try {
            epochs.observe(epoch, baseOffset);
        } catch (IOException e) {
            log.error("{}: could not write the leader epoch checkpoint", topicPartition, e);
            writeFailureListener.accept(e);
        }
    }

    private static volatile RecordsValidator.Decompressor decompressor;
    private static final ThreadLocal<RecordsValidator> VALIDATORS = new ThreadLocal<>();

    /**
     * Gives produce validation the codecs to inflate compressed batches with (the node does this
     * once at start; without it compressed batches are checked up to their header only).
     */
    public static void useDecompressor(RecordsValidator.Decompressor codecs) {
        decompressor = codecs;
    }

    /** The codecs given by {@link #useDecompressor}, for the node's own reads of its logs; null when none were. */
    public static RecordsValidator.Decompressor decompressor() {
        return decompressor;
    }

    /**
     * KIP-890 part 1: a guard for verifying with the transaction coordinator that
     * {@code producerId}'s transaction includes this partition, or
     * {@link TxnVerificationGuard#ALREADY_OPEN} when the transaction is open here already. One
     * guard per producer at a time: verifications in flight together share it.
     */
    public TxnVerificationGuard beginTransactionVerification(long producerId, short epoch, long nowMs) {
        synchronized (appendLock) {
            if (producers.hasOpenTransaction(producerId, epoch)) {
                return TxnVerificationGuard.ALREADY_OPEN;
            }
            return verificationGuards.computeIfAbsent(producerId, id -> new TxnVerificationGuard(id, nowMs));
        }
    }

    /** Under the append lock: why the transactional batches of {@code records} may not be taken, or null. */
    private String unverifiedTransaction(ByteBuffer records, RecordBatch batch, TxnVerificationGuard verified) {
        for (int position = records.position(); position < records.limit(); position += batch.sizeInBytes()) {
            batch.wrap(records, position);
            if (!batch.isTransactional() || producers.hasOpenTransaction(batch.producerId(), batch.producerEpoch())) {
                continue;
            }
            if (verified == TxnVerificationGuard.ALREADY_OPEN || verificationGuards.get(batch.producerId()) != verified) {
                return "the transaction of producer " + batch.producerId() + " at epoch " + batch.producerEpoch() + " is not open on "
                        + topicPartition + ": it ended, or did not add this partition, before the write arrived";
            }
        }
        return null;
    }

    private AppendResult validate(ByteBuffer records, LogConfig cfg, long nowMs, AppendOrigin origin) {
        try {
            String[] problem = new String[1];
            LogError[] error = new LogError[1];
            RecordsValidator current = VALIDATORS.get();
            if (current == null || current.decompressor() != decompressor) {
                current = new RecordsValidator(decompressor);
                VALIDATORS.set(current);
            }
            RecordsValidator checker = current;
            RecordsValidator.Rules rules = RecordsValidator.Rules.of(cfg.compact(), cfg.logAppendTime(), nowMs,
                    cfg.timestampBeforeMaxMs(), cfg.timestampAfterMaxMs()).inflatingAtMostFrom(cfg.maxMessageBytes());
            RecordBatches.validateAll(records, batch -> {
                if (problem[0] != null) {
                    return;
                }
                boolean unsequenced = (origin == AppendOrigin.COORDINATOR && batch.isTransactional()
                        || origin == AppendOrigin.TASK_IN_PLACE && !batch.isTransactional()) && !batch.isControl()
                        && batch.hasProducerId() && batch.baseSequence() == RecordBatch.NO_SEQUENCE;
                if (batch.sizeInBytes() > cfg.maxMessageBytes()) {
                    // before its records are looked at: an oversized compressed batch is not inflated
                    error[0] = LogError.MESSAGE_TOO_LARGE;
                    problem[0] = "batch of " + batch.sizeInBytes() + " bytes exceeds max.message.bytes=" + cfg.maxMessageBytes();
                } else if (!checker.validate(batch, rules, unsequenced)) {
                    error[0] = switch (checker.problem()) {
                        case INVALID_TIMESTAMP -> LogError.INVALID_TIMESTAMP;
                        case CORRUPT -> LogError.CORRUPT_MESSAGE;
                        case INVALID_RECORD -> LogError.INVALID_RECORD;
                        case TOO_LARGE -> LogError.MESSAGE_TOO_LARGE;
                    };
                    problem[0] = checker.message();
                } else if (batch.isTransactional() && !batch.hasProducerId()) {
                    error[0] = LogError.INVALID_RECORD;
                    problem[0] = "a transactional batch without a producer id";
                } else if (cfg.logAppendTime()) {
                    batch.stampLogAppendTime(nowMs);
                }
            });
            return problem[0] == null ? null : AppendResult.failed(error[0], problem[0], logStartOffset);
        } catch (InvalidRecordBatchException e) {
            return AppendResult.failed(LogError.CORRUPT_MESSAGE, e.getMessage(), logStartOffset);
        }
    }

    private ProducerStateTable.Check checkProducers(ByteBuffer records, RecordBatch batch) {
        ProducerStateTable.Check result = ProducerStateTable.Check.ACCEPT;
        int count = 0;
        // A producer's later batches in the same request follow its earlier ones, not the table.
        Map<Long, RecordBatch> earlier = new HashMap<>();
        for (int position = records.position(); position < records.limit(); position += batch.sizeInBytes()) {
            batch.wrap(records, position);
            RecordBatch previous = batch.hasProducerId() ? earlier.get(batch.producerId()) : null;
            ProducerStateTable.Check check = previous == null ? producers.check(batch) : ProducerStateTable.checkFollowing(previous, batch);
            if (batch.hasProducerId() && batch.baseSequence() != RecordBatch.NO_SEQUENCE) {
                earlier.put(batch.producerId(), new RecordBatch().wrap(records, position));
            }
            if (check instanceof ProducerStateTable.Reject) {
                return check;
            }
            if ((check instanceof ProducerStateTable.Duplicate || check instanceof ProducerStateTable.OldDuplicate) && count > 0) {
                return new ProducerStateTable.Reject(LogError.OUT_OF_ORDER_SEQUENCE, "a retried batch may only be sent alone");
            }
            if (count == 0) {
                result = check;
            }
            count++;
        }
        if ((result instanceof ProducerStateTable.Duplicate || result instanceof ProducerStateTable.OldDuplicate) && count > 1) {
            return new ProducerStateTable.Reject(LogError.OUT_OF_ORDER_SEQUENCE, "a retried batch may only be sent alone");
        }
        return result;
    }

    private void maybeRoll(long lastIncomingOffset, int incomingBytes, LogConfig cfg, long nowMs) throws IOException {
        maybeRollAt(logEndOffset, lastIncomingOffset, incomingBytes, cfg, nowMs);
    }

    private void roll() throws IOException {
        rollAt(logEndOffset);
    }

    /**
     * As {@link #maybeRoll}, but a new segment is named after {@code nextBase}, the first
     * incoming offset: after a gap (a compacted leader's batches) the segment then starts at its
     * first batch, and offsets relative to the segment stay small.
     */
    private void maybeRollAt(long nextBase, long lastIncomingOffset, int incomingBytes, LogConfig cfg, long nowMs) throws IOException {
        LogSegment current = active;
        // A segment's indexes hold offsets as ints relative to its base, as Kafka's do: what ends
        // further past it goes into a new segment, even when this one is empty (a follower of a
        // compacted leader whose next batch lies more than 2^31 offsets on; it was indexed at a
        // wrapped offset), or a leader's compressed batches of tiny records (a 2 GiB segment can
        // hold more than 2^31 of them).
        boolean tooFar = lastIncomingOffset - current.baseOffset() > Integer.MAX_VALUE;
        if (current.size() == 0 && !tooFar) {
            return;
        }
        boolean full = (long) current.size() + incomingBytes > Math.min(cfg.segmentBytes(), Integer.MAX_VALUE);
        boolean old = current.firstAppendMs() >= 0 && nowMs - current.firstAppendMs() >= cfg.segmentMs();
        if (full || old || tooFar) {
            rollAt(nextBase);
        }
    }

    private void rollAt(long baseOffset) throws IOException {
        LogSegment current = active;
        // A roll that leaves a gap (past a compacted leader's gap, or from a segment cut inside
        // one) seals what comes before, whatever the policy: a follower of a topic that compacted
        // before its policy changed copies such gaps too. A compacted log seals at every roll, so
        // that a gap compaction makes later inside its sealed segments is never taken for a tear.
        boolean afterGap = baseOffset > Math.max(current.nextOffset(), current.baseOffset()) || current.mayEndInGap();
        if (config.compact() || afterGap) {
            fsyncUnsyncedSegmentsBelow(Long.MAX_VALUE);
            sealThrough(baseOffset);
        }
        LogSegment next = LogSegment.create(dir, baseOffset, config.indexIntervalBytes());
        // The new file's name must survive a power loss too: without this a crash could lose the
        // directory entry of a segment whose data was fsynced.
        LogManager.fsyncDirectory(dir);
        segments.put(next.baseOffset(), next);
        active = next;
        // The producer state as of the roll, as Kafka keeps one per segment: a replay after a
        // kill, or after a truncation that took a producer's remembered batches, then reads the
        // active segment instead of the whole log under the append lock.
        try {
            // At the new segment's base, also when the roll leaves a gap (the log's end is still
            // before it): the same state, as no batch lies in between, and the snapshot a
            // truncation inside this segment replays from.
            ProducerSnapshot.write(dir, Math.max(logEndOffset, baseOffset), producers);
        } catch (IOException e) {
            log.warn("{}: could not write the producer state snapshot at a roll to {}: a replay reads from the previous one", topicPartition,
                    baseOffset, e);
        }
        rolled.accept(this);
    }

    /**
     * Fsyncs what is not yet durable in the segments that begin below {@code end}, under the
     * append lock, before a gap may follow them (see {@link SealedThrough}). A segment may end
     * before the next one begins (compaction's output, a compacted leader's gaps copied by a
     * follower), and a load cannot tell a power loss that kept a later segment and lost the
     * unsynced tail of the one before it from such a gap by looking: it kept the hole, and a
     * follower fetched on from the later segment's end and never got the lost records back, the
     * latest of some key among them (found by the replication simulation with an idempotent
     * producer and compaction, seed 91039). The recovery point is left to {@link #flush}, which
     * takes the flush lock first and finds these bytes already synced.
     */
    private void fsyncUnsyncedSegmentsBelow(long end) throws IOException {
        Map.Entry<Long, LogSegment> from = segments.floorEntry(recoveryPoint);
        try {
            for (LogSegment segment : (from == null ? segments : segments.tailMap(from.getKey())).values()) {
                if (segment.baseOffset() >= end) {
                    break;
                }
                segment.flush();
            }
        } catch (IOException e) {
            throw fsyncFailed(e);
        }
    }

    /**
     * Records, durably and before a segment at {@code offset} or a gap below it exists, that every
     * segment below {@code offset} is fsynced (the caller made sure); under the append lock.
     */
    private void sealThrough(long offset) throws IOException {
        if (offset > sealedThrough) {
            try {
                SealedThrough.write(dir, offset);
            } catch (IOException e) {
                throw fsyncFailed(e);
            }
            sealedThrough = offset;
        }
    }

    /**
     * After a truncation, before anything can roll past the cut: segments created there are not
     * sealed unless they say so themselves. Under the append lock.
     */
    private void unsealFrom(long offset) throws IOException {
        if (sealedThrough > offset) {
            durably("the sealed offset after a truncation", () -> SealedThrough.write(dir, offset));
            sealedThrough = offset;
        }
    }

    /**
     * What a failed fsync of this log means, for {@link #flush} and a roll's fsync alike; returns
     * {@code e} for the caller to throw. The log closed meanwhile (its partition moved away or
     * deleted, the node stopping): nothing was fsynced, and no disk failed (taken for a failed
     * fsync, it took the node's whole data directory offline: found by the replication simulation
     * with compaction and moves). The thread interrupted (a stop): the segment's channel is closed
     * for good, so this log is offline until it is opened again, but the disk did not fail.
     * Otherwise the kernel may have dropped the dirty pages and cleared the error, so a retry
     * could "succeed" without the data: never retried, the directory goes offline.
     */
    private IOException fsyncFailed(IOException e) {
        if (closed && e instanceof java.nio.channels.ClosedChannelException) {
            return e;
        }
        if (e instanceof java.nio.channels.ClosedByInterruptException) {
            takeOffline("an fsync was interrupted: " + e);
            return e;
        }
        takeOffline("fsync failed: " + e.getMessage());
        fsyncFailureListener.accept(e);
        return e;
    }

    /**
     * Reads from {@code offset}: at most {@code maxBytes}, never at or past
     * {@code maxOffsetExclusive} (the high watermark for consumers, the log end for followers),
     * and, when {@code minOneBatch}, at least one whole batch even if it is larger than
     * {@code maxBytes}, so that a consumer can always make progress.
     */
    public LogReadResult read(long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        return read(offset, maxBytes, maxOffsetExclusive, minOneBatch, false);
    }

    /**
     * As above; with {@code readCommitted} (a read_committed consumer, who passes the last stable
     * offset as the bound) the result also holds the aborted transactions whose records may lie
     * in the bytes read, for the consumer to drop.
     */
    public LogReadResult read(long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch, boolean readCommitted) {
        if (offlineReason != null) {
            return new LogReadResult(LogError.STORAGE_ERROR, FileSlice.EMPTY, highWatermark, logStartOffset, logEndOffset,
                    lastStableOffset, List.of());
        }
        int deletedUnderUs = 0;
        while (true) {
            long start = logStartOffset;
            long end = logEndOffset;
            long hw = highWatermark;
            // Read without the lock, each value may be of another moment: held to the order they keep.
            long stable = Math.max(start, Math.min(lastStableOffset, hw));
            if (offset < start || offset > end) {
                return new LogReadResult(LogError.OFFSET_OUT_OF_RANGE, FileSlice.EMPTY, hw, start, end, stable, List.of());
            }
            if (offset >= maxOffsetExclusive) {
                return new LogReadResult(LogError.NONE, FileSlice.EMPTY, hw, start, end, stable, List.of());
            }
            FileSlice slice;
            try {
                slice = readSlice(offset, maxBytes, maxOffsetExclusive, minOneBatch);
            } catch (java.io.UncheckedIOException e) {
                // This read only: the log stays online, and the reader (a consumer, a follower) retries.
                log.warn("{}: a read at offset {} failed: {}", topicPartition, offset, e.getCause().getMessage());
                return new LogReadResult(LogError.STORAGE_ERROR, FileSlice.EMPTY, hw, start, end, stable, List.of());
            }
            if (slice != null) {
                List<AbortedTxn> aborted = readCommitted && slice.size() > 0
                        ? abortedTransactions(offset, Math.min(maxOffsetExclusive, slice.segment().offsetBoundAfter(slice.position() + slice.size())))
                        : List.of();
                return new LogReadResult(LogError.NONE, slice, hw, start, end, stable, aborted);
            }
            // A segment was deleted under us: retention moved the log start, or a compaction's
            // output replaced it (found in the map a moment before the swap): look again. A log
            // whose segment stays deleted in the map (closed, deleted) answers nothing, as before.
            if (logStartOffset == start && ++deletedUnderUs > 100) {
                return new LogReadResult(LogError.NONE, FileSlice.EMPTY, hw, start, end, stable, List.of());
            }
        }
    }

    private FileSlice readSlice(long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        Map.Entry<Long, LogSegment> entry = segments.floorEntry(offset);
        while (entry != null) {
            LogSegment segment = entry.getValue();
            int size = segment.size();
            long segmentNext = segment.nextOffset();
            // No batch below the size reaching the bound (an append under way published its offsets
            // before its size, or a cut inside a gap left the segment's end past its last batch):
            // all of them are below it.
            int boundAt = segmentNext <= maxOffsetExclusive ? size : segment.positionOf(maxOffsetExclusive, size);
            int limit = boundAt < 0 ? size : boundAt;
            int position = segment.positionOf(offset, limit);
            if (position >= 0) {
                if (!segment.retain()) {
                    return null;
                }
                int length = Math.min(maxBytes, limit - position);
                if (minOneBatch && length < limit - position) {
                    length = Math.max(length, Math.min(limit - position, firstBatchSize(segment, position)));
                }
                if (length <= 0) {
                    segment.release();
                    return FileSlice.EMPTY;
                }
                return new FileSlice(segment, position, length);
            }
            if (segmentNext > maxOffsetExclusive) {
                return FileSlice.EMPTY;
            }
            entry = segments.higherEntry(entry.getKey());
        }
        return FileSlice.EMPTY;
    }

    private static int firstBatchSize(LogSegment segment, int position) {
        try {
            ByteBuffer header = segment.readBytes(position, RecordBatch.LOG_OVERHEAD);
            return RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The first batch at or after {@code fromOffset} whose max timestamp is at or after
     * {@code timestamp} (found through the time index and a header scan), for ListOffsets by
     * time; null when there is none. The batch may begin below {@code fromOffset}.
     */
    ByteBuffer batchForTimestamp(long timestamp, long fromOffset) throws IOException {
        Long first = segments.floorKey(fromOffset);
        for (LogSegment segment : (first == null ? segments : segments.tailMap(first)).values()) {
            if (segment.maxTimestamp() < timestamp) {
                continue;
            }
            ByteBuffer batch = segment.batchForTimestamp(timestamp, fromOffset);
            if (batch != null) {
                return batch;
            }
        }
        return null;
    }

    /** A record's place and time, as ListOffsets by time answers it. */
    public record TimestampAndOffset(long timestamp, long offset) {
    }

    /**
     * The first record from the log start offset up to below {@code endOffset} whose timestamp is
     * at or after {@code timestamp} (ListOffsets by time), or null when there is none. A batch
     * stamped with log-append time gives each record the batch's time, as Kafka does.
     *
     * <p>The search starts at the log start, not the first segment: DeleteRecords deletes only
     * whole segments, so the first one may still hold records below the log start, which no
     * reader may be sent to (Kafka searches from the log start the same way).
     */
    public TimestampAndOffset offsetForTimestamp(long timestamp, long endOffset) throws IOException {
        long from = logStartOffset;
        RecordReader reader = null;
        while (from < endOffset) {
            ByteBuffer bytes;
            try {
                bytes = batchForTimestamp(timestamp, from);
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            if (bytes == null) {
                return null;
            }
            RecordBatch batch = RecordBatch.of(bytes);
            if (batch.baseOffset() >= endOffset) {
                return null;
            }
            if (batch.isLogAppendTime() && batch.baseOffset() >= from) {
                return new TimestampAndOffset(batch.maxTimestamp(), batch.baseOffset());
            }
            reader = reader == null ? new RecordReader(decompressor) : reader;
            reader.open(batch);
            while (reader.hasNext()) {
                io.spate.record.Record record = reader.next();
                if (record.offset() >= endOffset) {
                    return null;
                }
                if (record.offset() >= from && record.timestamp() >= timestamp) {
                    return new TimestampAndOffset(record.timestamp(), record.offset());
                }
            }
            // Only records below the log start reached that time in this batch: search on after it.
            from = batch.lastOffset() + 1;
        }
        return null;
    }

    /**
     * The record with the largest timestamp (ListOffsets MAX_TIMESTAMP), or null when no record
     * has a timestamp. Its offset is that of the first record carrying that time in the batch
     * that set it, not the batch's last offset (KAFKA-16310): the segments keep only the batch,
     * so the one batch is decoded here, where the question is asked, and never on append.
     */
    public TimestampAndOffset maxTimestampAndOffset() throws IOException {
        LogSegment latest = null;
        for (LogSegment segment : segments.values()) {
            if (segment.maxTimestamp() > (latest == null ? RecordBatch.NO_TIMESTAMP : latest.maxTimestamp())) {
                latest = segment;
            }
        }
        if (latest == null) {
            return null;
        }
        long maxTimestamp = latest.maxTimestamp();
        long batchLastOffset = latest.offsetOfMaxTimestamp();
        if (!latest.retain()) {
            return new TimestampAndOffset(maxTimestamp, batchLastOffset); // deleted meanwhile: the batch is not at hand
        }
        try {
            ByteBuffer bytes = latest.batchHolding(batchLastOffset);
            if (bytes != null) {
                RecordBatch batch = RecordBatch.of(bytes);
                RecordReader reader = new RecordReader(decompressor).open(batch);
                while (reader.hasNext()) {
                    io.spate.record.Record record = reader.next();
                    if (record.timestamp() == maxTimestamp) {
                        return new TimestampAndOffset(maxTimestamp, record.offset());
                    }
                }
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        } finally {
            latest.release();
        }
        return new TimestampAndOffset(maxTimestamp, batchLastOffset);
    }

    /** Fsyncs every segment with unflushed bytes; afterwards everything appended before the call is durable. */
    public void flush(long nowMs) throws IOException {
        synchronized (flushLock) {
            String offline = offlineReason;
            if (offline != null) {
                throw new IOException("partition " + topicPartition + " is offline on this node: " + offline);
            }
            long target = logEndOffset;
            if (target <= recoveryPoint) {
                return;
            }
            Map.Entry<Long, LogSegment> from = segments.floorEntry(recoveryPoint);
            long started = System.nanoTime(); // observed for the metrics only; no decision reads it
            try {
                for (LogSegment segment : (from == null ? segments : segments.tailMap(from.getKey())).values()) {
                    // Retention, DeleteRecords, compaction or a truncation may delete a segment
                    // meanwhile (under the append lock only): a deleted one needs no fsync, and
                    // its closed channel must not read as a failed one.
                    if (!segment.retain()) {
                        if (segment.deleted()) {
                            continue;
                        }
                        throw new java.nio.channels.ClosedChannelException(); // the log was closed: nothing was fsynced
                    }
                    try {
                        segment.flush();
                    } finally {
                        segment.release();
                    }
                }
            } catch (IOException e) {
                throw fsyncFailed(e);
            }
            fsynced.accept(System.nanoTime() - started);
            recoveryPoint = target;
            lastFlushMs = nowMs;
        }
    }

    /**
     * True when the background flusher should fsync this log now: its flush.ms passed, or it is
     * compacted and its active segment holds more than {@link #COMPACTED_UNSYNCED_BYTES} not yet
     * fsynced. A compacted log fsyncs a segment before it rolls (the roll's seal), under
     * the append lock; kept small ahead of time (the log manager asks at least every second), that
     * fsync holds appends back for what came in since, not for the writes of the last half-minute
     * the operating system had not written back yet.
     */
    boolean flushDue(long nowMs) {
        if (offlineReason != null || logEndOffset <= recoveryPoint) {
            return false;
        }
        return nowMs - lastFlushMs >= config.flushMs() || (config.compact() && active.unsyncedBytes() > COMPACTED_UNSYNCED_BYTES);
    }

    /** How many bytes of a compacted log's active segment may wait for the roll's own fsync. */
    static final int COMPACTED_UNSYNCED_BYTES = 4 << 20;

    /** True when an acknowledgement of data up to {@code nextOffset} must wait for fsync. */
    public boolean needsFlushBeforeAck(long nextOffset) {
        return nextOffset - recoveryPoint >= config.flushMessages();
    }

    /**
     * Deletes the oldest segments past the topic's retention time or size. An expired active
     * segment is rolled first so that retention can take it too.
     *
     * @return the number of segments deleted
     */
    public int applyRetention(long nowMs) throws IOException {
        LogConfig cfg = config;
        if (!cfg.delete()) {
            return 0;
        }
        int deleted = 0;
        long stableBefore;
        synchronized (appendLock) {
            if (closed || offlineReason != null) {
                return 0;
            }
            stableBefore = lastStableOffset;
            long activeNewest = newestTimestamp(active);
            if (cfg.retentionMs() >= 0 && active.size() > 0 && activeNewest >= 0 && nowMs - activeNewest > cfg.retentionMs()) {
                try {
                    roll();
                } catch (IOException e) {
                    // A full disk has no room for the next segment's file: the sealed ones still go,
                    // and the active one at a later check, once there is.
                    log.warn("{}: could not roll the expired active segment for retention: {}", topicPartition, e.toString());
                    if (offlineReason != null) {
                        return 0; // the roll's fsync failed: the log is offline, nothing more is done to it
                    }
                }
            }
            long total = sizeInBytes();
            while (segments.size() > 1) {
                LogSegment oldest = segments.firstEntry().getValue();
                // An empty segment (a follower's roll past a compacted gap, a compaction that kept
                // the log start with an empty file) has no timestamp of its own: it blocked time
                // retention for good. It ages by its file's time, as in Kafka.
                long newest = newestTimestamp(oldest);
                boolean expired = cfg.retentionMs() >= 0 && newest >= 0 && nowMs - newest > cfg.retentionMs();
                boolean oversize = cfg.retentionBytes() >= 0 && total - oldest.size() >= cfg.retentionBytes();
                // Never past the high watermark: a follower may not have copied it yet, and a
                // leader that lost it before it was replicated would lose acknowledged data. The
                // next segment's base, as in Kafka: the log start moves there, and a segment may
                // end before a gap (an empty one ends where it begins).
                boolean replicated = segments.higherKey(oldest.baseOffset()) <= highWatermark;
                if (!expired && !oversize || !replicated) {
                    break;
                }
                if (deleted == 0) {
                    snapshotBeforeDeleting();
                }
                segments.remove(oldest.baseOffset());
                total -= oldest.size();
                logStartOffset = Math.max(logStartOffset, segments.firstKey());
                oldest.markDeleted();
                deleted++;
            }
            if (deleted > 0) {
                deleteSnapshotsBeforeFirstSegment();
                epochs.truncateBefore(logStartOffset);
                refreshLastStableOffset();
            }
        }
        tellIfStableOffsetAdvanced(stableBefore, UncommittedBytes.UNKNOWN);
        if (deleted > 0) {
            log.info("{}: retention deleted {} segment(s); log start offset is now {}", topicPartition, deleted, logStartOffset);
        }
        return deleted;
    }

    /** Removes everything at or after {@code offset} (a follower aligning with a new leader). */
    public void truncateTo(long offset) throws IOException {
        // The flush lock first: a flush that read the log end before the cut must not publish
        // it as the recovery point after the cut (nothing takes these locks the other way round).
        synchronized (flushLock) {
            synchronized (appendLock) {
                if (offset >= logEndOffset) {
                    return;
                }
                truncations++;
                if (offset < logStartOffset) {
                    // Nothing left would be shared with the leader (an unclean election let a replica
                    // holding less lead): as Kafka does, the log starts over, empty, at the cut.
                    log.warn("{}: truncating to {}, below the log start {}: starting the log over there", topicPartition, offset,
                            logStartOffset);
                    truncateFullyAndStartAtLocked(offset);
                    return;
                }
                // Where the segment that will end the log is cut is found first: if that fails (its
                // reads disagree), nothing has changed yet. Later segments go before the cut, so a
                // reader never finds a hole between the cut and them.
                var holding = segments.lowerEntry(offset);
                LogSegment last = holding != null ? holding.getValue() : segments.firstEntry().getValue();
                long cutBefore = holding != null ? offset : last.baseOffset();
                int cut = last.cutPositionFor(cutBefore);
                while (segments.lastKey() > last.baseOffset()) {
                    segments.pollLastEntry().getValue().markDeleted();
                }
                active = last;
                forgetUnconfirmedReads();
                if (cut >= 0) {
                    // Later segments are gone already: a cut that fails leaves a log that ends where
                    // it should not, so the log goes offline as after a failed fsync.
                    try {
                        last.cutAt(cut, cutBefore);
                    } catch (IOException e) {
                        logEndOffset = Math.max(active.nextOffset(), active.baseOffset());
                        durably("the cut of a truncation", () -> {
                            throw e;
                        });
                    }
                } else if (last.nextOffset() != cutBefore) {
                    // The cut falls in a gap compaction left where a segment ends: the log ends at the
                    // cut, as in Kafka, not at the batch before the gap (the high watermark went back
                    // there: found by the replication simulation with compaction). Also when an
                    // earlier cut left the log's end further into that gap, or at the first
                    // segment's base into an empty segment: it stayed there, and the follower
                    // fetched past the new leader's records between the two cuts.
                    try {
                        last.cutAt(last.size(), cutBefore);
                    } catch (IOException e) {
                        logEndOffset = Math.max(active.nextOffset(), active.baseOffset());
                        durably("the cut of a truncation", () -> {
                            throw e;
                        });
                    }
                }
                logEndOffset = Math.max(active.nextOffset(), active.baseOffset());
                // Before any later step can fail and leave the mark vouching for rolls past the cut.
                unsealFrom(active.baseOffset());
                uncommitted.truncatedTo(logEndOffset);
                if (logEndOffset < highWatermark) {
                    highWatermark = logEndOffset;
                    uncommitted.highWatermarkSetBack();
                }
                assert highWatermarkWithinLog();
                long recoveryPointBefore = recoveryPoint;
                recoveryPoint = Math.min(recoveryPoint, logEndOffset);
                verificationGuards.clear(); // a truncating replica is a follower: what a leader verified is void
                if (!producers.truncateFrom(offset)) {
                    // The cut went below the markers the table still holds (a marker it cut may have
                    // decided a transaction that is open again now), or took all the batches it kept
                    // of a producer that wrote before the cut (a retry of what it wrote there would be
                    // stored twice; Kafka rebuilds the state at every truncation): the state is
                    // replayed, reading the log from the newest snapshot at or below the cut (one
                    // per segment), or from its first segment without one.
                    replayProducerState(ProducerSnapshot.newestAtOrBelow(dir, offset, segments.firstKey()));
                    producers.onHighWatermark(highWatermark);
                }
                refreshLastStableOffset();
                // A snapshot taken past the cut would skip the batches that will now fill the gap;
                // the fsync below makes their deletion durable before they do. One that cannot be
                // deleted takes the log offline: it would be the newest at the next start.
                durably("the deletion of the producer snapshots past a truncation", () -> ProducerSnapshot.deleteAbove(dir, offset));
                // The cut goes to the platter before anything that relies on it: the epoch
                // checkpoint below and the appends that will refill these offsets. Otherwise a
                // power loss could keep the new epochs' checkpoint and bring back the cut batches
                // under it, a replica that diverges where its epochs say it cannot (found by the
                // simulated disk).
                durably("the fsync of a truncation", () -> {
                    active.flush();
                    LogManager.fsyncDirectory(dir);
                });
                epochs.truncateFrom(logEndOffset);
                if (recoveryPoint < recoveryPointBefore) {
                    durably("the recovery checkpoint after a truncation", recoveryPointLowered::lowered);
                }
            }
        }
    }

    private interface Io {
        void run() throws IOException;
    }

    /** Runs {@code step}; if it fails the log goes offline, as after any failed fsync (never retried). */
    private void durably(String what, Io step) throws IOException {
        try {
            step.run();
        } catch (IOException e) {
            takeOffline(what + " failed: " + e.getMessage());
            fsyncFailureListener.accept(e);
            throw e;
        }
    }

    /** What DeleteRecords sends for "everything below the high watermark" (Kafka's {@code DeleteRecordsRequest.HIGH_WATERMARK}). */
    public static final long HIGH_WATERMARK = -1L;

    /**
     * DeleteRecords: makes {@code offset} the first offset readers can see, and deletes the
     * segments wholly below it. Only committed data can be deleted this way.
     *
     * @param offset the new log start offset; {@link #HIGH_WATERMARK} means the high watermark
     * @return the log start offset afterwards
     * @throws IllegalArgumentException when {@code offset} is above the high watermark, or
     *         negative other than {@link #HIGH_WATERMARK} (Kafka's OFFSET_OUT_OF_RANGE for both)
     */
    public long deleteRecordsBefore(long offset) throws IOException {
        if (offset < 0 && offset != HIGH_WATERMARK) {
            throw new IllegalArgumentException("offset " + offset + " is negative; only " + HIGH_WATERMARK + " stands for the high watermark");
        }
        long stableBefore;
        long start;
        int deleted;
        synchronized (appendLock) {
            if (offlineReason != null) {
                throw new IOException("partition " + topicPartition + " is offline on this node: " + offlineReason);
            }
            long target = offset == HIGH_WATERMARK ? highWatermark : offset;
            if (target > highWatermark) {
                throw new IllegalArgumentException("offset " + target + " is above the high watermark " + highWatermark);
            }
            stableBefore = lastStableOffset;
            deleted = advanceLogStartOffsetLocked(target);
            start = logStartOffset;
        }
        if (deleted >= 0) {
            afterLogStartMoved(stableBefore, deleted);
        }
        return start;
    }

    /**
     * Moves the log start offset forward to {@code offset} (never backwards, never past the log
     * end) and deletes sealed segments that end at or below it. DeleteRecords calls it on the
     * leader; a follower calls it with the leader's log start offset from each fetch, so that
     * DeleteRecords and retention reach every replica.
     *
     * @return the number of segments deleted
     */
    public int advanceLogStartOffset(long offset) throws IOException {
        long stableBefore;
        int deleted;
        synchronized (appendLock) {
            stableBefore = lastStableOffset;
            deleted = advanceLogStartOffsetLocked(offset);
        }
        if (deleted >= 0) {
            afterLogStartMoved(stableBefore, deleted);
        }
        return Math.max(0, deleted);
    }

    /** {@link #advanceLogStartOffset} under the append lock: the segments deleted, -1 when the log start did not move. */
    private int advanceLogStartOffsetLocked(long offset) throws IOException {
        long target = Math.min(offset, logEndOffset);
        if (closed || offlineReason != null || target <= logStartOffset) {
            return -1;
        }
        int deleted = 0;
        logStartOffset = target;
        highWatermark = Math.max(highWatermark, target);
        producers.onHighWatermark(highWatermark);
        while (segments.size() > 1) {
            Map.Entry<Long, LogSegment> second = segments.higherEntry(segments.firstKey());
            if (second.getKey() > target) {
                break;
            }
            if (deleted == 0) {
                snapshotBeforeDeleting();
            }
            segments.pollFirstEntry().getValue().markDeleted();
            deleted++;
        }
        if (deleted > 0) {
            deleteSnapshotsBeforeFirstSegment();
        }
        epochs.truncateBefore(logStartOffset);
        // Past an open transaction's start, read_committed readers start at the log start (as in Kafka).
        refreshLastStableOffset();
        return deleted;
    }

    private void afterLogStartMoved(long stableBefore, int deleted) {
        log.info("{}: log start offset moved to {} ({} segment(s) deleted)", topicPartition, logStartOffset, deleted);
        tellIfStableOffsetAdvanced(stableBefore, UncommittedBytes.UNKNOWN);
    }

    /**
     * Throws the whole log away and starts it empty at {@code offset}: a follower whose log ends
     * below the leader's log start offset (retention ran on the leader while this replica was
     * away, or it is a new replica) can never fetch the missing offsets, so it starts where the
     * leader's log starts. Crash-safe: a crash part-way leaves an empty log or an empty segment
     * at {@code offset}, and the next fetch lands here again.
     */
    public void truncateFullyAndStartAt(long offset) throws IOException {
        synchronized (flushLock) {
            truncateFullyAndStartAtLocked(offset);
        }
        log.info("{}: truncated fully; the log now starts and ends at {}", topicPartition, offset);
    }

    private void truncateFullyAndStartAtLocked(long offset) throws IOException {
        synchronized (appendLock) {
            if (closed) {
                throw new IOException("log " + topicPartition + " is closed");
            }
            truncations++;
            // The producer snapshot goes first, durably: left behind by a crash part-way (after the new
            // segment exists), it brought back the discarded log's producers, an open transaction
            // among them holding the last stable offset at the new log start for good (found by a
            // review of fix 67).
            durably("the deletion of the producer snapshots of a full truncation", () -> {
                ProducerSnapshot.deleteAll(dir);
                LogManager.fsyncDirectory(dir);
            });
            List<LogSegment> old = new ArrayList<>(segments.values());
            segments.clear();
            old.forEach(LogSegment::markDeleted);
            forgetUnconfirmedReads();
            LogSegment fresh = LogSegment.create(dir, offset, config.indexIntervalBytes());
            segments.put(offset, fresh);
            active = fresh;
            unsealFrom(offset);
            logStartOffset = offset;
            logEndOffset = offset;
            highWatermark = offset;
            uncommitted.restartAt(offset);
            long recoveryPointBefore = recoveryPoint;
            recoveryPoint = offset;
            producers.clear();
            verificationGuards.clear();
            refreshLastStableOffset();
            epochs.clear();
            durably("the fsync of a full truncation", () -> LogManager.fsyncDirectory(dir));
            if (recoveryPoint < recoveryPointBefore) {
                durably("the recovery checkpoint after a truncation", recoveryPointLowered::lowered);
            }
        }
    }

    public int producerCount() {
        synchronized (appendLock) {
            return producers.producerCount();
        }
    }

    /** What compaction must keep of each producer this log knows (see {@link ProducerStateTable.LastRecord}). */
    public Map<Long, ProducerStateTable.LastRecord> lastRecordsOfProducers() {
        synchronized (appendLock) {
            return producers.lastRecords();
        }
    }

    /** Drops the state of producers with no batch for {@code expirationMs}; see {@link ProducerStateTable#removeExpired}. */
    public int removeExpiredProducers(long nowMs, long expirationMs) {
        synchronized (appendLock) {
            // A verification whose write never came (a fenced or timed-out producer) goes with the idle producers.
            verificationGuards.values().removeIf(guard -> nowMs - guard.createdMs() >= expirationMs);
            return producers.removeExpired(nowMs, expirationMs);
        }
    }

    void close() {
        synchronized (appendLock) {
            if (!closed && offlineReason == null && !segments.isEmpty()) {
                try {
                    snapshotAtEnd();
                } catch (IOException e) {
                    log.warn("{}: could not write the producer state snapshot at close", topicPartition, e);
                }
            }
            closed = true;
            for (LogSegment segment : segments.values()) {
                segment.close();
            }
        }
    }

    /** Closes the segments and writes nothing: the files stay as a killed process leaves them. */
    void halt() {
        synchronized (appendLock) {
            closed = true;
            for (LogSegment segment : segments.values()) {
                segment.close();
            }
        }
    }

    /** Closes the log and removes its directory (see {@link #deleteDirectory}). */
    void deleteFiles() throws IOException {
        Path doomed;
        synchronized (flushLock) {
            synchronized (appendLock) {
                closed = true;
                try {
                    doomed = renameForDeletion(dir);
                } catch (IOException | RuntimeException e) {
                    // Not renamed, or not durably: the segments are closed, their files left whole
                    // where they are (a renamed directory goes at the next start).
                    for (LogSegment segment : segments.values()) {
                        segment.close();
                    }
                    segments.clear();
                    throw e;
                }
                for (LogSegment segment : segments.values()) {
                    segment.directoryMovedTo(doomed);
                    segment.markDeleted(); // open reads keep their channels; the files go with the directory
                }
                segments.clear();
            }
        }
        deleteTree(doomed);
    }

    /** The suffix of a partition directory on its way out: never loaded, removed when the log manager opens. */
    static final String DELETE_SUFFIX = "-delete";
    private static final java.util.concurrent.atomic.AtomicLong DELETIONS = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Deletes a partition directory and everything in it. It is first renamed out of the way,
     * durably: a power loss during the deletion of the files one by one kept some and lost the
     * others, and the directory that came back was taken for the partition's log, its first
     * segments gone (found by the replication simulation with compaction and moves, seed 99000:
     * a replica moved away and back again served its log from offset 184, and had it led, the
     * others would have deleted their records below 184 too). As Kafka does, the rename is the
     * commit point: without it the log is whole, with it the log manager removes the rest.
     */
    static void deleteDirectory(Path dir) throws IOException {
        deleteTree(renameForDeletion(dir));
    }

    private static Path renameForDeletion(Path dir) throws IOException {
        Path doomed;
        do {
            doomed = dir.resolveSibling(dir.getFileName() + "." + DELETIONS.incrementAndGet() + DELETE_SUFFIX);
        } while (Files.exists(doomed));
        Files.move(dir, doomed, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        LogManager.fsyncDirectory(dir.getParent());
        return doomed;
    }

    /** Removes a directory renamed for deletion and everything in it. */
    static void deleteTree(Path doomed) throws IOException {
        try (Stream<Path> files = Files.walk(doomed)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    // ------------------------------------------------------------ transactions (KIP-98)

    /**
     * Appends an end-transaction marker for {@code producerId} as leader (WriteTxnMarkers):
     * commits or aborts its open transaction here. A marker with an older producer epoch or an
     * older coordinator epoch than this partition has seen is refused (INVALID_PRODUCER_EPOCH,
     * TRANSACTION_COORDINATOR_FENCED); a newer producer epoch is taken (the coordinator aborting
     * the transaction of a producer it fenced). One for a producer with no open transaction is
     * written all the same (a retried marker; harmless). The last stable offset moves past the
     * transaction once the high watermark passes the marker.
     */
    public AppendResult appendControlAsLeader(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                                              int leaderEpoch, long nowMs) {
        LogConfig cfg = config;
        if (offlineReason != null) {
            return AppendResult.failed(LogError.STORAGE_ERROR, "partition " + topicPartition + " is offline on this node: " + offlineReason, logStartOffset);
        }
        ByteBuffer marker = ControlBatches.endTxnMarker(producerId, producerEpoch, coordinatorEpoch, commit, nowMs);
        RecordBatch batch = RecordBatch.of(marker);
        if (cfg.logAppendTime()) {
            batch.stampLogAppendTime(nowMs);
        }
        int size = marker.remaining();
        synchronized (appendLock) {
            if (closed) {
                return AppendResult.failed(LogError.STORAGE_ERROR, "log " + topicPartition + " is closed", logStartOffset);
            }
            if (producers.checkMarker(producerId, producerEpoch, coordinatorEpoch) instanceof ProducerStateTable.Reject reject) {
                return AppendResult.failed(reject.error(), reject.message(), logStartOffset);
            }
            long offset = logEndOffset;
            batch.assign(offset, leaderEpoch);
            try {
                maybeRoll(offset, size, cfg, nowMs);
                active.append(marker, nowMs);
            } catch (IOException e) {
                log.error("{}: append of a transaction marker failed; the log is unchanged", topicPartition, e);
                writeFailureListener.accept(e);
                return AppendResult.failed(LogError.STORAGE_ERROR, "could not write to the log: " + e.getMessage(), logStartOffset);
            }
            AbortedTxn aborted = producers.completeTxn(producerId, producerEpoch, coordinatorEpoch, commit, offset, nowMs);
            if (aborted != null) {
                active.abortedTxns().add(aborted);
            }
            // A verification in flight for this producer was of the transaction just ended: its write must not reopen it.
            verificationGuards.remove(producerId);
            observeEpoch(leaderEpoch, offset);
            logEndOffset = offset + 1;
            uncommitted.appended(offset, offset + 1, size);
            refreshLastStableOffset();
            return new AppendResult(LogError.NONE, null, offset, offset, cfg.logAppendTime() ? nowMs : -1, logStartOffset, false);
        }
    }

    /** Where read_committed readers stop: max(log start, min(first undecided transaction, high watermark)). */
    public long lastStableOffset() {
        return lastStableOffset;
    }

    /**
     * The aborted transactions whose records may lie in [from, toExclusive): those whose marker
     * is at or after {@code from} and whose first offset is before {@code toExclusive}, by first
     * offset. Segments are looked through from the one holding {@code from} until a marker says
     * no later one can matter (see {@link AbortedTxnIndex#collect}).
     */
    public List<AbortedTxn> abortedTransactions(long from, long toExclusive) {
        if (toExclusive <= from) {
            return List.of();
        }
        List<AbortedTxn> found = new ArrayList<>();
        Long first = segments.floorKey(from);
        for (LogSegment segment : (first == null ? segments : segments.tailMap(first)).values()) {
            if (segment.abortedTxns().collect(from, toExclusive, found)) {
                break;
            }
        }
        if (found.size() > 1) {
            found.sort(java.util.Comparator.comparingLong(AbortedTxn::firstOffset));
        }
        return found;
    }

    /** Every producer's state on this partition (DescribeProducers, open transactions). */
    public List<ProducerView> producerStates() {
        synchronized (appendLock) {
            return producers.views();
        }
    }

    /**
     * Told, outside the log's locks, each time the last stable offset moves forward: how many
     * bytes it made readable, or {@link Long#MAX_VALUE} when that is not known. The partition
     * wakes its read_committed readers with it. One listener per log.
     */
    public void onLastStableOffsetAdvanced(LongConsumer listener) {
        this.stableOffsetAdvanced = listener;
    }

    private void tellIfStableOffsetAdvanced(long before, long bytes) {
        if (lastStableOffset > before) {
            stableOffsetAdvanced.accept(bytes);
        }
    }

    /** Recomputes the last stable offset from the high watermark, the log start and the transactions; under the append lock. */
    private void refreshLastStableOffset() {
        long hw = highWatermark;
        lastStableOffset = Math.max(logStartOffset, Math.min(producers.firstUnstableOffset(hw), hw));
        assert stableOffsetWithinLog();
    }

    private boolean stableOffsetWithinLog() {
        if (logStartOffset > lastStableOffset || lastStableOffset > highWatermark || highWatermark > logEndOffset) {
            throw new AssertionError(topicPartition + ": log start " + logStartOffset + ", last stable offset " + lastStableOffset
                    + ", high watermark " + highWatermark + ", log end " + logEndOffset + " out of order");
        }
        return true;
    }

    /**
     * Rebuilds the producer state by replaying the log's batches (markers included) on top of
     * {@code snapshot}, from its offset, or from the log start without one; under the append
     * lock. A read that fails leaves the state as it was, with a warning: what it holds is then
     * what the table could keep, not exactly the log's.
     */
    private void replayProducerState(ProducerSnapshot.Contents snapshot) {
        ProducerStateTable replayed = new ProducerStateTable();
        snapshot.restoreInto(replayed);
        // From what the segments store, below the log start too: DeleteRecords moves it inside a
        // segment, and the producers of the batches it passed are in no snapshot past them.
        long from = Math.max(snapshot.offset(), segments.firstKey());
        try {
            LogScanner.forEachBatch(this, this::readStored, from, logEndOffset, batch -> {
                if (!batch.isControl()) {
                    replayed.update(batch);
                    return;
                }
                ControlBatches.EndTxnMarker marker = storedMarker(batch);
                if (marker != null) {
                    replayed.completeTxn(batch.producerId(), batch.producerEpoch(), marker.coordinatorEpoch(), marker.commit(),
                            batch.baseOffset(), batch.maxTimestamp());
                }
            });
        } catch (IOException | RuntimeException e) {
            log.warn("{}: could not replay the producer state from offset {} ({}); it is kept as the truncation left it", topicPartition,
                    from, e.getMessage());
            return;
        }
        producers = replayed;
        log.info("{}: replayed the producer state from offset {} to {}", topicPartition, from, logEndOffset);
    }

    /**
     * Calls {@code visitor} with buffers of whole batches covering {@code [from, to)} as the
     * segments store them, below the log start too: a compaction rewrites whole segments, and
     * the first one may begin below the log start (DeleteRecords moves it inside a segment, and a
     * follower takes its leader's, whose segments end elsewhere). A segment deleted meanwhile
     * fails the scan with an IOException.
     */
    public void forEachStoredChunk(long from, long to, LogScanner.ChunkVisitor visitor) throws IOException {
        LogScanner.forEachChunk(this, this::readStored, from, to, visitor);
    }

    /**
     * A read of what the segments store, below the log start too; under the append lock, or by a
     * compaction (a segment deleted meanwhile answers a storage error: the pass gives up).
     */
    private LogReadResult readStored(long offset, int maxBytes, long maxOffsetExclusive) {
        FileSlice slice;
        try {
            slice = readSlice(offset, maxBytes, maxOffsetExclusive, true);
        } catch (java.io.UncheckedIOException e) {
            slice = null;
        }
        LogError error = slice == null ? LogError.STORAGE_ERROR : LogError.NONE;
        return new LogReadResult(error, slice == null ? FileSlice.EMPTY : slice, highWatermark, logStartOffset, logEndOffset,
                lastStableOffset, List.of());
    }

    /** Once segments were deleted: their snapshots would never be read again. */
    private void deleteSnapshotsBeforeFirstSegment() {
        try {
            ProducerSnapshot.deleteBefore(dir, segments.firstKey());
        } catch (IOException e) {
            log.warn("{}: could not delete the producer snapshots below the first segment {}", topicPartition, segments.firstKey(), e);
        }
    }

    /**
     * A snapshot at the log's end (before segments are deleted, at a compaction's commit, at a
     * clean close), and the earlier ones of that kind go: a log keeps one per segment and the newest.
     */
    /**
     * {@link #snapshotAtEnd} before segments go, when the disk has room for it. Deleting writes
     * nothing else, and on a full disk it is what frees space (retention, DeleteRecords): without
     * the snapshot, a replay after a restart rebuilds the producers from the segments that are left.
     */
    private void snapshotBeforeDeleting() {
        try {
            snapshotAtEnd();
        } catch (IOException e) {
            log.warn("{}: could not write the producer state snapshot before deleting segments: {}", topicPartition, e.toString());
        }
    }

    /**
     * A segment's newest record time for time retention, as in Kafka: records without a time (or
     * with one before 1970) leave the file's last change, and an empty segment has only that.
     */
    private static long newestTimestamp(LogSegment segment) {
        return segment.maxTimestamp() >= 0 ? segment.maxTimestamp() : segment.lastModifiedMs();
    }

    private void snapshotAtEnd() throws IOException {
        ProducerSnapshot.write(dir, logEndOffset, producers);
        ProducerSnapshot.deleteStrays(dir, segments.keySet());
    }

    @Override
    public String toString() {
        return "PartitionLog[" + topicPartition + " start=" + logStartOffset + " hw=" + highWatermark + " end=" + logEndOffset + "]";
    }
}
