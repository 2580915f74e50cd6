package io.spate.server.compaction;

import io.spate.log.LogConfig;
import io.spate.log.LogSegment;
import io.spate.log.PartitionLog;
import io.spate.server.partition.LogScanner;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * Log compaction for topics with {@code cleanup.policy=compact}: keeps the latest record of each
 * key in the sealed segments, and drops tombstones (null values) once they are older than
 * {@code delete.retention.ms}, so that a consumer reading from the start sees the latest value
 * of every key and deleted keys eventually vanish.
 *
 * <p>One pass over a log: (1) map every key in the sealed segments to its last offset, (2)
 * rewrite the sealed segments keeping only those records (kafka-clients' {@code filterTo}
 * re-encodes batches keeping their offsets), (3) swap the result in through
 * {@link PartitionLog#replaceSegments}. The active segment is never touched. Offsets never
 * change; compacted logs simply have gaps, as in Kafka.
 */
public final class LogCompactor {
    private static final Logger log = LoggerFactory.getLogger(LogCompactor.class);

    private final Clock clock;
    private final Map<PartitionLog, Long> cleanedUpTo = new HashMap<>();

    public LogCompactor(Clock clock) {
        this.clock = clock;
    }

    /** Compacts every log in {@code logs} whose dirty share of sealed bytes reaches its threshold. */
    public void compactDue(Iterable<PartitionLog> logs) {
        for (PartitionLog partitionLog : logs) {
            LogConfig config = partitionLog.config();
            if (!config.compact()) {
                continue;
            }
            try {
                long cleaned = cleanedUpTo.getOrDefault(partitionLog, partitionLog.logStartOffset());
                long sealed = partitionLog.sealedBytesFrom(partitionLog.logStartOffset());
                long dirty = partitionLog.sealedBytesFrom(cleaned);
                if (sealed > 0 && dirty > 0 && (double) dirty / sealed >= config.minCleanableDirtyRatio()) {
                    compact(partitionLog);
                }
            } catch (IOException | RuntimeException e) {
                log.error("{}: compaction failed; the log is unchanged", partitionLog.topicPartition(), e);
            }
        }
        cleanedUpTo.keySet().removeIf(l -> l.config() == null);
    }

    /** One full compaction pass over the sealed segments of {@code partitionLog}. */
    public boolean compact(PartitionLog partitionLog) throws IOException {
        long from = partitionLog.logStartOffset();
        long to = partitionLog.activeSegmentBaseOffset();
        if (to <= from) {
            return false;
        }
        Map<ByteBuffer, Long> latest = new HashMap<>();
        LogScanner.forEachBatch(partitionLog, from, to, batch -> {
            for (Record record : batch) {
                if (record.hasKey()) {
                    latest.put(copy(record.key()), record.offset());
                }
            }
        });
        long now = clock.millis();
        long deleteRetentionMs = partitionLog.config().deleteRetentionMs();
        Path output = partitionLog.dir().resolve(LogSegment.fileName(from) + ".cleaned");
        long[] kept = new long[2];
        try (FileChannel out = FileChannel.open(output, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            MemoryRecords.RecordFilter filter = new MemoryRecords.RecordFilter(now, deleteRetentionMs) {
                @Override
                protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
                    return new BatchRetentionResult(BatchRetention.DELETE_EMPTY, false);
                }

                @Override
                protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
                    if (!record.hasKey()) {
                        return true;
                    }
                    Long last = latest.get(record.key());
                    if (last == null || last != record.offset()) {
                        return false;
                    }
                    long timestamp = batch.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : record.timestamp();
                    return record.hasValue() || timestamp + deleteRetentionMs > now;
                }
            };
            IOException[] writeError = new IOException[1];
            LogScanner.forEachChunk(partitionLog, from, to, chunk -> {
                MemoryRecords.FilterResult result = MemoryRecords.readableRecords(chunk)
                        .filterTo(filter, ByteBuffer.allocate(chunk.remaining()), BufferSupplier.NO_CACHING, Integer.MAX_VALUE);
                ByteBuffer filtered = result.outputBuffer().flip();
                kept[0] += result.messagesRetained();
                kept[1] += filtered.remaining();
                try {
                    while (filtered.hasRemaining()) {
                        out.write(filtered);
                    }
                } catch (IOException e) {
                    writeError[0] = e;
                }
            });
            if (writeError[0] != null) {
                throw writeError[0];
            }
            out.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(output);
            throw e;
        }
        boolean replaced = partitionLog.replaceSegments(from, to, output);
        if (replaced) {
            cleanedUpTo.put(partitionLog, to);
            log.info("{}: compacted offsets [{}, {}): {} record(s), {} bytes kept", partitionLog.topicPartition(), from, to, kept[0], kept[1]);
        }
        return replaced;
    }

    private static ByteBuffer copy(ByteBuffer key) {
        ByteBuffer copy = ByteBuffer.allocate(key.remaining());
        copy.put(key.duplicate()).flip();
        return copy;
    }
}
