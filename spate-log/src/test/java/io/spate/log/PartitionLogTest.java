package io.spate.log;

import io.spate.record.TestBatches;

import io.spate.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.baseOffsets;
import static io.spate.log.LogTestSupport.config;
import static io.spate.log.LogTestSupport.readAll;
import static io.spate.log.LogTestSupport.readBytes;
import static io.spate.log.LogTestSupport.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PartitionLogTest {
    @TempDir
    Path dir;

    private final List<PartitionLog> opened = new ArrayList<>();

    @AfterEach
    void closeLogs() {
        opened.forEach(PartitionLog::close);
    }

    private PartitionLog open(LogConfig config) throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config, 0, 0);
        opened.add(log);
        return log;
    }

    /** A batch of one record whose value has {@code valueBytes} bytes. */
    private static ByteBuffer sized(int valueBytes, long timestamp) {
        return TestBatches.builder().baseTimestamp(timestamp).recordOfSize(valueBytes).build();
    }

    /** Reads every batch from the log start to the log end, following segment boundaries. */
    private static ByteBuffer readEverything(PartitionLog log) {
        List<ByteBuffer> parts = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            ByteBuffer part = readAll(log, offset);
            assertThat(part.remaining()).as("read at %d made no progress", offset).isPositive();
            parts.add(part);
            RecordBatch last = null;
            RecordBatch view = new RecordBatch();
            for (int pos = 0; pos < part.limit(); pos += view.sizeInBytes()) {
                last = view.wrap(part, pos);
            }
            offset = last.lastOffset() + 1;
        }
        return TestBatches.concat(parts.toArray(ByteBuffer[]::new));
    }

    // ---------------------------------------------------------------- append

    @Test
    void newLogIsEmpty() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        assertThat(log.logStartOffset()).isZero();
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.highWatermark()).isZero();
        assertThat(log.recoveryPoint()).isZero();
        assertThat(log.sizeInBytes()).isZero();
        assertThat(log.segmentCount()).isEqualTo(1);
        assertThat(segmentFiles(dir)).containsExactly("00000000000000000000.log");
    }

    @Test
    void appendAssignsContiguousOffsets() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());

        AppendResult a = append(log, TestBatches.batch(1, "a"), 10);
        AppendResult b = append(log, TestBatches.batch(2, "b", "c", "d"), 11);
        AppendResult c = append(log, TestBatches.concat(TestBatches.batch(3, "e", "f"), TestBatches.batch(4, "g")), 12);

        assertThat(List.of(a.baseOffset(), a.lastOffset())).containsExactly(0L, 0L);
        assertThat(List.of(b.baseOffset(), b.lastOffset())).containsExactly(1L, 3L);
        assertThat(List.of(c.baseOffset(), c.lastOffset())).containsExactly(4L, 6L);
        assertThat(c.nextOffset()).isEqualTo(7);
        assertThat(a.duplicate()).isFalse();
        assertThat(a.logAppendTimeMs()).isEqualTo(-1);
        assertThat(log.logEndOffset()).isEqualTo(7);

        ByteBuffer all = readAll(log, 0);
        assertThat(baseOffsets(all)).containsExactly(0L, 1L, 4L, 6L);
        assertThat(TestBatches.values(all)).containsExactly("a", "b", "c", "d", "e", "f", "g");
    }

    @Test
    void appendIgnoresTheBaseOffsetTheProducerSent() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b"), 0);
        AppendResult r = append(log, TestBatches.builder().baseOffset(1_000).record(null, "c").build(), 0);
        assertThat(r.baseOffset()).isEqualTo(2);
        assertThat(baseOffsets(readAll(log, 0))).containsExactly(0L, 2L);
    }

    @Test
    void appendStampsLeaderEpochWithoutChangingTheCrc() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        ByteBuffer original = TestBatches.batch(1_000, "x", "y");
        byte[] sent = TestBatches.bytes(original);
        long crc = RecordBatch.of(original).storedCrc();

        AppendResult r = log.appendAsLeader(original, 42, 0);
        assertThat(r.ok()).isTrue();

        ByteBuffer stored = readAll(log, 0);
        RecordBatch batch = RecordBatch.of(stored);
        assertThat(batch.partitionLeaderEpoch()).isEqualTo(42);
        assertThat(batch.baseOffset()).isZero();
        assertThat(batch.storedCrc()).isEqualTo(crc);
        assertThatCode(() -> batch.validate(stored.remaining())).doesNotThrowAnyException();
        byte[] bytes = TestBatches.bytes(stored);
        assertThat(bytes).hasSize(sent.length);
        for (int i = RecordBatch.MAGIC_OFFSET; i < sent.length; i++) {
            assertThat(bytes[i]).as("byte %d", i).isEqualTo(sent[i]);
        }
    }

    @Test
    void corruptBatchIsRejectedAndTheLogIsUnchanged() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a"), 0);
        long size = log.sizeInBytes();
        ByteBuffer bad = TestBatches.batch(1, "b");
        bad.put(bad.limit() - 2, (byte) 0x55);

        AppendResult r = log.appendAsLeader(bad, 0, 0);

        assertThat(r.error()).isEqualTo(LogError.CORRUPT_MESSAGE);
        assertThat(r.message()).contains("CRC");
        assertThat(r.baseOffset()).isEqualTo(-1);
        assertThat(log.logEndOffset()).isEqualTo(1);
        assertThat(log.sizeInBytes()).isEqualTo(size);
    }

    @Test
    void requestWithOneBadBatchStoresNothing() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        ByteBuffer bad = TestBatches.batch(2, "b");
        bad.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        AppendResult r = log.appendAsLeader(TestBatches.concat(TestBatches.batch(1, "a"), bad), 0, 0);
        assertThat(r.error()).isEqualTo(LogError.CORRUPT_MESSAGE);
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.sizeInBytes()).isZero();
    }

    @Test
    void emptyRequestIsCorrupt() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        assertThat(log.appendAsLeader(ByteBuffer.allocate(0), 0, 0).error()).isEqualTo(LogError.CORRUPT_MESSAGE);
    }

    @Test
    void batchLargerThanMaxMessageBytesIsRejected() throws IOException {
        PartitionLog log = open(config(LogConfig.MAX_MESSAGE_BYTES, "200"));
        ByteBuffer big = sized(300, 1);
        AppendResult r = log.appendAsLeader(big, 0, 0);
        assertThat(r.error()).isEqualTo(LogError.MESSAGE_TOO_LARGE);
        assertThat(r.message()).contains("max.message.bytes=200");
        assertThat(log.logEndOffset()).isZero();

        ByteBuffer small = sized(50, 1);
        assertThat(small.remaining()).isLessThanOrEqualTo(200);
        append(log, small, 0);
    }

    @Test
    void controlBatchesAndTransactionalBatchesWithoutAProducerOrSequenceAreRejected() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        AppendResult noProducer = log.appendAsLeader(TestBatches.builder().attributes(0x10).record(null, "a").build(), 0, 0);
        AppendResult noSequence = log.appendAsLeader(TestBatches.builder().attributes(0x10).producer(1, (short) 0, -1).record(null, "a").build(), 0, 0);
        AppendResult control = log.appendAsLeader(TestBatches.builder().attributes(0x30).producer(1, (short) 0, -1).record(null, "a").build(), 0, 0);
        assertThat(noProducer.error()).isEqualTo(LogError.INVALID_RECORD);
        assertThat(noSequence.error()).as("only the node's coordinators write transactional batches without a sequence").isEqualTo(LogError.INVALID_RECORD);
        assertThat(control.error()).as("clients may not write control batches, as in Kafka").isEqualTo(LogError.INVALID_RECORD);
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.producerCount()).isZero();
    }

    @Test
    void logAppendTimeIsStampedAndTheStoredBatchStaysValid() throws IOException {
        PartitionLog log = open(config(LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        AppendResult r = log.appendAsLeader(TestBatches.batch(1_000, "a", "b"), 3, 777_000);
        assertThat(r.ok()).isTrue();
        assertThat(r.logAppendTimeMs()).isEqualTo(777_000);

        ByteBuffer stored = readAll(log, 0);
        RecordBatch batch = RecordBatch.of(stored);
        assertThat(batch.isLogAppendTime()).isTrue();
        assertThat(batch.maxTimestamp()).isEqualTo(777_000);
        assertThatCode(() -> batch.validate(stored.remaining())).doesNotThrowAnyException();
        assertThat(log.maxTimestampAndOffset()).as("the first record stamped with that time")
                .isEqualTo(new PartitionLog.TimestampAndOffset(777_000, 0));
    }

    @Test
    void highWatermarkNeverGoesBackAndNeverPassesTheLogEnd() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b", "c"), 0);
        log.updateHighWatermark(2);
        assertThat(log.highWatermark()).isEqualTo(2);
        log.updateHighWatermark(1);
        assertThat(log.highWatermark()).isEqualTo(2);
        log.updateHighWatermark(100);
        assertThat(log.highWatermark()).isEqualTo(3);
    }

    @Test
    void closedLogRefusesAppends() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, LogConfig.defaultConfig(), 0, 0);
        log.close();
        AppendResult r = log.appendAsLeader(TestBatches.batch(1, "a"), 0, 0);
        assertThat(r.error()).isEqualTo(LogError.STORAGE_ERROR);
    }

    // ---------------------------------------------------------------- read

    @Test
    void readReturnsTheExactStoredBytes() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        ByteBuffer a = TestBatches.batch(1, "a");
        ByteBuffer b = TestBatches.batch(2, "b", "c");
        ByteBuffer aView = a.duplicate();
        ByteBuffer bView = b.duplicate();
        append(log, a, 0);
        append(log, b, 0);

        // the request buffers were numbered in place: they now hold exactly what was stored
        byte[] expected = TestBatches.bytes(TestBatches.concat(aView, bView));
        assertThat(TestBatches.bytes(readAll(log, 0))).isEqualTo(expected);
        assertThat(log.sizeInBytes()).isEqualTo(expected.length);
    }

    @Test
    void readFromAnOffsetInsideABatchStartsAtThatBatch() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a"), 0);
        append(log, TestBatches.batch(1, "b", "c", "d"), 0);
        append(log, TestBatches.batch(1, "e"), 0);

        assertThat(baseOffsets(readAll(log, 2))).containsExactly(1L, 4L);
        assertThat(baseOffsets(readAll(log, 3))).containsExactly(1L, 4L);
        assertThat(baseOffsets(readAll(log, 4))).containsExactly(4L);
    }

    @Test
    void readRespectsMaxBytes() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        int batchSize = sized(100, 1).remaining();
        for (int i = 0; i < 5; i++) {
            append(log, sized(100, 1), 0);
        }

        ByteBuffer two = readBytes(log, 0, 2 * batchSize, Long.MAX_VALUE, false);
        assertThat(two.remaining()).isEqualTo(2 * batchSize);
        assertThat(baseOffsets(two)).containsExactly(0L, 1L);

        ByteBuffer twoAndABit = readBytes(log, 0, 2 * batchSize + 10, Long.MAX_VALUE, true);
        assertThat(twoAndABit.remaining()).isLessThanOrEqualTo(2 * batchSize + 10);
        assertThat(baseOffsets(twoAndABit)).containsExactly(0L, 1L);

        ByteBuffer tooSmall = readBytes(log, 0, batchSize - 1, Long.MAX_VALUE, false);
        assertThat(tooSmall.remaining()).isLessThanOrEqualTo(batchSize - 1);
        assertThat(baseOffsets(tooSmall)).isEmpty();

        assertThat(readBytes(log, 0, 0, Long.MAX_VALUE, false).remaining()).isZero();
    }

    @Test
    void minOneBatchReturnsAWholeFirstBatchEvenWhenLargerThanMaxBytes() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        int bigSize = sized(500, 1).remaining();
        append(log, sized(500, 1), 0);
        append(log, sized(500, 1), 0);

        ByteBuffer one = readBytes(log, 0, 10, Long.MAX_VALUE, true);
        assertThat(one.remaining()).isEqualTo(bigSize);
        assertThat(baseOffsets(one)).containsExactly(0L);
        assertThatCode(() -> RecordBatch.of(one).validate(one.remaining())).doesNotThrowAnyException();

        ByteBuffer zero = readBytes(log, 1, 0, Long.MAX_VALUE, true);
        assertThat(zero.remaining()).isEqualTo(bigSize);
        assertThat(baseOffsets(zero)).containsExactly(1L);
    }

    @Test
    void readNeverReturnsBatchesAtOrPastMaxOffsetExclusive() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a"), 0);           // 0
        append(log, TestBatches.batch(1, "b", "c", "d"), 0); // 1..3
        append(log, TestBatches.batch(1, "e"), 0);           // 4
        append(log, TestBatches.batch(1, "f"), 0);           // 5

        assertThat(baseOffsets(readBytes(log, 0, Integer.MAX_VALUE, 4, false))).containsExactly(0L, 1L);
        assertThat(baseOffsets(readBytes(log, 0, Integer.MAX_VALUE, 5, false))).containsExactly(0L, 1L, 4L);
        assertThat(baseOffsets(readBytes(log, 0, Integer.MAX_VALUE, 1, true))).containsExactly(0L);
        assertThat(TestBatches.values(readBytes(log, 0, Integer.MAX_VALUE, 4, false))).containsExactly("a", "b", "c", "d");
        assertThat(readBytes(log, 4, Integer.MAX_VALUE, 4, true).remaining()).isZero();
        assertThat(readBytes(log, 5, Integer.MAX_VALUE, 4, true).remaining()).isZero();
    }

    @Test
    void readAtTheLogEndIsEmptyAndPastItIsOutOfRange() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b"), 0);

        LogReadResult atEnd = log.read(2, 1000, Long.MAX_VALUE, true);
        assertThat(atEnd.error()).isEqualTo(LogError.NONE);
        assertThat(atEnd.sizeInBytes()).isZero();
        assertThat(atEnd.logEndOffset()).isEqualTo(2);

        LogReadResult past = log.read(3, 1000, Long.MAX_VALUE, true);
        assertThat(past.error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(past.sizeInBytes()).isZero();
        assertThat(past.logStartOffset()).isZero();
        assertThat(past.logEndOffset()).isEqualTo(2);

        assertThat(log.read(-1, 1000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
    }

    @Test
    void readReportsTheHighWatermark() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b"), 0);
        log.updateHighWatermark(2);
        LogReadResult r = log.read(0, 1000, log.highWatermark(), false);
        assertThat(r.highWatermark()).isEqualTo(2);
        r.slice().release();
    }

    @Test
    void batchForTimestampFindsTheFirstBatchReachingThatTime() throws IOException {
        PartitionLog log = open(config(LogConfig.INDEX_INTERVAL_BYTES, "0"));
        append(log, TestBatches.batch(100, "a"), 0);
        append(log, TestBatches.batch(200, "b"), 0);
        append(log, TestBatches.batch(300, "c"), 0);

        assertThat(TestBatches.values(log.batchForTimestamp(0, 0))).containsExactly("a");
        assertThat(TestBatches.values(log.batchForTimestamp(150, 0))).containsExactly("b");
        assertThat(TestBatches.values(log.batchForTimestamp(250, 0))).containsExactly("c");
        assertThat(TestBatches.values(log.batchForTimestamp(300, 0))).containsExactly("c");
        assertThat(log.batchForTimestamp(301, 0)).isNull();
        assertThat(log.maxTimestampAndOffset()).isEqualTo(new PartitionLog.TimestampAndOffset(300, 2));
    }

    @Test
    void offsetForTimestampFindsTheFirstRecordReachingThatTimeBelowTheBound() throws IOException {
        PartitionLog log = open(config(LogConfig.INDEX_INTERVAL_BYTES, "0"));
        append(log, TestBatches.builder().baseTimestamp(100).record(null, "a", 0).record(null, "b", 50).record(null, "c", 20).build(), 0);
        append(log, TestBatches.batch(300, "d"), 0);

        assertThat(log.offsetForTimestamp(0, 10)).isEqualTo(new PartitionLog.TimestampAndOffset(100, 0));
        assertThat(log.offsetForTimestamp(110, 10)).as("the first record at or after, not the latest")
                .isEqualTo(new PartitionLog.TimestampAndOffset(150, 1));
        assertThat(log.offsetForTimestamp(151, 10)).isEqualTo(new PartitionLog.TimestampAndOffset(300, 3));
        assertThat(log.offsetForTimestamp(151, 3)).as("nothing below the bound").isNull();
        assertThat(log.offsetForTimestamp(301, 10)).isNull();
    }

    // ---------------------------------------------------------------- roll

    @Test
    void rollsWhenTheNextAppendWouldPassSegmentBytes() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024"));
        int batchSize = sized(200, 1).remaining();
        int perSegment = 1024 / batchSize;
        assertThat(perSegment).isGreaterThanOrEqualTo(2);

        for (int i = 0; i < 10; i++) {
            AppendResult r = append(log, sized(200, 1), 0);
            assertThat(r.baseOffset()).isEqualTo(i);
        }

        List<String> expected = new ArrayList<>();
        for (int base = 0; base < 10; base += perSegment) {
            expected.add(LogSegment.fileName(base));
        }
        assertThat(segmentFiles(dir)).containsExactlyElementsOf(expected);
        assertThat(log.segmentCount()).isEqualTo(expected.size());
        for (String name : expected) {
            assertThat(Files.size(dir.resolve(name))).isLessThanOrEqualTo(1024);
        }
        ByteBuffer everything = readEverything(log);
        assertThat(baseOffsets(everything)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(log.sizeInBytes()).isEqualTo(10L * batchSize);
    }

    @Test
    void aBatchLargerThanSegmentBytesGetsASegmentOfItsOwn() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024"));
        append(log, sized(10, 1), 0);
        append(log, sized(2000, 1), 0);
        append(log, sized(10, 1), 0);
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(1), LogSegment.fileName(2));
        assertThat(baseOffsets(readEverything(log))).containsExactly(0L, 1L, 2L);
    }

    @Test
    void rollsWhenTheActiveSegmentIsOlderThanSegmentMs() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_MS, "1000"));
        append(log, TestBatches.batch(1, "a"), 5_000);
        append(log, TestBatches.batch(1, "b"), 5_999);
        assertThat(log.segmentCount()).isEqualTo(1);

        append(log, TestBatches.batch(1, "c"), 6_000);
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(2));

        // the new segment's clock starts at its first append
        append(log, TestBatches.batch(1, "d"), 6_999);
        assertThat(log.segmentCount()).isEqualTo(2);
        append(log, TestBatches.batch(1, "e"), 7_000);
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(2), LogSegment.fileName(4));
        assertThat(TestBatches.values(readEverything(log))).containsExactly("a", "b", "c", "d", "e");
    }

    // ---------------------------------------------------------------- retention

    /** Retention over a log whose every record is committed (standalone: the partition moves the high watermark). */
    private static int retainCommitted(PartitionLog log, long nowMs) throws IOException {
        log.updateHighWatermark(log.logEndOffset());
        return log.applyRetention(nowMs);
    }

    /**
     * Records without a time (-1, or before 1970) age by their segment file's last change, as in
     * Kafka: such a segment kept time retention from every later one for good.
     */
    @Test
    void timeRetentionAgesRecordsWithoutATimestampByTheirFile() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "1000"));
        for (int i = 0; i < 12; i++) {
            append(log, TestBatches.batch(-1, "x".repeat(200)), 0);
        }
        assertThat(log.segmentCount()).isGreaterThan(2);
        assertThat(retainCommitted(log, System.currentTimeMillis() - 60_000)).as("files younger than the retention").isZero();

        assertThat(retainCommitted(log, System.currentTimeMillis() + 60_000)).isPositive();

        assertThat(log.logStartOffset()).as("the active segment rolled and went too").isEqualTo(log.logEndOffset()).isEqualTo(12);
    }

    /** A cut takes the newest timestamp with it: MAX_TIMESTAMP then names what is left, not an offset cut away. */
    @Test
    void aCutTakesTheNewestTimestampWithIt() throws IOException {
        PartitionLog log = open(config());
        append(log, TestBatches.batch(100, "a"), 0);
        append(log, TestBatches.batch(1_000, "b"), 0);
        assertThat(log.maxTimestampAndOffset()).isEqualTo(new PartitionLog.TimestampAndOffset(1_000, 1));

        log.truncateTo(1);
        assertThat(log.maxTimestampAndOffset()).isEqualTo(new PartitionLog.TimestampAndOffset(100, 0));
        append(log, TestBatches.batch(500, "c"), 0);

        assertThat(log.maxTimestampAndOffset()).isEqualTo(new PartitionLog.TimestampAndOffset(500, 1));
        assertThat(log.offsetForTimestamp(400, log.logEndOffset())).as("the time index took the new batch")
                .isEqualTo(new PartitionLog.TimestampAndOffset(500, 1));
    }

    @Test
    void retentionNeverDeletesAboveTheHighWatermark() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "1", LogConfig.RETENTION_MS, "-1"));
        for (int i = 0; i < 12; i++) {
            append(log, sized(200, 1), 0);
        }
        log.resetHighWatermark(0);
        assertThat(log.segmentCount()).isGreaterThan(2);
        assertThat(log.applyRetention(0)).as("nothing is replicated yet").isZero();
        assertThat(log.logStartOffset()).isZero();

        long secondSegmentEnd = log.activeSegmentBaseOffset();
        log.updateHighWatermark(1);
        assertThat(log.applyRetention(0)).as("the first segment still holds offsets at and above the high watermark").isZero();
        log.updateHighWatermark(secondSegmentEnd);
        assertThat(log.applyRetention(0)).isPositive();
        assertThat(log.logStartOffset()).isLessThanOrEqualTo(log.highWatermark());
        assertThat(log.read(log.logStartOffset(), 100_000, Long.MAX_VALUE, false).error()).isEqualTo(LogError.NONE);
    }

    @Test
    void retentionBytesDeletesOldestSegmentsAndMovesTheLogStart() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "1024", LogConfig.RETENTION_MS, "-1"));
        int batchSize = sized(200, 1).remaining();
        int perSegment = 1024 / batchSize;
        int batches = perSegment * 4;
        for (int i = 0; i < batches; i++) {
            append(log, sized(200, 1), 0);
        }
        assertThat(log.segmentCount()).isEqualTo(4);
        long segmentSize = (long) perSegment * batchSize;

        int deleted = retainCommitted(log, 0);

        // delete while what remains would still be >= retention.bytes
        int expectedDeleted = 0;
        long total = 4 * segmentSize;
        while (expectedDeleted < 3 && total - segmentSize >= 1024) {
            total -= segmentSize;
            expectedDeleted++;
        }
        assertThat(expectedDeleted).isPositive();
        assertThat(deleted).isEqualTo(expectedDeleted);
        long newStart = (long) expectedDeleted * perSegment;
        assertThat(log.logStartOffset()).isEqualTo(newStart);
        assertThat(log.sizeInBytes()).isEqualTo(total);
        assertThat(segmentFiles(dir)).first().isEqualTo(LogSegment.fileName(newStart));
        assertThat(segmentFiles(dir)).hasSize(4 - expectedDeleted);

        LogReadResult below = log.read(newStart - 1, 10_000, Long.MAX_VALUE, true);
        assertThat(below.error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(below.logStartOffset()).isEqualTo(newStart);
        assertThat(log.read(0, 10_000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(baseOffsets(readAll(log, newStart))).first().isEqualTo(newStart);

        assertThat(retainCommitted(log, 0)).as("retention is idempotent").isZero();
        AppendResult next = append(log, sized(10, 1), 0);
        assertThat(next.baseOffset()).isEqualTo(batches);
        assertThat(next.logStartOffset()).isEqualTo(newStart);
    }

    @Test
    void retentionMsDeletesSegmentsWhoseNewestRecordIsTooOld() throws IOException {
        PartitionLog log = open(config(LogConfig.RETENTION_MS, "1000", LogConfig.SEGMENT_MS, "100"));
        append(log, TestBatches.batch(100, "a"), 0);        // segment 0
        append(log, TestBatches.batch(2_000, "b"), 200);    // segment 1
        append(log, TestBatches.batch(5_000, "c"), 400);    // segment 2 (active)
        assertThat(log.segmentCount()).isEqualTo(3);

        assertThat(retainCommitted(log, 1_100)).as("nothing older than 1000 ms yet").isZero();
        assertThat(retainCommitted(log, 1_101)).isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(1);
        assertThat(retainCommitted(log, 3_001)).isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(2);
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(2));
        assertThat(log.read(1, 1000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(TestBatches.values(readAll(log, 2))).containsExactly("c");
    }

    @Test
    void retentionMsRollsAndDeletesAnExpiredActiveSegment() throws IOException {
        PartitionLog log = open(config(LogConfig.RETENTION_MS, "1000"));
        append(log, TestBatches.batch(100, "a", "b"), 0);
        append(log, TestBatches.batch(100, "c"), 0);

        assertThat(retainCommitted(log, 5_000)).isEqualTo(1);

        assertThat(log.logStartOffset()).isEqualTo(3);
        assertThat(log.logEndOffset()).isEqualTo(3);
        assertThat(log.sizeInBytes()).isZero();
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(3));
        assertThat(log.read(0, 1000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        LogReadResult atEnd = log.read(3, 1000, Long.MAX_VALUE, true);
        assertThat(atEnd.error()).isEqualTo(LogError.NONE);
        assertThat(atEnd.sizeInBytes()).isZero();
        assertThat(append(log, TestBatches.batch(5_000, "d"), 5_000).baseOffset()).isEqualTo(3);
    }

    @Test
    void noRetentionWhenUnlimitedOrCompacted() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "-1", LogConfig.RETENTION_BYTES, "-1"));
        for (int i = 0; i < 10; i++) {
            append(log, sized(200, 1), 0);
        }
        int segments = log.segmentCount();
        assertThat(retainCommitted(log, Long.MAX_VALUE / 2)).isZero();
        assertThat(log.segmentCount()).isEqualTo(segments);

        log.updateConfig(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "1", LogConfig.CLEANUP_POLICY, "compact"));
        assertThat(retainCommitted(log, Long.MAX_VALUE / 2)).isZero();
        assertThat(log.logStartOffset()).isZero();
    }

    @Test
    void aSliceInFlightSurvivesTheDeletionOfItsSegment() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "1"));
        for (int i = 0; i < 10; i++) {
            append(log, sized(200, 1), 0);
        }
        LogReadResult inFlight = log.read(0, 100_000, Long.MAX_VALUE, false);
        assertThat(inFlight.sizeInBytes()).isPositive();

        assertThat(retainCommitted(log, 0)).isPositive();
        assertThat(log.logStartOffset()).isPositive();
        Path first = dir.resolve(LogSegment.fileName(0));

        ByteBuffer bytes = inFlight.slice().readIntoHeap();
        assertThat(baseOffsets(bytes)).first().isEqualTo(0L);
        inFlight.slice().release();
        assertThat(first).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".log"))).allMatch(n -> n.endsWith(".log"));
        }
    }

    // ---------------------------------------------------------------- truncate

    @Test
    void truncateToRemovesEverythingFromTheOffsetOn() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024"));
        int perSegment = 1024 / sized(200, 1).remaining();
        for (int i = 0; i < 10; i++) {
            append(log, sized(200, 1), 0);
        }
        log.updateHighWatermark(10);
        log.flush(0);
        assertThat(log.recoveryPoint()).isEqualTo(10);
        long cut = perSegment + 1; // inside the second segment

        log.truncateTo(cut);

        assertThat(log.logEndOffset()).isEqualTo(cut);
        assertThat(log.highWatermark()).isEqualTo(cut);
        assertThat(log.recoveryPoint()).isEqualTo(cut);
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(perSegment));
        List<Long> expected = new ArrayList<>();
        for (long o = 0; o < cut; o++) {
            expected.add(o);
        }
        assertThat(baseOffsets(readEverything(log))).containsExactlyElementsOf(expected);
        assertThat(log.read(cut + 1, 1000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);

        AppendResult next = append(log, TestBatches.batch(1, "after"), 0);
        assertThat(next.baseOffset()).isEqualTo(cut);
        assertThat(TestBatches.values(readAll(log, cut))).containsExactly("after");
    }

    @Test
    void truncateToASegmentBoundaryDropsTheWholeSegment() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024"));
        int perSegment = 1024 / sized(200, 1).remaining();
        for (int i = 0; i < 3 * perSegment; i++) {
            append(log, sized(200, 1), 0);
        }
        log.truncateTo(perSegment);
        assertThat(log.logEndOffset()).isEqualTo(perSegment);
        assertThat(segmentFiles(dir)).containsExactly(LogSegment.fileName(0));
        // the next segment can be created again under the same name
        AppendResult r = append(log, sized(900, 1), 0);
        assertThat(r.baseOffset()).isEqualTo(perSegment);
        assertThat(baseOffsets(readEverything(log))).hasSize(perSegment + 1);
    }

    @Test
    void truncateToZeroEmptiesTheLog() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b"), 0);
        log.truncateTo(0);
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.sizeInBytes()).isZero();
        assertThat(append(log, TestBatches.batch(1, "c"), 0).baseOffset()).isZero();
        assertThat(TestBatches.values(readAll(log, 0))).containsExactly("c");
    }

    @Test
    void truncateToAtOrPastTheEndDoesNothing() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b"), 0);
        long size = log.sizeInBytes();
        log.truncateTo(2);
        log.truncateTo(50);
        assertThat(log.logEndOffset()).isEqualTo(2);
        assertThat(log.sizeInBytes()).isEqualTo(size);
    }

    @Test
    void truncateToInsideABatchIsRefused() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a", "b", "c"), 0);
        assertThatThrownBy(() -> log.truncateTo(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("inside a batch");
        assertThat(log.logEndOffset()).isEqualTo(3);
    }

    // ---------------------------------------------------------------- flush

    @Test
    void flushMessagesOneMeansEveryAppendWaitsForFsync() throws IOException {
        PartitionLog log = open(config(LogConfig.FLUSH_MESSAGES, "1"));
        assertThat(log.config().flushesEveryMessage()).isTrue();
        AppendResult r = append(log, TestBatches.batch(1, "a"), 0);
        assertThat(log.needsFlushBeforeAck(r.nextOffset())).isTrue();

        log.flush(0);

        assertThat(log.recoveryPoint()).isEqualTo(1);
        assertThat(log.needsFlushBeforeAck(r.nextOffset())).isFalse();
        AppendResult r2 = append(log, TestBatches.batch(1, "b"), 0);
        assertThat(log.needsFlushBeforeAck(r2.nextOffset())).isTrue();
    }

    @Test
    void flushMessagesNWaitsOnlyOnceNMessagesAreUnflushed() throws IOException {
        PartitionLog log = open(config(LogConfig.FLUSH_MESSAGES, "3"));
        AppendResult r1 = append(log, TestBatches.batch(1, "a"), 0);
        assertThat(log.needsFlushBeforeAck(r1.nextOffset())).isFalse();
        AppendResult r2 = append(log, TestBatches.batch(1, "b"), 0);
        assertThat(log.needsFlushBeforeAck(r2.nextOffset())).isFalse();
        AppendResult r3 = append(log, TestBatches.batch(1, "c"), 0);
        assertThat(log.needsFlushBeforeAck(r3.nextOffset())).isTrue();
    }

    @Test
    void defaultConfigNeverWaitsForFsync() throws IOException {
        PartitionLog log = open(LogConfig.defaultConfig());
        AppendResult r = append(log, TestBatches.batch(1, "a", "b", "c"), 0);
        assertThat(log.needsFlushBeforeAck(r.nextOffset())).isFalse();
    }

    @Test
    void flushCoversEverySegmentAndMovesTheRecoveryPoint() throws IOException {
        PartitionLog log = open(config(LogConfig.SEGMENT_BYTES, "1024"));
        for (int i = 0; i < 10; i++) {
            append(log, sized(200, 1), 0);
        }
        assertThat(log.recoveryPoint()).isZero();
        log.flush(0);
        assertThat(log.recoveryPoint()).isEqualTo(10);
        for (LogSegmentView s : LogSegmentView.of(log)) {
            assertThat(s.flushed()).as("segment %s", s.name()).isTrue();
        }
    }

    @Test
    void flushDueFollowsFlushMs() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config(LogConfig.FLUSH_MS, "1000"), 0, 10_000);
        opened.add(log);
        assertThat(log.flushDue(20_000)).as("nothing to flush").isFalse();
        append(log, TestBatches.batch(1, "a"), 10_000);
        assertThat(log.flushDue(10_999)).isFalse();
        assertThat(log.flushDue(11_000)).isTrue();
        log.flush(11_000);
        assertThat(log.flushDue(11_500)).isFalse();
        append(log, TestBatches.batch(1, "b"), 11_500);
        assertThat(log.flushDue(11_999)).isFalse();
        assertThat(log.flushDue(12_000)).isTrue();
    }

    /**
     * A compacted log's segment is whole on disk before the next one is created: its segments may
     * end before the next begins, so after a power loss a torn tail before a kept segment would
     * look like a gap compaction left, and stay a hole (see LogPowerLossTest). A log that is not
     * compacted leaves its sealed segments to the background flush, as Kafka does.
     */
    @Test
    void aCompactedLogFsyncsASegmentBeforeItRolls() throws IOException {
        PartitionLog compacted = open(config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.CLEANUP_POLICY, "compact"));
        for (int i = 0; i < 12; i++) {
            append(compacted, TestBatches.builder().baseTimestamp(0).record("k" + i, "x".repeat(200)).build(), 0);
        }
        List<LogSegmentView> segments = LogSegmentView.of(compacted);
        assertThat(segments).hasSizeGreaterThan(2);
        assertThat(segments.subList(0, segments.size() - 1)).allMatch(LogSegmentView::flushed, "every sealed segment is fsynced");
        assertThat(segments.getLast().flushed()).as("the active segment is not").isFalse();
        assertThat(compacted.recoveryPoint()).as("the recovery point is the flush's to move").isZero();
    }

    @Test
    void aLogThatIsNotCompactedLeavesItsSealedSegmentsToTheBackgroundFlush() throws IOException {
        PartitionLog deleted = open(config(LogConfig.SEGMENT_BYTES, "1024"));
        for (int i = 0; i < 12; i++) {
            append(deleted, sized(200, 0), 0);
        }
        assertThat(LogSegmentView.of(deleted)).hasSizeGreaterThan(2).noneMatch(LogSegmentView::flushed);
    }

    /** The roll's fsync stays small: a compacted log is flushed in the background once its active segment holds a few MiB unsynced. */
    @Test
    void aCompactedLogIsFlushedInTheBackgroundBeforeItsRollWouldWaitLong() throws IOException {
        PartitionLog log = open(config(LogConfig.CLEANUP_POLICY, "compact"));
        ByteBuffer halfMib = TestBatches.builder().baseTimestamp(0).record("k", "x".repeat(1 << 19)).build();
        for (int i = 0; i < 7; i++) {
            append(log, halfMib.duplicate(), 0);
        }
        assertThat(log.flushDue(0)).as("3.5 MiB unsynced").isFalse();
        append(log, halfMib.duplicate(), 0);
        assertThat(log.flushDue(0)).as("4 MiB and the batches' headers").isTrue();
        log.flush(0);
        assertThat(log.flushDue(0)).isFalse();
        append(log, halfMib.duplicate(), 0);
        assertThat(log.flushDue(0)).as("only what came after the flush counts").isFalse();
    }

    /** Peeks at segments through the package-private API (same package as the log). */
    private record LogSegmentView(String name, boolean flushed) {
        static List<LogSegmentView> of(PartitionLog log) throws IOException {
            List<LogSegmentView> views = new ArrayList<>();
            for (String name : segmentFiles(log.dir())) {
                long base = Long.parseLong(name.substring(0, 20));
                LogReadResult r = log.read(base, 1, Long.MAX_VALUE, false);
                LogSegment segment = r.slice().segment();
                views.add(new LogSegmentView(name, segment == null || segment.isFlushed()));
                r.slice().release();
            }
            return views;
        }
    }
}
