package io.spate.log;

import io.spate.record.TestBatches;

import io.spate.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.spate.log.LogTestSupport.CLOCK;
import static io.spate.log.LogTestSupport.HOUR;
import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.sized;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.baseOffsets;
import static io.spate.log.LogTestSupport.config;
import static io.spate.log.LogTestSupport.copyTree;
import static io.spate.log.LogTestSupport.readAll;
import static io.spate.log.LogTestSupport.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogManagerTest {
    private static final LogConfig SMALL_SEGMENTS = config(LogConfig.SEGMENT_BYTES, "1024");

    @TempDir
    Path tmp;

    private Path data() {
        return tmp.resolve("data");
    }

    private static ByteBuffer readEverything(PartitionLog log) {
        List<ByteBuffer> parts = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            ByteBuffer part = readAll(log, offset);
            assertThat(part.remaining()).isPositive();
            parts.add(part);
            RecordBatch view = new RecordBatch();
            long last = -1;
            for (int pos = 0; pos < part.limit(); pos += view.sizeInBytes()) {
                last = view.wrap(part, pos).lastOffset();
            }
            offset = last + 1;
        }
        return TestBatches.concat(parts.toArray(ByteBuffer[]::new));
    }

    /** Writes {@code count} batches, snapshots the directory as a crash would leave it, then closes. */
    private ByteBuffer writeThenCrash(Path crashCopy, int count) throws IOException {
        LogManager manager = LogManager.open(data(), CLOCK, HOUR);
        try {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            for (int i = 0; i < count; i++) {
                append(log, sized(150), CLOCK.millis());
            }
            ByteBuffer written = readEverything(log);
            copyTree(data(), crashCopy);
            return written;
        } finally {
            manager.close();
        }
    }

    private static Path lastSegment(Path partitionDir) throws IOException {
        List<String> files = segmentFiles(partitionDir);
        return partitionDir.resolve(files.get(files.size() - 1));
    }

    private static void appendToFile(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }

    /** Reopens the crashed copy and checks that it serves exactly what was written, and accepts more. */
    private void assertRecoversTo(Path crashCopy, ByteBuffer written, int count, long lastSegmentSize) throws IOException {
        try (LogManager manager = LogManager.open(crashCopy, CLOCK, HOUR)) {
            assertThat(manager.wasCleanShutdown()).isFalse();
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.logEndOffset()).isEqualTo(count);
            assertThat(log.logStartOffset()).isZero();
            assertThat(Files.size(lastSegment(crashCopy.resolve(TP.dirName())))).isEqualTo(lastSegmentSize);
            ByteBuffer recovered = readEverything(log);
            assertThat(TestBatches.bytes(recovered)).isEqualTo(TestBatches.bytes(written));
            assertThat(log.read(count + 1, 1000, Long.MAX_VALUE, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);

            AppendResult next = append(log, TestBatches.batch(999_000, "after-crash"), CLOCK.millis());
            assertThat(next.baseOffset()).isEqualTo(count);
            assertThat(TestBatches.values(readAll(log, count))).containsExactly("after-crash");
        }
    }

    @Test
    void crashWithAHalfWrittenBatchCutsTheTornTail() throws IOException {
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 12);
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        assertThat(segmentFiles(crash.resolve(TP.dirName())).size()).isGreaterThan(1);

        ByteBuffer torn = TestBatches.builder().baseOffset(12).recordOfSize(150).build();
        byte[] whole = TestBatches.bytes(torn);
        appendToFile(last, java.util.Arrays.copyOf(whole, whole.length / 2));

        assertRecoversTo(crash, written, 12, goodSize);
    }

    @Test
    void crashWithAHalfWrittenHeaderCutsTheTornTail() throws IOException {
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 3);
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        byte[] whole = TestBatches.bytes(TestBatches.builder().baseOffset(3).recordOfSize(150).build());
        appendToFile(last, java.util.Arrays.copyOf(whole, 20));

        assertRecoversTo(crash, written, 3, goodSize);
    }

    @Test
    void crashWithGarbageAfterTheLastBatchCutsIt() throws IOException {
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 7);
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        byte[] garbage = new byte[500];
        new Random(42).nextBytes(garbage);
        appendToFile(last, garbage);

        assertRecoversTo(crash, written, 7, goodSize);
    }

    @Test
    void crashWithAZeroFilledTailCutsIt() throws IOException {
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 5);
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        appendToFile(last, new byte[4096]);

        assertRecoversTo(crash, written, 5, goodSize);
    }

    @Test
    void crashWithAWholeBatchWithABadCrcCutsIt() throws IOException {
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 5);
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        ByteBuffer bad = TestBatches.builder().baseOffset(5).recordOfSize(150).build();
        bad.put(bad.limit() - 10, (byte) 0x33);
        appendToFile(last, TestBatches.bytes(bad));

        assertRecoversTo(crash, written, 5, goodSize);
    }

    @Test
    void crashWithAValidBatchWhoseOffsetsGoBackwardsCutsIt() throws IOException {
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 5);
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        // a stale but well-formed batch, as left by a reused file block
        appendToFile(last, TestBatches.bytes(TestBatches.builder().baseOffset(0).recordOfSize(150).build()));

        assertRecoversTo(crash, written, 5, goodSize);
    }

    @Test
    void crashKeepsIdempotentProducerState() throws IOException {
        Path crash = tmp.resolve("crash");
        AppendResult first;
        LogManager manager = LogManager.open(data(), CLOCK, HOUR);
        try {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            first = append(log, TestBatches.idempotent(7, (short) 2, 0, 3), 0);
            append(log, TestBatches.idempotent(7, (short) 2, 3, 1), 0);
            copyTree(data(), crash);
        } finally {
            manager.close();
        }
        try (LogManager reopened = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = reopened.getOrCreate(TP, SMALL_SEGMENTS);
            AppendResult retry = log.appendAsLeader(TestBatches.idempotent(7, (short) 2, 0, 3), 0, 0);
            assertThat(retry.duplicate()).isTrue();
            assertThat(retry.baseOffset()).isEqualTo(first.baseOffset());
            assertThat(retry.lastOffset()).isEqualTo(first.lastOffset());
            assertThat(log.appendAsLeader(TestBatches.idempotent(7, (short) 1, 4, 1), 0, 0).error()).isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
            assertThat(log.appendAsLeader(TestBatches.idempotent(7, (short) 2, 9, 1), 0, 0).error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
            assertThat(append(log, TestBatches.idempotent(7, (short) 2, 4, 1), 0).baseOffset()).isEqualTo(4);
        }
    }

    /**
     * A compacted follower whose end lay in a gap (a cut inside one) comes back, even from a
     * clean stop, ending at its last batch, below the recovery point checkpointed at the gap: the
     * checkpoint follows at once, before the leader's next batches are appended below it (a power
     * loss tearing one would have looked like damage to flushed data). Found by a review of fix 66.
     */
    @Test
    void aLogThatComesBackEndingBelowItsCheckpointedRecoveryPointLowersTheCheckpoint() throws IOException {
        LogConfig compacted = LogTestSupport.config("cleanup.policy", "compact");
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, compacted);
            ByteBuffer first = TestBatches.batch(1, "a");
            new io.spate.record.RecordBatch().wrap(first, first.position()).assign(0, 1);
            ByteBuffer far = TestBatches.batch(1, "b");
            new io.spate.record.RecordBatch().wrap(far, far.position()).assign(100, 1);
            assertThat(log.appendAsFollower(first, CLOCK.millis(), 1).ok()).isTrue();
            assertThat(log.appendAsFollower(far, CLOCK.millis(), 1).ok()).isTrue();
            log.truncateTo(50);
        }
        assertThat(LogManager.readCheckpoint(data().resolve(LogManager.RECOVERY_CHECKPOINT_FILE))).isEqualTo(Map.of(TP, 50L));

        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, compacted);
            assertThat(log.logEndOffset()).isEqualTo(1);
            assertThat(LogManager.readCheckpoint(data().resolve(LogManager.RECOVERY_CHECKPOINT_FILE))).isEqualTo(Map.of(TP, 1L));
        }
    }

    @Test
    void cleanRestartKeepsEverything() throws IOException {
        ByteBuffer written;
        AppendResult idempotent;
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(manager.wasCleanShutdown()).isFalse();
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            for (int i = 0; i < 10; i++) {
                append(log, sized(150), 0);
            }
            idempotent = append(log, TestBatches.idempotent(3, (short) 0, 0, 2), 0);
            written = readEverything(log);
        }
        assertThat(data().resolve(LogManager.CLEAN_SHUTDOWN_FILE)).exists();
        assertThat(LogManager.readCheckpoint(data().resolve(LogManager.RECOVERY_CHECKPOINT_FILE))).isEqualTo(Map.of(TP, 12L));

        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(manager.wasCleanShutdown()).isTrue();
            assertThat(data().resolve(LogManager.CLEAN_SHUTDOWN_FILE)).as("a crash from now on must not look clean").doesNotExist();
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertThat(log.logEndOffset()).isEqualTo(12);
            assertThat(log.recoveryPoint()).isEqualTo(12);
            assertThat(log.segmentCount()).isGreaterThan(1);
            assertThat(TestBatches.bytes(readEverything(log))).isEqualTo(TestBatches.bytes(written));
            AppendResult retry = log.appendAsLeader(TestBatches.idempotent(3, (short) 0, 0, 2), 0, 0);
            assertThat(retry.duplicate()).isTrue();
            assertThat(retry.baseOffset()).isEqualTo(idempotent.baseOffset());
            assertThat(append(log, TestBatches.batch(1, "more"), 0).baseOffset()).isEqualTo(12);
        }
    }

    @Test
    void aCrashAfterACleanRestartStillValidatesTheNewTail() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            for (int i = 0; i < 4; i++) {
                append(log, sized(150), 0);
            }
        }
        Path crash = tmp.resolve("crash");
        ByteBuffer written = writeThenCrash(crash, 2); // reopens cleanly, appends 2 more, crashes
        Path last = lastSegment(crash.resolve(TP.dirName()));
        long goodSize = Files.size(last);
        ByteBuffer bad = TestBatches.builder().baseOffset(6).recordOfSize(150).build();
        bad.put(bad.limit() - 1, (byte) 0x01);
        appendToFile(last, TestBatches.bytes(bad));

        assertRecoversTo(crash, written, 6, goodSize);
    }

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefused() throws IOException {
        try (LogManager first = LogManager.open(data(), CLOCK, HOUR)) {
            assertThatThrownBy(() -> LogManager.open(data(), CLOCK, HOUR))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("in use");
            // the refused attempt did not take the lock away from the first manager
            assertThatThrownBy(() -> LogManager.open(data(), CLOCK, HOUR)).isInstanceOf(IOException.class);
            assertThat(first.getOrCreate(TP, LogConfig.defaultConfig())).isNotNull();
        }
        try (LogManager again = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(again.wasCleanShutdown()).isTrue();
        }
    }

    @Test
    void getOrCreateReturnsTheSameLog() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog a = manager.getOrCreate(TP, LogConfig.defaultConfig());
            PartitionLog b = manager.getOrCreate(TP, LogConfig.defaultConfig());
            assertThat(b).isSameAs(a);
            assertThat(manager.log(TP)).isSameAs(a);
            assertThat(manager.logs()).containsExactly(a);
            assertThat(a.topicPartition()).isEqualTo(TP);
            assertThat(Files.isDirectory(data().resolve("orders-0"))).isTrue();
        }
    }

    @Test
    void aLogStoredForAnEarlierTopicOfTheSameNameIsDeletedWhenTheNewTopicOpensIt() throws IOException {
        java.util.UUID old = java.util.UUID.randomUUID();
        java.util.UUID recreated = java.util.UUID.randomUUID();
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig(), old);
            append(log, TestBatches.batch(1, "old-1", "old-2", "old-3"), 0);
            assertThat(manager.topicId(TP)).isEqualTo(old);
            assertThatThrownBy(() -> manager.getOrCreate(TP, LogConfig.defaultConfig(), recreated))
                    .as("an open log is never swapped under its users").isInstanceOf(IllegalStateException.class);
        }
        assertThat(PartitionMetadataFile.read(data().resolve(TP.dirName()))).isEqualTo(old);
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog again = manager.getOrCreate(TP, LogConfig.defaultConfig(), old);
            assertThat(again.logEndOffset()).as("the same topic keeps its records").isEqualTo(3);
        }
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog fresh = manager.getOrCreate(TP, LogConfig.defaultConfig(), recreated);
            assertThat(fresh.logEndOffset()).as("the old topic's records are gone").isZero();
            assertThat(fresh.logStartOffset()).isZero();
            assertThat(manager.topicId(TP)).isEqualTo(recreated);
            append(fresh, TestBatches.batch(1, "new"), 0);
        }
        assertThat(PartitionMetadataFile.read(data().resolve(TP.dirName()))).isEqualTo(recreated);
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(manager.getOrCreate(TP, LogConfig.defaultConfig(), recreated).logEndOffset()).isEqualTo(1);
        }
    }

    @Test
    void aLogStoredWithoutATopicIdIsTakenAsTheTopicsAndGetsIt() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            append(manager.getOrCreate(TP, LogConfig.defaultConfig()), TestBatches.batch(1, "v1", "v2"), 0);
        }
        assertThat(PartitionMetadataFile.read(data().resolve(TP.dirName()))).isNull();
        java.util.UUID id = java.util.UUID.randomUUID();
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(manager.getOrCreate(TP, LogConfig.defaultConfig(), id).logEndOffset()).isEqualTo(2);
        }
        assertThat(PartitionMetadataFile.read(data().resolve(TP.dirName()))).isEqualTo(id);
    }

    @Test
    void anUnreadableTopicIdFileIsAnErrorNotADeletion() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            append(manager.getOrCreate(TP, LogConfig.defaultConfig(), java.util.UUID.randomUUID()), TestBatches.batch(1, "v1", "v2"), 0);
        }
        Files.writeString(data().resolve(TP.dirName()).resolve(PartitionMetadataFile.FILE_NAME), "garbage");
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThatThrownBy(() -> manager.getOrCreate(TP, LogConfig.defaultConfig(), java.util.UUID.randomUUID()))
                    .isInstanceOf(IOException.class).hasMessageContaining("partition metadata");
            assertThat(manager.getOrCreate(TP, LogConfig.defaultConfig()).logEndOffset()).as("nothing deleted").isEqualTo(2);
        }
    }

    /**
     * A digit of the topic id changed on the platter still reads as a UUID: without the file's
     * checksum line the log was taken for an earlier topic's and deleted (a known gap the
     * simulation with rotting bits named). Now the damage is seen, and the log is kept as the
     * topic's, as one stored before ids were, and the file written again.
     */
    @Test
    void aTopicIdChangedOnDiskIsCaughtByItsChecksumAndTheLogKept() throws IOException {
        java.util.UUID id = java.util.UUID.fromString("6a1f3c52-0d4e-4b7a-9c21-5e8f0a7b3d19");
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            append(manager.getOrCreate(TP, LogConfig.defaultConfig(), id), TestBatches.batch(1, "v1", "v2"), 0);
        }
        Path file = data().resolve(TP.dirName()).resolve(PartitionMetadataFile.FILE_NAME);
        String text = Files.readString(file);
        assertThat(text).startsWith("version: 0\ntopic_id: " + id + "\n").contains("#crc32c ");
        Files.writeString(file, text.replace("6a1f3c52", "6a1f3c53"));
        assertThatThrownBy(() -> PartitionMetadataFile.read(data().resolve(TP.dirName())))
                .isInstanceOf(PartitionMetadataFile.Damaged.class).hasMessageContaining("checksum");
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(manager.getOrCreate(TP, LogConfig.defaultConfig(), id).logEndOffset()).as("nothing deleted").isEqualTo(2);
        }
        assertThat(PartitionMetadataFile.read(data().resolve(TP.dirName()))).isEqualTo(id);
        // The line break before the checksum rotted (the simulation found it): damaged too, not "not a UUID".
        Files.writeString(file, Files.readString(file).replace("\n#crc32c", "J#crc32c"));
        assertThatThrownBy(() -> PartitionMetadataFile.read(data().resolve(TP.dirName()))).isInstanceOf(PartitionMetadataFile.Damaged.class);
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            assertThat(manager.getOrCreate(TP, LogConfig.defaultConfig(), id).logEndOffset()).isEqualTo(2);
        }
        // A file written before the checksum line (Kafka's two lines) reads as it always did.
        Files.writeString(file, "version: 0\ntopic_id: " + id + "\n");
        assertThat(PartitionMetadataFile.read(data().resolve(TP.dirName()))).isEqualTo(id);
    }

    @Test
    void deleteRemovesTheLogAndItsFiles() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            append(log, TestBatches.batch(1, "a"), 0);
            manager.delete(TP);
            assertThat(manager.log(TP)).isNull();
            assertThat(data().resolve(TP.dirName())).doesNotExist();
            assertThat(log.appendAsLeader(TestBatches.batch(1, "b"), 0, 0).error()).isEqualTo(LogError.STORAGE_ERROR);
        }
    }

    /**
     * A read that still holds a segment of a deleted log releases it after a new log of the same
     * name was created: the release deletes the old file, never the new log's file of the same
     * name; and the new log starts at 0 whatever the checkpoints held for the deleted one.
     */
    @Test
    void aLogDeletedAndCreatedAgainIsNotTouchedByAReadOfTheOldOne() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog old = manager.getOrCreate(TP, LogConfig.defaultConfig());
            for (int i = 0; i < 5; i++) {
                append(old, TestBatches.batch(1, "old-" + i), 0);
            }
            old.updateHighWatermark(5);
            old.advanceLogStartOffset(3);
            manager.writeCheckpoints(); // the deleted log's start, 3, stays in the file
            LogReadResult held = old.read(3, 1000, Long.MAX_VALUE, true);
            assertThat(held.slice().size()).isPositive();
            manager.delete(TP);
            assertThat(data().resolve(TP.dirName())).doesNotExist();

            PartitionLog fresh = manager.getOrCreate(TP, LogConfig.defaultConfig());
            assertThat(fresh.logStartOffset()).as("not the deleted log's checkpointed start").isZero();
            append(fresh, TestBatches.batch(1, "new"), 0);
            assertThat(TestBatches.values(held.slice().readIntoHeap())).as("the held read still reads the old data")
                    .containsExactly("old-3", "old-4");
            held.slice().release();
            assertThat(data().resolve(TP.dirName()).resolve(LogSegment.fileName(0))).exists();
            assertThat(TestBatches.values(readAll(fresh, 0))).containsExactly("new");
        }
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR);
             java.util.stream.Stream<Path> entries = Files.list(data())) {
            assertThat(entries.map(e -> e.getFileName().toString())).noneMatch(n -> n.endsWith(PartitionLog.DELETE_SUFFIX));
            assertThat(TestBatches.values(readAll(manager.getOrCreate(TP, LogConfig.defaultConfig()), 0))).containsExactly("new");
        }
    }

    /**
     * The checkpoints are written again when a log is deleted: a new log of the same name, made
     * before the next periodic write, does not take the deleted one's log start at a restart
     * after a crash (it hid the new log's records).
     */
    @Test
    void aLogCreatedAgainAfterADeletionDoesNotTakeTheDeletedOnesCheckpointsAfterACrash() throws IOException {
        LogManager manager = LogManager.open(data(), CLOCK, HOUR);
        PartitionLog old = manager.getOrCreate(TP, LogConfig.defaultConfig());
        for (int i = 0; i < 5; i++) {
            append(old, TestBatches.batch(1, "old-" + i), 0);
        }
        old.updateHighWatermark(5);
        old.advanceLogStartOffset(3);
        manager.writeCheckpoints();
        manager.delete(TP);
        PartitionLog fresh = manager.getOrCreate(TP, LogConfig.defaultConfig());
        append(fresh, TestBatches.batch(1, "new"), 0);
        manager.halt(); // no checkpoint written at the stop: the one the deletion wrote stands

        try (LogManager reopened = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = reopened.getOrCreate(TP, LogConfig.defaultConfig());
            assertThat(log.logStartOffset()).isZero();
            assertThat(TestBatches.values(readAll(log, 0))).containsExactly("new");
        }
    }

    /**
     * A log closed and kept (a stale image took the partition away) is fsynced first: the recovery
     * point kept for it, and a clean start's trust in every log it opens again in this process,
     * vouched for bytes never synced, and a power loss then left a hole below the recovery point.
     */
    @Test
    void aLogClosedAndKeptIsFlushedFirst() throws IOException {
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            append(log, TestBatches.batch(1, "a", "b"), 0);
            assertThat(log.recoveryPoint()).isZero();

            manager.closeKeeping(TP);

            assertThat(log.recoveryPoint()).isEqualTo(2);
            assertThat(manager.getOrCreate(TP, LogConfig.defaultConfig()).recoveryPoint()).isEqualTo(2);
        }
    }

    @Test
    void closeFlushesAndRecordsTheRecoveryPoints() throws IOException {
        TopicPartition other = new TopicPartition("my-topic-with-dashes", 3);
        PartitionLog log;
        try (LogManager manager = LogManager.open(data(), CLOCK, HOUR)) {
            log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            append(log, TestBatches.batch(1, "a", "b"), 0);
            manager.getOrCreate(other, LogConfig.defaultConfig());
            assertThat(log.recoveryPoint()).isZero();
        }
        assertThat(log.recoveryPoint()).isEqualTo(2);
        assertThat(LogManager.readCheckpoint(data().resolve(LogManager.RECOVERY_CHECKPOINT_FILE)))
                .isEqualTo(Map.of(TP, 2L, other, 0L));
    }

    @Test
    void checkpointRoundTripsAndAnUnreadableOneIsIgnored() throws IOException {
        Path file = tmp.resolve("cp");
        Map<TopicPartition, Long> points = Map.of(new TopicPartition("a-b", 0), 5L, new TopicPartition("c", 12), 0L);
        LogManager.writeCheckpoint(file, points);
        assertThat(LogManager.readCheckpoint(file)).isEqualTo(points);
        assertThat(file.resolveSibling("cp.tmp")).doesNotExist();

        Files.writeString(file, "0\n1\norders zero 12\n");
        assertThat(LogManager.readCheckpoint(file)).isEmpty();
        assertThat(LogManager.readCheckpoint(tmp.resolve("missing"))).isEmpty();
    }

    /**
     * A clean stop lets a background duty that is writing a file finish: interrupting it closed
     * its channel mid-write (ClosedByInterruptException), so a checkpoint racing a stop failed.
     */
    @Test
    void aCloseLetsARunningDutyFinishItsFileWork() throws Exception {
        Path dir = data();
        LogManager logs = LogManager.open(dir, CLOCK, HOUR);
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        Path written = tmp.resolve("duty-output");
        assertThat(logs.schedule(() -> {
            running.countDown();
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(written,
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                // In the middle of its work until the close has begun (an interrupt would end the wait).
                closing.await();
                channel.write(ByteBuffer.wrap(new byte[] {42}));
                channel.force(true);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }, 0)).isTrue();
        running.await();
        // Lets the duty go on once the close has begun (a closed manager refuses new work).
        Thread watcher = Thread.ofPlatform().start(() -> {
            while (logs.schedule(() -> { }, 60_000)) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            closing.countDown();
        });
        logs.close();
        watcher.join();
        assertThat(done).isCompleted();
        assertThat(Files.readAllBytes(written)).containsExactly(42);
        assertThat(logs.schedule(() -> { }, 0)).as("nothing starts after the close").isFalse();
    }

    /**
     * A log closed (its partition moved away) after a roll queued its flush: the flush finds its
     * segments closed, which is no failed fsync. Taken for one, it took the whole data directory
     * offline (found by the replication simulation with compaction and moves).
     */
    @Test
    void aRollFlushOfALogClosedMeanwhileLeavesTheDirectoryOnline() throws IOException {
        LogConfig small = LogConfig.from(java.util.Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        TopicPartition other = new TopicPartition("other", 0);
        try (LogManager manager = LogManager.openWithoutDuties(tmp.resolve("data"), CLOCK)) {
            PartitionLog moving = manager.getOrCreate(TP, small);
            PartitionLog staying = manager.getOrCreate(other, small);
            for (int i = 0; i < 12; i++) {
                append(moving, TestBatches.builder().recordOfSize(150).build(), CLOCK.millis());
            }
            assertThat(segmentFiles(moving.dir()).size()).as("it rolled").isGreaterThan(1);
            manager.closeKeeping(TP); // a node applying an image from before the partition moved away, as after a restart
            manager.flushRolledLogs();
            assertThat(staying.isOffline()).as("offline: %s", staying.offlineReason()).isFalse();
            append(staying, TestBatches.batch(999_000, "still served"), CLOCK.millis());
        }
    }
}
