package io.spate.log.compaction;

import io.spate.log.LogConfig;
import io.spate.log.LogError;
import io.spate.log.LogManager;
import io.spate.log.LogScanner;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.record.Record;
import io.spate.record.RecordReader;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogCompactorTest {
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(10_000_000), ZoneOffset.UTC);
    private static final LogConfig COMPACTED = LogConfig.from(Map.of(LogConfig.CLEANUP_POLICY, "compact",
            LogConfig.SEGMENT_BYTES, "1024", "delete.retention.ms", "1000"));

    @TempDir
    Path tmp;

    @Test
    void keepsTheLastRecordOfEachKeyAndDropsOldTombstonesButNotRecentOnes() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long old = CLOCK.millis() - 5_000;
            append(log, TestBatches.builder().baseTimestamp(old).record("a", "1").record("b", "1").record("c", "1").build());
            append(log, TestBatches.builder().baseTimestamp(old).record("a", "2").record("b", null).build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("c", null).record("d", "1").build());
            fillToRoll(log);

            assertThat(new LogCompactor(CLOCK, LogCompactor.DEFAULT_KEY_MAP_BYTES, null).compact(log)).isTrue();

            // b's tombstone is older than delete.retention.ms; c's is not, so readers still learn c is gone.
            assertThat(records(log, 7)).containsExactly("3:a=2", "5:c=null", "6:d=1");
        }
    }

    @Test
    void aBatchThatReadsBackWrongFailsThePassAndLeavesTheLogAsItWas() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "first-value").build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "second-value").build());
            fillToRoll(log);
            Path segment = firstSegment(log.dir());
            byte[] before = Files.readAllBytes(segment);
            flipLastByteOfFirstBatchValue(segment);
            byte[] flipped = Files.readAllBytes(segment);

            assertThatThrownBy(() -> new LogCompactor(CLOCK, LogCompactor.DEFAULT_KEY_MAP_BYTES, null).compact(log))
                    .isInstanceOf(IOException.class).hasMessageContaining("fails its check");

            assertThat(Files.readAllBytes(segment)).isEqualTo(flipped).isNotEqualTo(before);
            assertThat(log.logStartOffset()).isZero();
        }
    }

    @Test
    void recordsOfAbortedTransactionsAreDroppedAndNeverReplaceOrDeleteCommittedValuesWhileMarkersStay() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            append(log, TestBatches.builder().baseTimestamp(now).record("a", "1").record("b", "1").record("c", "1").build()); // 0..2
            append(log, transactional(ABORTING).record("a", "aborted").record("b", null).build());                        // 3..4
            append(log, transactional(COMMITTING).record("c", "2").build());                                               // 5
            assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, false, 0, now).ok()).isTrue();                  // 6
            assertThat(log.appendControlAsLeader(COMMITTING, (short) 0, 0, true, 0, now).ok()).isTrue();                 // 7
            fillToRoll(log);
            assertThat(log.cleanableEndOffset()).isGreaterThan(8);
            List<io.spate.log.AbortedTxn> aborted = log.abortedTransactions(0, 8);
            assertThat(aborted).containsExactly(new io.spate.log.AbortedTxn(ABORTING, 3, 6, 5));

            assertThat(new LogCompactor(CLOCK, LogCompactor.DEFAULT_KEY_MAP_BYTES, null).compact(log)).isTrue();

            assertThat(dataRecords(log, 8)).as("c's committed transactional value replaces the older one; the aborted ones are gone")
                    .containsExactly("0:a=1", "1:b=1", "5:c=2");
            assertThat(markerOffsets(log)).containsExactly(6L, 7L);
            assertThat(log.abortedTransactions(0, 8)).as("the swap keeps the index of the segments it replaced").isEqualTo(aborted);
        }
    }

    @Test
    void neverCleansPastTheLastStableOffset() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            append(log, TestBatches.builder().baseTimestamp(now).record("a", "1").build());                               // 0
            append(log, TestBatches.builder().baseTimestamp(now).record("a", "2").build());                               // 1
            fillToRoll(log);
            long open = log.logEndOffset();
            append(log, transactional(ABORTING).record("x", "open").build());                                             // stays open
            append(log, TestBatches.builder().baseTimestamp(now).record("z", "1").build());
            append(log, TestBatches.builder().baseTimestamp(now).record("z", "2").build());
            fillToRoll(log);
            assertThat(log.lastStableOffset()).isEqualTo(open);
            assertThat(log.cleanableEndOffset()).isLessThanOrEqualTo(open);

            assertThat(new LogCompactor(CLOCK, LogCompactor.DEFAULT_KEY_MAP_BYTES, null).compact(log)).isTrue();

            List<String> kept = dataRecords(log, log.logEndOffset());
            assertThat(kept).as("below the last stable offset: compacted").doesNotContain("0:a=1").contains("1:a=2");
            assertThat(kept).as("at or past it: untouched").contains((open + 1) + ":z=1", (open + 2) + ":z=2", open + ":x=open");
        }
    }

    private static final long ABORTING = 71;
    private static final long COMMITTING = 72;

    /** A transactional batch of {@code producerId} at epoch 0, sequence 0. */
    private static TestBatches.Builder transactional(long producerId) {
        return TestBatches.builder().baseTimestamp(CLOCK.millis()).attributes(io.spate.record.RecordBatch.TRANSACTIONAL_MASK)
                .producer(producerId, (short) 0, 0);
    }

    /** Records of data batches below {@code end} as offset:key=value. */
    private static List<String> dataRecords(PartitionLog log, long end) throws IOException {
        List<String> seen = new ArrayList<>();
        RecordReader reader = new RecordReader(null);
        LogScanner.forEachBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            if (batch.isControl()) {
                return;
            }
            reader.open(batch);
            while (reader.hasNext()) {
                Record r = reader.next();
                if (r.offset() < end) {
                    seen.add(r.offset() + ":" + utf8(r.key()) + "=" + utf8(r.value()));
                }
            }
        });
        return seen;
    }

    private static List<Long> markerOffsets(PartitionLog log) throws IOException {
        List<Long> offsets = new ArrayList<>();
        LogScanner.forEachBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            if (batch.isControl()) {
                offsets.add(batch.baseOffset());
            }
        });
        return offsets;
    }

    private static void append(PartitionLog log, ByteBuffer batch) {
        assertThat(log.appendAsLeader(batch, 0, CLOCK.millis()).error()).isEqualTo(LogError.NONE);
    }

    /** Writes keyless-free filler under its own keys until the first segments are sealed and committed. */
    private static void fillToRoll(PartitionLog log) {
        for (int i = 0; i < 20; i++) {
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("filler-" + i, "x".repeat(100)).build());
        }
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.cleanableEndOffset()).isGreaterThan(6);
    }

    /** Records below {@code end} as offset:key=value, read back with Spate's reader. */
    private static List<String> records(PartitionLog log, long end) throws IOException {
        List<String> seen = new ArrayList<>();
        RecordReader reader = new RecordReader(null);
        LogScanner.forEachBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            reader.open(batch);
            while (reader.hasNext()) {
                Record r = reader.next();
                if (r.offset() < end) {
                    seen.add(r.offset() + ":" + utf8(r.key()) + "=" + utf8(r.value()));
                }
            }
        });
        return seen;
    }

    private static void flipLastByteOfFirstBatchValue(Path segment) throws IOException {
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(12);
            channel.read(header, 0);
            int size = 12 + header.getInt(8);
            // The last byte of the one record is its header count (0); the byte before is the value's last.
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, size - 2);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, size - 2);
        }
    }

    private static Path firstSegment(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
    }

    private static String utf8(ByteBuffer buffer) {
        if (buffer == null) {
            return "null";
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
