package io.spate.log;

import io.spate.record.InvalidRecordBatchException;
import io.spate.record.RecordBatch;
import io.spate.record.RecordBatches;
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
import java.util.stream.Stream;

/**
 * The log of one partition: an ordered run of {@link LogSegment}s.
 *
 * <p>Offsets: {@code logStartOffset <= highWatermark <= logEndOffset}. The log start offset is
 * the first offset still stored (retention moves it); the log end offset is the offset the next
 * record will get; the high watermark is what readers may see (on one node, everything appended;
 * with replication, what the in-sync replicas hold). The recovery point is the offset below
 * which every byte has been fsynced.
 *
 * <p>Threading: appends, truncation, rolls and retention hold the append lock; reads take no
 * lock and see only bytes below the segment sizes and offsets published by appends; fsync runs
 * on the flusher thread without the append lock, so producers keep appending while it runs.
 */
public final class PartitionLog {
    private static final Logger log = LoggerFactory.getLogger(PartitionLog.class);

    private final TopicPartition topicPartition;
    private final Path dir;
    private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
    private final ProducerStateTable producers = new ProducerStateTable();
    private final LeaderEpochCache epochs = new LeaderEpochCache();
    private final Object appendLock = new Object();
    private final Object flushLock = new Object();

    private volatile LogConfig config;
    private volatile LogSegment active;
    private volatile long logStartOffset;
    private volatile long logEndOffset;
    private volatile long highWatermark;
    private volatile long recoveryPoint;
    private volatile long lastFlushMs;
    private volatile boolean closed;

    private PartitionLog(TopicPartition topicPartition, Path dir, LogConfig config, long nowMs) {
        this.topicPartition = topicPartition;
        this.dir = dir;
        this.config = config;
        this.lastFlushMs = nowMs;
    }

    /** Creates a new empty log, or opens and recovers the one in {@code dir}. */
    static PartitionLog open(TopicPartition tp, Path dir, LogConfig config, long recoveryPoint, long nowMs) throws IOException {
        Files.createDirectories(dir);
        PartitionLog partitionLog = new PartitionLog(tp, dir, config, nowMs);
        partitionLog.load(recoveryPoint);
        return partitionLog;
    }

    private void load(long checkpointedRecoveryPoint) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.sorted().toList();
        }
        List<Path> segmentFiles = new ArrayList<>();
        List<Path> swaps = new ArrayList<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.endsWith(".log") && name.length() == 24) {
                segmentFiles.add(file);
            } else if (name.endsWith(".deleted") || name.endsWith(".tmp") || name.endsWith(".cleaned")) {
                Files.deleteIfExists(file);
            } else if (name.endsWith(".swap")) {
                swaps.add(file);
            }
        }
        for (Path swap : swaps) {
            segmentFiles = completeSwap(swap, segmentFiles);
        }
        int maxBatch = Math.max(config.maxMessageBytes(), 1) + 1024 * 1024;
        long bytesCut = 0;
        boolean gap = false;
        for (int i = 0; i < segmentFiles.size(); i++) {
            Path file = segmentFiles.get(i);
            if (gap) {
                log.warn("{}: deleting {} which follows a torn segment", topicPartition, file.getFileName());
                Files.delete(file);
                continue;
            }
            LogSegment segment = LogSegment.open(file, config.indexIntervalBytes());
            long nextBase = i + 1 < segmentFiles.size() ? baseOffsetOf(segmentFiles.get(i + 1)) : Long.MAX_VALUE;
            boolean belowRecoveryPoint = nextBase <= checkpointedRecoveryPoint;
            int cut = segment.load(!belowRecoveryPoint, maxBatch, batch -> {
                producers.update(batch);
                epochs.observe(batch.partitionLeaderEpoch(), batch.baseOffset());
            });
            if (cut > 0) {
                bytesCut += cut;
                gap = true;
            }
            if (segment.size() == 0 && i > 0) {
                segment.markDeleted();
                continue;
            }
            segments.put(segment.baseOffset(), segment);
        }
        if (bytesCut > 0) {
            log.warn("{}: recovery cut {} bytes of torn or corrupt data from the end of the log", topicPartition, bytesCut);
        }
        if (segments.isEmpty()) {
            LogSegment first = LogSegment.create(dir, 0, config.indexIntervalBytes());
            segments.put(0L, first);
        }
        active = segments.lastEntry().getValue();
        logStartOffset = segments.firstKey();
        logEndOffset = active.nextOffset();
        highWatermark = logEndOffset;
        recoveryPoint = Math.min(checkpointedRecoveryPoint, logEndOffset);
    }

    /**
     * Finishes a compaction interrupted by a crash. A {@code .swap} file is complete (it was
     * fsynced before being renamed), so the segments it replaces go and it takes their place.
     */
    private List<Path> completeSwap(Path swap, List<Path> segmentFiles) throws IOException {
        String[] parts = swap.getFileName().toString().split("\\.");
        long from = Long.parseLong(parts[0]);
        long to = Long.parseLong(parts[2]);
        List<Path> kept = new ArrayList<>();
        for (Path file : segmentFiles) {
            long base = baseOffsetOf(file);
            if (base >= from && base < to) {
                Files.delete(file);
            } else {
                kept.add(file);
            }
        }
        Path target = dir.resolve(LogSegment.fileName(from));
        Files.move(swap, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        kept.add(target);
        kept.sort(null);
        log.info("{}: completed an interrupted compaction of offsets [{}, {})", topicPartition, from, to);
        return kept;
    }

    /** Base offset of the active segment: everything below it is sealed and may be compacted. */
    public long activeSegmentBaseOffset() {
        return active.baseOffset();
    }

    /** Bytes held by sealed segments at or after {@code offset}. */
    public long sealedBytesFrom(long offset) {
        long total = 0;
        LogSegment current = active;
        for (LogSegment segment : segments.values()) {
            if (segment != current && segment.nextOffset() > offset) {
                total += segment.size();
            }
        }
        return total;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Replaces the sealed segments covering {@code [from, to)} with one compacted segment file.
     * Crash-safe: the new file is renamed to {@code FROM.log.TO.swap} before the old segments are
     * removed, and {@link #load} completes such a swap.
     *
     * @return false when the log changed meanwhile (retention or truncation) and nothing was replaced
     */
    public boolean replaceSegments(long from, long to, Path compacted) throws IOException {
        synchronized (appendLock) {
            var range = segments.subMap(from, true, to, false);
            if (closed || range.isEmpty() || range.firstKey() != from || range.containsValue(active)
                    || range.lastEntry().getValue().nextOffset() > to) {
                Files.deleteIfExists(compacted);
                return false;
            }
            Path swap = dir.resolve(String.format("%020d.log.%d.swap", from, to));
            Files.move(compacted, swap, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            List<LogSegment> old = new ArrayList<>(range.values());
            old.forEach(segment -> segments.remove(segment.baseOffset()));
            old.forEach(LogSegment::markDeleted);
            Path target = dir.resolve(LogSegment.fileName(from));
            Files.move(swap, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LogSegment replacement = LogSegment.open(target, config.indexIntervalBytes());
            replacement.load(false, Integer.MAX_VALUE, null);
            segments.put(from, replacement);
            return true;
        }
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
        synchronized (appendLock) {
            highWatermark = Math.max(logStartOffset, Math.min(offset, logEndOffset));
        }
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

    /** Moves the high watermark; it never goes back and never passes the log end offset. */
    public void updateHighWatermark(long offset) {
        synchronized (appendLock) {
            long bounded = Math.min(offset, logEndOffset);
            if (bounded > highWatermark) {
                highWatermark = bounded;
            }
        }
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
        LogConfig cfg = config;
        AppendResult invalid = validate(records, cfg, nowMs);
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
            if (check instanceof ProducerStateTable.Duplicate duplicate) {
                var original = duplicate.original();
                return new AppendResult(LogError.NONE, null, original.firstOffset(), original.lastOffset(),
                        cfg.logAppendTime() ? original.timestamp() : -1, logStartOffset, true);
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
                maybeRoll(records.remaining(), cfg, nowMs);
                active.append(records, nowMs);
            } catch (IOException e) {
                log.error("{}: append of {} bytes failed; the log is unchanged", topicPartition, records.remaining(), e);
                return AppendResult.failed(LogError.STORAGE_ERROR, "could not write to the log: " + e.getMessage(), logStartOffset);
            }
            for (int position = start; position < end; position += batch.sizeInBytes()) {
                producers.update(batch.wrap(records, position));
            }
            epochs.observe(leaderEpoch, firstOffset);
            logEndOffset = next;
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
        try {
            RecordBatches.validateAll(records, batch -> { });
        } catch (InvalidRecordBatchException e) {
            return AppendResult.failed(LogError.CORRUPT_MESSAGE, e.getMessage(), logStartOffset);
        }
        synchronized (appendLock) {
            if (closed) {
                return AppendResult.failed(LogError.STORAGE_ERROR, "log " + topicPartition + " is closed", logStartOffset);
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
            long next = firstOffset;
            for (int position = start; position < end; position += batch.sizeInBytes()) {
                batch.wrap(records, position);
                if (batch.baseOffset() < next || batch.lastOffset() < batch.baseOffset()) {
                    return AppendResult.failed(LogError.OFFSET_OUT_OF_RANGE, "replicated batch at " + batch.baseOffset()
                            + " does not follow the previous one, which ends before " + next, logStartOffset);
                }
                next = batch.lastOffset() + 1;
            }
            try {
                maybeRollAt(firstOffset, end - start, config, nowMs);
                active.append(records, nowMs);
            } catch (IOException e) {
                log.error("{}: replicated append of {} bytes failed; the log is unchanged", topicPartition, end - start, e);
                return AppendResult.failed(LogError.STORAGE_ERROR, "could not write to the log: " + e.getMessage(), logStartOffset);
            }
            for (int position = start; position < end; position += batch.sizeInBytes()) {
                batch.wrap(records, position);
                producers.update(batch);
                epochs.observe(batch.partitionLeaderEpoch(), batch.baseOffset());
            }
            logEndOffset = next;
            return new AppendResult(LogError.NONE, null, firstOffset, next - 1, -1, logStartOffset, false);
        }
    }

    private AppendResult validate(ByteBuffer records, LogConfig cfg, long nowMs) {
        try {
            String[] problem = new String[1];
            LogError[] error = new LogError[1];
            RecordBatches.validateAll(records, batch -> {
                if (problem[0] != null) {
                    return;
                }
                if (batch.sizeInBytes() > cfg.maxMessageBytes()) {
                    error[0] = LogError.MESSAGE_TOO_LARGE;
                    problem[0] = "batch of " + batch.sizeInBytes() + " bytes exceeds max.message.bytes=" + cfg.maxMessageBytes();
                } else if (batch.isTransactional() || batch.isControl()) {
                    error[0] = LogError.UNSUPPORTED_TRANSACTIONS;
                    problem[0] = "transactional and control batches are not supported by Spate yet";
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
            if (check instanceof ProducerStateTable.Duplicate && count > 0) {
                return new ProducerStateTable.Reject(LogError.OUT_OF_ORDER_SEQUENCE, "a retried batch may only be sent alone");
            }
            if (count == 0) {
                result = check;
            }
            count++;
        }
        if (result instanceof ProducerStateTable.Duplicate && count > 1) {
            return new ProducerStateTable.Reject(LogError.OUT_OF_ORDER_SEQUENCE, "a retried batch may only be sent alone");
        }
        return result;
    }

    private void maybeRoll(int incomingBytes, LogConfig cfg, long nowMs) throws IOException {
        LogSegment current = active;
        if (current.size() == 0) {
            return;
        }
        boolean full = (long) current.size() + incomingBytes > Math.min(cfg.segmentBytes(), Integer.MAX_VALUE);
        boolean old = current.firstAppendMs() >= 0 && nowMs - current.firstAppendMs() >= cfg.segmentMs();
        if (full || old) {
            roll();
        }
    }

    private void roll() throws IOException {
        rollAt(logEndOffset);
    }

    /**
     * As {@link #maybeRoll}, but a new segment is named after {@code nextBase}, the first
     * incoming offset: after a gap (a compacted leader's batches) the segment then starts at its
     * first batch, and offsets relative to the segment stay small.
     */
    private void maybeRollAt(long nextBase, int incomingBytes, LogConfig cfg, long nowMs) throws IOException {
        LogSegment current = active;
        if (current.size() == 0) {
            return;
        }
        boolean full = (long) current.size() + incomingBytes > Math.min(cfg.segmentBytes(), Integer.MAX_VALUE);
        boolean old = current.firstAppendMs() >= 0 && nowMs - current.firstAppendMs() >= cfg.segmentMs();
        if (full || old) {
            rollAt(nextBase);
        }
    }

    private void rollAt(long baseOffset) throws IOException {
        LogSegment next = LogSegment.create(dir, baseOffset, config.indexIntervalBytes());
        segments.put(next.baseOffset(), next);
        active = next;
    }

    /**
     * Reads from {@code offset}: at most {@code maxBytes}, never at or past
     * {@code maxOffsetExclusive} (the high watermark for consumers, the log end for followers),
     * and, when {@code minOneBatch}, at least one whole batch even if it is larger than
     * {@code maxBytes}, so that a consumer can always make progress.
     */
    public LogReadResult read(long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        while (true) {
            long start = logStartOffset;
            long end = logEndOffset;
            long hw = highWatermark;
            if (offset < start || offset > end) {
                return new LogReadResult(LogError.OFFSET_OUT_OF_RANGE, FileSlice.EMPTY, hw, start, end);
            }
            if (offset >= maxOffsetExclusive) {
                return new LogReadResult(LogError.NONE, FileSlice.EMPTY, hw, start, end);
            }
            FileSlice slice = readSlice(offset, maxBytes, maxOffsetExclusive, minOneBatch);
            if (slice != null) {
                return new LogReadResult(LogError.NONE, slice, hw, start, end);
            }
            // A segment was deleted under us: retention moved the log start; look again.
            if (logStartOffset == start) {
                return new LogReadResult(LogError.NONE, FileSlice.EMPTY, hw, start, end);
            }
        }
    }

    private FileSlice readSlice(long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        Map.Entry<Long, LogSegment> entry = segments.floorEntry(offset);
        while (entry != null) {
            LogSegment segment = entry.getValue();
            int size = segment.size();
            long segmentNext = segment.nextOffset();
            int limit = segmentNext <= maxOffsetExclusive ? size : Math.max(0, segment.positionOf(maxOffsetExclusive, size));
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
     * The first batch holding a record with a timestamp at or after {@code timestamp} (found
     * through the time index and a header scan), for ListOffsets by time; null when every record
     * is older. The caller decodes the batch to find the exact record.
     */
    public ByteBuffer batchForTimestamp(long timestamp) throws IOException {
        for (LogSegment segment : segments.values()) {
            if (segment.maxTimestamp() < timestamp) {
                continue;
            }
            ByteBuffer batch = segment.batchForTimestamp(timestamp);
            if (batch != null) {
                return batch;
            }
        }
        return null;
    }

    /** Offset and timestamp of the record with the largest timestamp (ListOffsets MAX_TIMESTAMP). */
    public long[] maxTimestampAndOffset() {
        long ts = RecordBatch.NO_TIMESTAMP;
        long offset = -1;
        for (LogSegment segment : segments.values()) {
            if (segment.maxTimestamp() > ts) {
                ts = segment.maxTimestamp();
                offset = segment.offsetOfMaxTimestamp();
            }
        }
        return new long[]{ts, offset};
    }

    /** Fsyncs every segment with unflushed bytes; afterwards everything appended before the call is durable. */
    public void flush(long nowMs) throws IOException {
        synchronized (flushLock) {
            long target = logEndOffset;
            if (target <= recoveryPoint) {
                return;
            }
            Map.Entry<Long, LogSegment> from = segments.floorEntry(recoveryPoint);
            for (LogSegment segment : (from == null ? segments : segments.tailMap(from.getKey())).values()) {
                segment.flush();
            }
            recoveryPoint = target;
            lastFlushMs = nowMs;
        }
    }

    boolean flushDue(long nowMs) {
        return logEndOffset > recoveryPoint && nowMs - lastFlushMs >= config.flushMs();
    }

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
        synchronized (appendLock) {
            if (closed) {
                return 0;
            }
            if (cfg.retentionMs() >= 0 && active.size() > 0 && active.maxTimestamp() >= 0 && nowMs - active.maxTimestamp() > cfg.retentionMs()) {
                roll();
            }
            long total = sizeInBytes();
            while (segments.size() > 1) {
                LogSegment oldest = segments.firstEntry().getValue();
                boolean expired = cfg.retentionMs() >= 0 && oldest.maxTimestamp() >= 0 && nowMs - oldest.maxTimestamp() > cfg.retentionMs();
                boolean oversize = cfg.retentionBytes() >= 0 && total - oldest.size() >= cfg.retentionBytes();
                if (!expired && !oversize) {
                    break;
                }
                segments.remove(oldest.baseOffset());
                total -= oldest.size();
                logStartOffset = segments.firstKey();
                oldest.markDeleted();
                deleted++;
            }
        }
        if (deleted > 0) {
            log.info("{}: retention deleted {} segment(s); log start offset is now {}", topicPartition, deleted, logStartOffset);
        }
        return deleted;
    }

    /** Removes everything at or after {@code offset} (a follower aligning with a new leader). */
    public void truncateTo(long offset) throws IOException {
        synchronized (appendLock) {
            if (offset >= logEndOffset) {
                return;
            }
            while (segments.size() > 1 && segments.lastKey() >= offset) {
                LogSegment last = segments.pollLastEntry().getValue();
                last.markDeleted();
            }
            active = segments.lastEntry().getValue();
            if (active.baseOffset() >= offset) {
                active.truncateTo(active.baseOffset());
            } else {
                active.truncateTo(offset);
            }
            logEndOffset = Math.max(active.nextOffset(), active.baseOffset());
            highWatermark = Math.min(highWatermark, logEndOffset);
            recoveryPoint = Math.min(recoveryPoint, logEndOffset);
            producers.truncateFrom(offset);
            epochs.truncateFrom(logEndOffset);
        }
    }

    /**
     * Throws the whole log away and starts it empty at {@code offset}: a follower whose log ends
     * below the leader's log start offset (retention ran on the leader while this replica was
     * away, or it is a new replica) can never fetch the missing offsets, so it starts where the
     * leader's log starts. Crash-safe: a crash part-way leaves an empty log or an empty segment
     * at {@code offset}, and the next fetch lands here again.
     */
    public void truncateFullyAndStartAt(long offset) throws IOException {
        synchronized (appendLock) {
            if (closed) {
                throw new IOException("log " + topicPartition + " is closed");
            }
            List<LogSegment> old = new ArrayList<>(segments.values());
            segments.clear();
            old.forEach(LogSegment::markDeleted);
            LogSegment fresh = LogSegment.create(dir, offset, config.indexIntervalBytes());
            segments.put(offset, fresh);
            active = fresh;
            logStartOffset = offset;
            logEndOffset = offset;
            highWatermark = offset;
            recoveryPoint = offset;
            producers.truncateFrom(Long.MIN_VALUE);
            epochs.truncateFrom(Long.MIN_VALUE);
        }
        log.info("{}: truncated fully; the log now starts and ends at {}", topicPartition, offset);
    }

    /**
     * A follower follows its leader's log start offset (retention there): the log start moves up
     * to {@code offset}, never past this log's end or backwards, and sealed segments wholly below
     * it are deleted. Returns the number of segments deleted.
     */
    public int advanceLogStartOffset(long offset) {
        int deleted = 0;
        synchronized (appendLock) {
            long target = Math.min(offset, logEndOffset);
            if (closed || target <= logStartOffset) {
                return 0;
            }
            while (segments.size() > 1) {
                LogSegment oldest = segments.firstEntry().getValue();
                if (oldest == active || segments.higherKey(oldest.baseOffset()) > target) {
                    break;
                }
                segments.remove(oldest.baseOffset());
                oldest.markDeleted();
                deleted++;
            }
            logStartOffset = target;
            highWatermark = Math.max(highWatermark, target);
        }
        if (deleted > 0) {
            log.info("{}: following the leader's log start, deleted {} segment(s); log start offset is now {}", topicPartition, deleted, logStartOffset);
        }
        return deleted;
    }

    public int producerCount() {
        synchronized (appendLock) {
            return producers.producerCount();
        }
    }

    void close() {
        synchronized (appendLock) {
            closed = true;
            for (LogSegment segment : segments.values()) {
                segment.close();
            }
        }
    }

    /** Closes the log and removes its directory. */
    void deleteFiles() throws IOException {
        synchronized (appendLock) {
            closed = true;
            for (LogSegment segment : segments.values()) {
                segment.markDeleted();
            }
            segments.clear();
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

    @Override
    public String toString() {
        return "PartitionLog[" + topicPartition + " start=" + logStartOffset + " hw=" + highWatermark + " end=" + logEndOffset + "]";
    }
}
