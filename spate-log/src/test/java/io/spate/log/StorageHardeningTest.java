package io.spate.log;

import io.spate.record.RecordBatch;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.spate.log.LogTestSupport.CLOCK;
import static io.spate.log.LogTestSupport.HOUR;
import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.sized;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.config;
import static io.spate.log.LogTestSupport.copyTree;
import static io.spate.log.LogTestSupport.readAll;
import static io.spate.log.LogTestSupport.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a restart must never do to stored data: judge it by today's limits, cut it for a bit
 * flip, or forget the epochs, producers, log start and high watermark that removed segments
 * carried.
 */
class StorageHardeningTest {
    private static final LogConfig SMALL_SEGMENTS = config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "-1");

    @TempDir
    Path tmp;

    private Path data() {
        return tmp.resolve("data");
    }

    @Test
    void loweringMaxMessageBytesThenCrashingKeepsEveryStoredBatch() throws IOException {
        LogConfig large = config(LogConfig.MAX_MESSAGE_BYTES, String.valueOf(4 << 20), LogConfig.SEGMENT_BYTES, String.valueOf(8 << 20));
        Path crash = tmp.resolve("crash");
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, large);
            for (int i = 0; i < 5; i++) {
                append(log, sized(3 << 20), 0);
            }
            copyTree(data(), crash); // as kill -9 leaves it: no clean-shutdown marker, no checkpoint
        }
        LogConfig lowered = config(LogConfig.MAX_MESSAGE_BYTES, "1000", LogConfig.SEGMENT_BYTES, String.valueOf(8 << 20));
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, lowered);
            assertThat(log.isOffline()).isFalse();
            assertThat(log.logEndOffset()).isEqualTo(5);
            List<Long> offsets = new java.util.ArrayList<>();
            while (offsets.size() < 5) {
                List<Long> read = LogTestSupport.baseOffsets(readAll(log, offsets.size()));
                assertThat(read).isNotEmpty();
                offsets.addAll(read);
            }
            assertThat(offsets).containsExactly(0L, 1L, 2L, 3L, 4L);
            assertThat(log.appendAsLeader(sized(2000), 0, 0).error()).as("new batches still meet the new limit").isEqualTo(LogError.MESSAGE_TOO_LARGE);
        }
    }

    @Test
    void aBitFlipInAnOldSegmentTakesThePartitionOfflineAndDeletesNothing() throws IOException {
        Path crash = twentyBatchesAsAKillLeavesThem(false);
        Path dir = crash.resolve(TP.dirName());
        List<String> segmentsBefore = segmentFiles(dir);
        Path first = dir.resolve(segmentsBefore.get(0));
        long secondBatch = firstBatchSize(first);
        LogSegmentTest.flipByte(first, secondBatch + RecordBatch.HEADER_SIZE + 5);
        byte[] firstBytes = Files.readAllBytes(first);

        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.isOffline()).isTrue();
            assertThat(log.offlineReason()).contains(first.toString()).contains("at byte " + secondBatch).contains("CRC");
            assertThat(log.appendAsLeader(sized(10), 0, 0).error()).isEqualTo(LogError.STORAGE_ERROR);
            assertThat(log.read(0, 1000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.STORAGE_ERROR);
            assertThat(log.applyRetention(Long.MAX_VALUE / 2)).isZero();
        }
        assertThat(segmentFiles(dir)).as("no segment deleted").isEqualTo(segmentsBefore);
        assertThat(Files.readAllBytes(first)).as("the corrupt segment is not cut").isEqualTo(firstBytes);

        // Again, as after a restart: still offline, still nothing touched.
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            assertThat(manager.getOrCreate(TP, SMALL_SEGMENTS).isOffline()).isTrue();
        }
        assertThat(segmentFiles(dir)).isEqualTo(segmentsBefore);

        // The operator sets the bad data aside: the log keeps what precedes it, the rest is quarantined.
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            manager.getOrCreate(TP, SMALL_SEGMENTS);
            PartitionLog repaired = manager.setAsideCorruptData(TP, SMALL_SEGMENTS);
            assertThat(repaired.isOffline()).isFalse();
            assertThat(repaired.logEndOffset()).isEqualTo(1);
            assertThat(TestBatches.values(readAll(repaired, 0))).hasSize(1);
            assertThat(append(repaired, sized(10), 0).baseOffset()).isEqualTo(1);
        }
        try (Stream<Path> quarantined = Files.list(crash.resolve(PartitionLog.QUARANTINE_DIR))) {
            Path setAside = quarantined.findFirst().orElseThrow();
            assertThat(segmentFiles(setAside)).isEqualTo(segmentsBefore);
            assertThat(Files.readAllBytes(setAside.resolve(segmentsBefore.get(0)))).isEqualTo(firstBytes);
        }
    }

    /**
     * The base offset and the leader epoch lie outside a batch's CRC: one bit of either changed on
     * disk leaves a batch that passes every check of its own and seems to jump ahead. The next
     * batch, following the one before the jump, gives it away; the damaged batch is not kept as
     * if compaction had left a gap (the log then ended 2^32 offsets too far) or a new leader had
     * written it (a follower then cut its log at that false epoch boundary).
     */
    @Test
    void aBaseOffsetChangedOnDiskIsTakenForDamageNotForAGap() throws IOException {
        damagedHeaderFieldIsSetAside(3, "a damaged base offset");   // bit 32 of the second batch's base offset
    }

    @Test
    void aLeaderEpochChangedOnDiskIsTakenForDamageNotForANewLeader() throws IOException {
        damagedHeaderFieldIsSetAside(RecordBatch.LOG_OVERHEAD + 3, "a damaged leader epoch");   // epoch 0 becomes 1
    }

    @Test
    void aLeaderEpochChangedOnDiskInASegmentsFirstBatchIsTakenForDamage() throws IOException {
        damagedHeaderFieldIsSetAside(RecordBatch.LOG_OVERHEAD + 3, "a damaged leader epoch", false);
    }

    private void damagedHeaderFieldIsSetAside(int byteInBatch, String reason) throws IOException {
        damagedHeaderFieldIsSetAside(byteInBatch, reason, true);
    }

    private void damagedHeaderFieldIsSetAside(int byteInBatch, String reason, boolean inSecondBatch) throws IOException {
        Path crash = twentyBatchesAsAKillLeavesThem(false);
        Path dir = crash.resolve(TP.dirName());
        Path first = dir.resolve(segmentFiles(dir).get(0));
        long damaged = inSecondBatch ? firstBatchSize(first) : 0;
        LogSegmentTest.flipByte(first, damaged + byteInBatch);

        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.isOffline()).isTrue();
            assertThat(log.offlineReason()).contains("at byte " + damaged).contains(reason);
        }
        long kept = inSecondBatch ? 1 : 0;
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            manager.getOrCreate(TP, SMALL_SEGMENTS);
            PartitionLog repaired = manager.setAsideCorruptData(TP, SMALL_SEGMENTS);
            assertThat(repaired.isOffline()).isFalse();
            assertThat(repaired.logEndOffset()).as("what lies before the damaged batch").isEqualTo(kept);
            assertThat(append(repaired, sized(10), 0).baseOffset()).isEqualTo(kept);
        }
    }

    /**
     * The leader-epoch checkpoint is text: a digit changed on the platter moved where epoch 1
     * begins from 10 to 4, and a follower asking where epoch 0 ends would have cut six good
     * batches. A file with its checksum line fails it and is rebuilt from the batches; one from
     * before checksums disagrees with the batches at load, and is rebuilt from them too.
     */
    @Test
    void anEpochCheckpointDamagedOnDiskIsRebuiltFromTheBatches() throws IOException {
        for (boolean keepChecksumLine : new boolean[]{true, false}) {
            Path crash = tmp.resolve("crash-" + keepChecksumLine);
            Path source = tmp.resolve("source-" + keepChecksumLine);
            try (LogManager manager = LogManager.open(source, CLOCK, HOUR)) {
                PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
                for (int i = 0; i < 20; i++) {
                    assertThat(log.appendAsLeader(sized(150), i < 10 ? 0 : 1, 0).error()).isEqualTo(LogError.NONE);
                }
                assertThat(log.endOffsetForEpoch(0)).containsExactly(0, 10);
                copyTree(source, crash);
            }
            Path checkpoint = crash.resolve(TP.dirName()).resolve("leader-epoch-checkpoint");
            String text = Files.readString(checkpoint);
            assertThat(text).contains("\n1 10\n").contains("#crc32c ");
            String damaged = text.replace("\n1 10\n", "\n1 4\n");
            Files.writeString(checkpoint, keepChecksumLine ? damaged : damaged.substring(0, damaged.indexOf("#crc32c ")));

            try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
                PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
                assertThat(log.isOffline()).isFalse();
                assertThat(log.endOffsetForEpoch(0)).as("checksum line kept: %s", keepChecksumLine).containsExactly(0, 10);
                assertThat(log.endOffsetForEpoch(1)).containsExactly(1, 20);
            }
            assertThat(Files.readString(checkpoint)).as("written again").contains("\n1 10\n");
        }
    }

    /** A log-start checkpoint whose digit changed on disk fails its checksum: the log keeps its records rather than starting past them. */
    @Test
    void aLogStartCheckpointDamagedOnDiskDeletesNothing() throws IOException {
        Path crash = twentyBatchesAsAKillLeavesThem(true);
        Path checkpoint = crash.resolve(LogManager.LOG_START_CHECKPOINT_FILE);
        String text = Files.readString(checkpoint);
        assertThat(text).contains(TP.topic() + " " + TP.partition() + " 0\n");
        Files.writeString(checkpoint, text.replace(TP.topic() + " " + TP.partition() + " 0\n", TP.topic() + " " + TP.partition() + " 8\n"));

        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.logStartOffset()).isZero();
            assertThat(log.logEndOffset()).isEqualTo(20);
        }
    }

    @Test
    void epochBoundariesAndProducersOutliveTheSegmentsThatHeldThem() throws IOException {
        Path crash = tmp.resolve("crash");
        AppendResult idempotent;
        long deleteBefore;
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            idempotent = log.appendAsLeader(TestBatches.idempotent(42, (short) 0, 0, 2), 3, 0);
            for (int epoch = 3; epoch <= 6; epoch++) {
                for (int i = 0; i < 6; i++) {
                    assertThat(log.appendAsLeader(sized(150), epoch, 0).ok()).isTrue();
                }
            }
            log.updateHighWatermark(log.logEndOffset());
            long[] epoch5Before = log.endOffsetForEpoch(5);
            deleteBefore = epoch5Before[1] - 2; // inside epoch 5
            log.deleteRecordsBefore(deleteBefore);
            assertThat(log.logStartOffset()).isEqualTo(deleteBefore);
            assertThat(segmentFiles(log.dir()).get(0)).isNotEqualTo(LogSegment.fileName(0));
            manager.writeCheckpoints();
            copyTree(data(), crash);
        }
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.logStartOffset()).as("log start offset from its checkpoint").isEqualTo(deleteBefore);
            assertThat(log.read(log.logStartOffset() - 1, 100, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
            assertThat(log.checkpointedHighWatermark()).isEqualTo(log.logEndOffset());
            assertThat(log.latestEpoch()).isEqualTo(6);
            assertThat(log.endOffsetForEpoch(5)[0]).isEqualTo(5);
            assertThat(log.endOffsetForEpoch(5)[1]).as("epoch 6 still begins where it did").isEqualTo(log.logEndOffset() - 6);
            AppendResult retry = log.appendAsLeader(TestBatches.idempotent(42, (short) 0, 0, 2), 6, 0);
            assertThat(retry.duplicate()).as("the producer whose only batch was deleted is still known").isTrue();
            assertThat(retry.baseOffset()).isEqualTo(idempotent.baseOffset());
        }
    }

    /**
     * A crash after DeleteRecords cut the epoch checkpoint at the new log start but before the
     * log start's own checkpoint was written: the log comes back starting where the epochs do,
     * not at its first segment, whose first records' epochs are no longer known (a leader holding
     * them told its followers it held none of those epochs: the replication simulation).
     */
    @Test
    void aLogStartWhoseCheckpointWasNotWrittenIsTakenFromTheEpochs() throws IOException {
        Path crash = tmp.resolve("crash");
        long deleteBefore;
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            for (int epoch = 3; epoch <= 6; epoch++) {
                for (int i = 0; i < 6; i++) {
                    assertThat(log.appendAsLeader(sized(150), epoch, 0).ok()).isTrue();
                }
            }
            log.updateHighWatermark(log.logEndOffset());
            manager.writeCheckpoints();
            deleteBefore = log.endOffsetForEpoch(4)[1] + 1; // just inside epoch 5
            log.deleteRecordsBefore(deleteBefore);
            copyTree(data(), crash); // no checkpoint written since the delete
        }
        long firstSegment = segmentFiles(crash.resolve(TP.topic() + "-" + TP.partition())).stream()
                .mapToLong(name -> Long.parseLong(name.substring(0, 20))).min().orElseThrow();
        assertThat(firstSegment).as("a segment still holds records below the delete").isLessThan(deleteBefore);
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.logStartOffset()).as("where the epoch checkpoint was cut").isEqualTo(deleteBefore);
            assertThat(log.read(deleteBefore - 1, 100, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
            assertThat(log.endOffsetForEpoch(5)[0]).isEqualTo(5);
            assertThat(log.endOffsetForEpoch(6)[1]).isEqualTo(log.logEndOffset());
        }
    }

    @Test
    void deleteRecordsRefusesOffsetsAboveTheHighWatermark() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            for (int i = 0; i < 10; i++) {
                append(log, sized(150), 0);
            }
            log.resetHighWatermark(4);
            assertThatThrownBy(() -> log.deleteRecordsBefore(5)).isInstanceOf(IllegalArgumentException.class);
            assertThat(log.deleteRecordsBefore(-1)).isEqualTo(4);
            assertThat(log.deleteRecordsBefore(2)).as("never backwards").isEqualTo(4);
        }
    }

    @Test
    void aFailedFsyncTakesTheWholeDirectoryOfflineAndIsNeverRetried() throws IOException {
        LogConfig everyMessage = config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.FLUSH_MESSAGES, "1");
        TopicPartition other = new TopicPartition("other", 0);
        LogManager manager = LogManager.open(data(), CLOCK, HOUR);
        try {
            PartitionLog log = manager.getOrCreate(TP, everyMessage);
            PartitionLog bystander = manager.getOrCreate(other, everyMessage);
            append(log, sized(100), 0);
            manager.flusher().flush(log).join();
            append(log, sized(100), 0);
            long durable = log.recoveryPoint();
            // The file under the segment goes away the way a failing device makes fsync fail: with an IOException.
            log.activeSegmentForTest().channel().close();
            assertThatThrownBy(() -> manager.flusher().flush(log).join()).hasCauseInstanceOf(IOException.class);
            assertThat(log.recoveryPoint()).as("nothing counted as durable").isEqualTo(durable);
            assertThat(manager.offlineReason()).contains("fsync");
            assertThat(log.isOffline()).isTrue();
            assertThat(bystander.isOffline()).as("the same disk holds every log").isTrue();
            assertThatThrownBy(() -> log.flush(0)).as("never retried").isInstanceOf(IOException.class).hasMessageContaining("offline");
            assertThat(bystander.appendAsLeader(sized(10), 0, 0).error()).isEqualTo(LogError.STORAGE_ERROR);
            assertThat(manager.getOrCreate(new TopicPartition("late", 0), everyMessage).isOffline()).isTrue();
        } finally {
            manager.close();
        }
        assertThat(data().resolve(LogManager.CLEAN_SHUTDOWN_FILE)).as("a later start must recover").doesNotExist();
    }

    /**
     * A compacted log judges a torn tail by the torn batch's own base offset (a follower's copy
     * may end below the recovery point before a gap): a synced batch whose length was damaged to
     * run past the end keeps its own offset, below the recovery point, and is still damage.
     */
    @Test
    void aSyncedBatchOfACompactedLogWhoseLengthRunsPastTheEndIsDamageNotATear() throws IOException {
        LogConfig compacted = config(LogConfig.SEGMENT_BYTES, "1024", LogConfig.CLEANUP_POLICY, "compact");
        Path crash = tmp.resolve("crash");
        long lastBatchAt;
        Path segment;
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, compacted);
            for (int i = 0; i < 3; i++) {
                append(log, TestBatches.builder().baseTimestamp(0).record("k" + i, "x".repeat(100)).build(), 0);
            }
            log.flush(0);
            manager.writeCheckpoints(); // the recovery point, 3, is on disk
            copyTree(data(), crash);
        }
        segment = crash.resolve(TP.dirName()).resolve(LogSegment.fileName(0));
        byte[] bytes = Files.readAllBytes(segment);
        lastBatchAt = 2L * firstBatchSize(segment);
        ByteBuffer.wrap(bytes).putInt((int) lastBatchAt + RecordBatch.LENGTH_OFFSET, 1 << 20); // now runs past the end
        Files.write(segment, bytes);
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, compacted);
            assertThat(log.isOffline()).as("offset 2, below the recovery point, was synced: damage").isTrue();
            assertThat(log.offlineReason()).contains("runs past the end");
        }
        assertThat(Files.readAllBytes(segment)).as("nothing cut").isEqualTo(bytes);
    }

    /**
     * Twenty one-record batches in small segments, copied as kill -9 leaves the data directory
     * (no clean-shutdown marker); {@code checkpointed}: the checkpoints were written before.
     */
    private Path twentyBatchesAsAKillLeavesThem(boolean checkpointed) throws IOException {
        Path crash = tmp.resolve("crash");
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            for (int i = 0; i < 20; i++) {
                append(log, sized(150), 0);
            }
            assertThat(log.segmentCount()).isGreaterThan(3);
            if (checkpointed) {
                manager.writeCheckpoints();
            }
            copyTree(data(), crash);
        }
        return crash;
    }

    private static long firstBatchSize(Path segment) throws IOException {
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(segment), 0, RecordBatch.LOG_OVERHEAD);
        return RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
    }
}
