package io.spate.log.compaction;

import io.spate.log.AppendResult;
import io.spate.log.LogConfig;
import io.spate.log.LogError;
import io.spate.log.LogManager;
import io.spate.log.LogReadResult;
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
    @TempDir
    Path noSnapshot;

    /**
     * A tombstone stays delete.retention.ms after the first pass that kept it, whatever its own
     * timestamp (KIP-534): b's was stamped 5 s back by its producer (a mirror, a replay) and went
     * at the first pass, so a consumer between b=1 and it never learned b was deleted.
     */
    @Test
    void keepsTheLastRecordOfEachKeyAndDropsTombstonesDeleteRetentionAfterThePassThatKeptThem() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long old = CLOCK.millis() - 5_000;
            append(log, TestBatches.builder().baseTimestamp(old).record("a", "1").record("b", "1").record("c", "1").build());
            append(log, TestBatches.builder().baseTimestamp(old).record("a", "2").record("b", null).build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("c", null).record("d", "1").build());
            fillToRoll(log);
            MutableClock clock = new MutableClock(CLOCK.millis());
            LogCompactor compactor = compactor(clock);

            assertThat(compactor.compact(log)).isTrue();
            assertThat(records(log, 7)).as("both tombstones kept by the first pass").containsExactly("3:a=2", "4:b=null", "5:c=null", "6:d=1");

            clock.set(CLOCK.millis() + 999);
            compactor.compact(log);
            assertThat(records(log, 7)).containsExactly("3:a=2", "4:b=null", "5:c=null", "6:d=1");

            clock.set(CLOCK.millis() + 1_000);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(records(log, 7)).as("delete.retention.ms after that pass: gone").containsExactly("3:a=2", "6:d=1");
        }
    }

    /**
     * DeleteRecords on a compact,delete topic, and every follower of one (it takes its leader's
     * log start, which its own segments end elsewhere than), leave the log start inside the first
     * segment: the rewrite, which starts at that segment's base, read below the log start and
     * failed, every pass, for as long as the first segment stayed.
     */
    @Test
    void aLogWhoseStartLiesInsideItsFirstSegmentIsCompacted() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            LogConfig compactDelete = LogConfig.from(Map.of(LogConfig.CLEANUP_POLICY, "compact,delete", LogConfig.SEGMENT_BYTES, "1024"));
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), compactDelete);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "1").build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("b", "1").build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "2").build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("b", "2").build());
            fillToRoll(log);
            log.deleteRecordsBefore(1);
            assertThat(log.segmentBaseAtOrBelow(log.logStartOffset())).isZero();

            assertThat(compactor(CLOCK).compact(log)).isTrue();

            assertThat(records(log, 4)).containsExactly("2:a=2", "3:b=2");
            assertThat(log.logStartOffset()).isEqualTo(1);
        }
    }

    /**
     * A loaded log's high watermark is its log end until its owner sets it from the checkpoint:
     * a pass in between took a newer value in the unreplicated tail (which the follower then
     * cuts) to supersede the committed one of its key, and the key was gone on this replica.
     */
    @Test
    void aLoadedLogIsNotCompactedPastItsCheckpointedHighWatermarkBeforeItIsSet() throws IOException {
        TopicPartition tp = new TopicPartition("t", 0);
        long committed;
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "committed").build());
            fillToRoll(log);
            committed = log.highWatermark();
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "unreplicated").build());
            for (int i = 0; i < 20; i++) {
                append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("tail-" + i, "x".repeat(100)).build());
            }
        }
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            assertThat(log.checkpointedHighWatermark()).isEqualTo(committed);
            compactor(CLOCK).compact(log);
            assertThat(records(log, committed)).contains("0:a=committed");
            log.resetHighWatermark(log.checkpointedHighWatermark());
            compactor(CLOCK).compact(log);
            assertThat(records(log, committed)).contains("0:a=committed");
        }
    }

    /** A stopped compactor gives a pass up at its next batch, the log as it was; compacting is for another one. */
    @Test
    void aStoppedCompactorGivesUpItsPassAndLeavesTheLogAsItWas() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "1").build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "2").build());
            fillToRoll(log);
            List<String> before = records(log, 2);
            LogCompactor stopped = compactor(CLOCK);
            stopped.stop();

            assertThatThrownBy(() -> stopped.compact(log)).isInstanceOf(IOException.class).hasMessageContaining("stopping");
            stopped.compactDue(List.of(log)); // gives up quietly
            assertThat(records(log, 2)).isEqualTo(before).contains("0:a=1");
            try (java.util.stream.Stream<Path> left = Files.list(log.dir())) {
                assertThat(left.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".cleaning"));
            }
            assertThat(compactor(CLOCK).compact(log)).isTrue();
            assertThat(records(log, 2)).containsExactly("1:a=2");
        }
    }

    /**
     * The README's known gap of a switch from compact to delete: compaction leaves a sealed
     * segment ending before the next begins, and after a crash the load judged such gaps by the
     * policy at hand. Switched to delete, they were taken for tears past the recovery point, and
     * every later segment was deleted as never fsynced, after a kill that lost nothing.
     */
    @Test
    void aCompactedLogSwitchedToDeleteKeepsEveryRecordAcrossAKill() throws IOException {
        TopicPartition tp = new TopicPartition("t", 0);
        LogConfig deleting = LogConfig.from(Map.of(LogConfig.CLEANUP_POLICY, "delete", LogConfig.SEGMENT_BYTES, "1024"));
        List<String> kept;
        long end;
        LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000);
        try {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            // Every key but each segment's first written twice: a pass's output segment then ends
            // with the first record of the last segment it covers, before the next one begins.
            for (int i = 0; i < 40; i++) {
                append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("k-" + i, "x".repeat(100)).build());
            }
            java.util.Set<Long> firsts = new java.util.HashSet<>();
            for (long base = 0; base >= 0 && base < 40; base = log.nextSegmentBaseAfter(base)) {
                firsts.add(base);
            }
            for (int i = 0; i < 40; i++) {
                if (!firsts.contains((long) i)) {
                    append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("k-" + i, "x".repeat(100)).build());
                }
            }
            for (int i = 0; i < 20; i++) {
                append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("other-" + i, "y".repeat(100)).build());
            }
            log.updateHighWatermark(log.logEndOffset());
            assertThat(compactor(CLOCK).compact(log)).isTrue();
            kept = records(log, Long.MAX_VALUE);
            assertThat(kept).hasSize(60).contains("0:k-0=" + "x".repeat(100)).doesNotContain("1:k-1=" + "x".repeat(100));
            end = log.logEndOffset();
            log.updateConfig(deleting);
        } finally {
            manager.halt(); // a kill: no flush, no checkpoint
        }
        try (LogManager reopened = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = reopened.getOrCreate(tp, deleting);
            assertThat(log.isOffline()).isFalse();
            assertThat(records(log, Long.MAX_VALUE)).isEqualTo(kept);
            assertThat(log.logEndOffset()).isEqualTo(end);
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

            assertThatThrownBy(() -> compactor(CLOCK).compact(log))
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

            assertThat(compactor(CLOCK).compact(log)).isTrue();

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

            assertThat(compactor(CLOCK).compact(log)).isTrue();

            List<String> kept = dataRecords(log, log.logEndOffset());
            assertThat(kept).as("below the last stable offset: compacted").doesNotContain("0:a=1").contains("1:a=2");
            assertThat(kept).as("at or past it: untouched").contains((open + 1) + ":z=1", (open + 2) + ":z=2", open + ":x=open");
        }
    }

    /**
     * A tombstone past where a pass's key map ended was kept without being looked at: its stay
     * counts from the later pass that mapped it and removed the value it deletes, not from the first.
     */
    @Test
    void aTombstonePastTheKeyMapsEndStaysDeleteRetentionAfterThePassThatRemovedItsValue() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("k", "v").build());     // 0
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("gone", null).build()); // 1: a tombstone kept by pass 1
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("f1", "x").build());    // 2
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("k", null).build());    // 3: past the small map's end
            fillToRoll(log);
            MutableClock clock = new MutableClock(CLOCK.millis());
            // Room for about two keys: the map ends before offset 3, whose segment is rewritten whole.
            LogCompactor compactor = new LogCompactor(clock, 2 * (LogCompactor.ENTRY_OVERHEAD_BYTES + 4), null);

            assertThat(compactor.compact(log)).isTrue();
            assertThat(records(log, 4)).as("pass 1 mapped k=v, not its tombstone").contains("0:k=v", "3:k=null");
            clock.set(CLOCK.millis() + 500);
            compactor.compact(log);
            compactor.compact(log);
            assertThat(records(log, 4)).as("a later pass mapped the tombstone: the value goes").doesNotContain("0:k=v").contains("3:k=null");

            clock.set(CLOCK.millis() + 1_000);   // delete.retention.ms after pass 1, half of it after the value went
            compactor.compact(log);
            assertThat(records(log, 4)).contains("3:k=null");
            clock.set(CLOCK.millis() + 1_500);
            compactor.compact(log);
            assertThat(records(log, 4)).doesNotContain("3:k=null");
        }
    }

    @Test
    void bytesPastAStuckLastStableOffsetDoNotMakeEveryPassDue() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "1").build());
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "2").build());
            fillToRoll(log);
            append(log, transactional(ABORTING).record("x", "open").build()); // never decided: the last stable offset stays here
            for (int i = 0; i < 3; i++) {
                fillToRoll(log);
            }
            LogCompactor compactor = compactor(CLOCK);
            compactor.compactDue(List.of(log));
            assertThat(dataRecords(log, log.logEndOffset())).as("cleaned below the last stable offset").doesNotContain("0:a=1");
            Path first = log.dir().resolve(String.format("%020d.log", log.segmentBaseAtOrBelow(0)));
            Object before = Files.readAttributes(first, java.nio.file.attribute.BasicFileAttributes.class).fileKey();

            compactor.compactDue(List.of(log));

            assertThat(Files.readAttributes(first, java.nio.file.attribute.BasicFileAttributes.class).fileKey())
                    .as("nothing below the last stable offset changed: no pass rewrote it").isEqualTo(before);
        }
    }

    @Test
    void anAbortMarkerSurvivesTheFirstPassWithADeleteHorizonAndGoesAfterIt() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            append(log, TestBatches.builder().baseTimestamp(now).record("a", "1").build());                                // 0
            append(log, transactional(ABORTING, 0).record("a", "aborted").record("b", "aborted").build());                 // 1..2
            assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, false, 0, now).ok()).isTrue();                  // 3
            append(log, transactional(ABORTING, 2).record("c", "committed").build());                                      // 4
            assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, true, 0, now).ok()).isTrue();                   // 5
            fillToRoll(log);
            assertThat(log.abortedTransactions(0, 6)).containsExactly(new io.spate.log.AbortedTxn(ABORTING, 1, 3, 4));
            MutableClock clock = new MutableClock(now);
            LogCompactor compactor = compactor(clock);

            assertThat(compactor.compact(log)).isTrue();

            assertThat(dataRecords(log, 6)).containsExactly("0:a=1", "4:c=committed");
            io.spate.record.RecordBatch abort = marker(log, 3);
            assertThat(abort).as("kept by the first pass").isNotNull();
            abort.validate(abort.sizeInBytes());
            assertThat(abort.attributes() & TxnMarkers.DELETE_HORIZON_MASK).as("delete-horizon bit").isNotZero();
            assertThat(abort.baseTimestamp()).as("the horizon: now + delete.retention.ms").isEqualTo(now + 1000);
            assertThat(io.spate.record.ControlBatches.readMarker(abort)).isEqualTo(new io.spate.record.ControlBatches.EndTxnMarker(false, 0));
            assertThat(new RecordReader(null).open(abort).next().timestamp()).as("the record keeps its timestamp").isEqualTo(now);
            assertThat(abort.maxTimestamp()).isEqualTo(now);
            assertThat(abort.producerId()).isEqualTo(ABORTING);
            assertThat(marker(log, 5)).as("the commit's record is still there").isNotNull()
                    .satisfies(b -> assertThat(b.attributes() & TxnMarkers.DELETE_HORIZON_MASK).isZero());
            assertThat(log.abortedTransactions(0, 6)).as("the marker is there, so is its entry").hasSize(1);

            clock.set(now + 999);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(markerOffsets(log)).as("before the horizon").containsExactly(3L, 5L);
            assertThat(marker(log, 3).baseTimestamp()).as("a later pass keeps the first horizon").isEqualTo(now + 1000);

            clock.set(now + 1000);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(markerOffsets(log)).as("the abort marker went at its horizon").containsExactly(5L);
            assertThat(log.abortedTransactions(0, log.logEndOffset())).as("and its index entry with it").isEmpty();

            // read_committed: only committed records, and no aborted transaction to skip (an entry
            // without its marker would make a consumer skip the producer's committed transaction at 4).
            LogReadResult read = log.read(0, Integer.MAX_VALUE, log.lastStableOffset(), true, true);
            try {
                assertThat(read.error()).isEqualTo(LogError.NONE);
                assertThat(read.abortedTransactions()).isEmpty();
                assertThat(recordsIn(read.slice().readIntoHeap(), 6)).containsExactly("0:a=1", "4:c=committed", "5:commit");
            } finally {
                read.slice().release();
            }
        }
    }

    @Test
    void aCommitMarkerStaysWhileAnyOfItsRecordsRemainAndGoesOnceTheyAreCompactedAwayAndTheHorizonPassed() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            append(log, transactional(COMMITTING, 0).record("k", "1").build());                                           // 0
            append(log, transactional(COMMITTING, 1).record("j", "1").build());                                           // 1
            assertThat(log.appendControlAsLeader(COMMITTING, (short) 0, 0, true, 0, now).ok()).isTrue();                 // 2
            fillToRoll(log);
            // Far past any horizon: the marker is held by its records alone.
            MutableClock clock = new MutableClock(now + 86_400_000);
            LogCompactor compactor = compactor(clock);

            assertThat(compactor.compact(log)).isTrue();
            assertThat(compactor.compact(log)).isTrue();
            assertThat(marker(log, 2)).as("both records remain").isNotNull()
                    .satisfies(b -> assertThat(b.attributes() & TxnMarkers.DELETE_HORIZON_MASK).isZero());

            append(log, TestBatches.builder().baseTimestamp(now).record("k", "2").build());
            fillToRoll(log);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(dataRecords(log, 3)).containsExactly("1:j=1");
            assertThat(marker(log, 2)).as("j=1 remains").isNotNull()
                    .satisfies(b -> assertThat(b.attributes() & TxnMarkers.DELETE_HORIZON_MASK).isZero());

            append(log, TestBatches.builder().baseTimestamp(now).record("j", "2").build());
            fillToRoll(log);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(dataRecords(log, 3)).isEmpty();
            assertThat(emptyBatches(log)).as("the producer's last batch stays, empty: it holds its last sequence").containsExactly(1L);
            assertThat(marker(log, 2)).as("and holds its transaction's marker, as in Kafka").isNotNull()
                    .satisfies(b -> assertThat(b.attributes() & TxnMarkers.DELETE_HORIZON_MASK).isZero());

            assertThat(log.removeExpiredProducers(clock.millis(), 1)).as("the producer expires").isEqualTo(1);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(emptyBatches(log)).as("nothing holds its batch now").isEmpty();
            io.spate.record.RecordBatch commit = marker(log, 2);
            assertThat(commit).as("emptied now: kept until its horizon").isNotNull();
            commit.validate(commit.sizeInBytes());
            assertThat(commit.baseTimestamp()).isEqualTo(clock.millis() + 1000);
            assertThat(io.spate.record.ControlBatches.readMarker(commit)).isEqualTo(new io.spate.record.ControlBatches.EndTxnMarker(true, 0));

            clock.set(clock.millis() + 1000);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(markerOffsets(log)).isEmpty();
            assertThat(log.lastStableOffset()).isEqualTo(log.highWatermark());
        }
    }

    @Test
    void aLogWithAStampedMarkerIsDueAgainAtItsHorizonWithoutNewData() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            appendAbortedTransactionAlone(log, now); // 0, its marker 1
            MutableClock clock = new MutableClock(now);
            LogCompactor compactor = compactor(clock);
            // Gone (expired), the producer no longer holds its last batch and marker.
            assertThat(log.removeExpiredProducers(now + 1, 1)).isEqualTo(1);

            compactor.compactDue(List.of(log));
            assertThat(markerOffsets(log)).containsExactly(1L);
            clock.set(now + 999);
            compactor.compactDue(List.of(log));
            assertThat(markerOffsets(log)).containsExactly(1L);
            clock.set(now + 1000);
            compactor.compactDue(List.of(log));
            assertThat(markerOffsets(log)).as("nothing dirty, but the horizon passed").isEmpty();
        }
    }

    /**
     * A transaction open across a roll is open in that roll's producer snapshot; its producer
     * aborts it, writes no more and expires, and compaction then removes the aborted record and,
     * past the delete horizon, the marker. A truncation into the
     * compacted range replayed from that snapshot, met no marker, and left the transaction open
     * for good, the last stable offset held at the log start. Found by a review of fix 68: a
     * compaction now deletes the snapshots below its range's end before it commits.
     */
    @Test
    void aTruncationIntoACompactedRangeDoesNotReopenATransactionWhoseMarkerWent() throws IOException {
        long now = CLOCK.millis();
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            append(log, transactional(ABORTING, 0).record("a", "aborted").build());                                       // 0
            for (int i = 0; log.activeSegmentBaseOffset() == 0; i++) {
                append(log, TestBatches.builder().baseTimestamp(now).record("before-" + i, "x".repeat(100)).build());
            }
            assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, false, 0, now).ok()).isTrue();
            long marker = log.logEndOffset() - 1;
            long cut = log.logEndOffset();
            append(log, TestBatches.builder().baseTimestamp(now).record("k", "cut").build());
            fillToRoll(log);
            // The producer writes no more and expires: its marker no longer has to stay.
            assertThat(log.removeExpiredProducers(now + 1, 1)).isEqualTo(1);
            MutableClock clock = new MutableClock(now);
            LogCompactor compactor = compactor(clock);
            assertThat(compactor.compact(log)).isTrue();
            clock.set(now + 1000);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(markerOffsets(log)).as("the aborted transaction's marker is gone").doesNotContain(marker);
            assertThat(cut).as("inside the compacted range").isLessThan(log.cleanableEndOffset());

            log.truncateTo(cut);

            assertThat(log.producerStates()).allSatisfy(p -> assertThat(p.currentTxnStartOffset()).as("no transaction reopened").isEqualTo(-1));
            assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset()).isEqualTo(cut);
        }
    }

    @Test
    void aLogReloadedAfterItsMarkersWentKeepsItsProducerStateAndLastStableOffset() throws IOException {
        long now = CLOCK.millis();
        TopicPartition tp = new TopicPartition("t", 0);
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            append(log, transactional(ABORTING, 0).record("a", "aborted").build());                                       // 0
            assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, false, 0, now).ok()).isTrue();                  // 1
            append(log, transactional(COMMITTING, 0).record("k", "1").build());                                           // 2
            assertThat(log.appendControlAsLeader(COMMITTING, (short) 0, 0, true, 0, now).ok()).isTrue();                 // 3
            append(log, TestBatches.builder().baseTimestamp(now).record("k", "2").build());                               // 4
            // Each producer's last transaction stays: its batches hold the producers' last sequences.
            append(log, transactional(ABORTING, 1).record("z", "kept").build());                                          // 5
            assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, true, 0, now).ok()).isTrue();                   // 6
            append(log, transactional(COMMITTING, 1).record("y", "kept").build());                                        // 7
            assertThat(log.appendControlAsLeader(COMMITTING, (short) 0, 0, true, 0, now).ok()).isTrue();                 // 8
            fillToRoll(log);
            MutableClock clock = new MutableClock(now);
            LogCompactor compactor = compactor(clock);
            assertThat(compactor.compact(log)).isTrue();
            clock.set(now + 1000);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(markerOffsets(log)).containsExactly(6L, 8L);
            assertThat(dataRecords(log, 9)).containsExactly("4:k=2", "5:z=kept", "7:y=kept");
            assertThat(emptyBatches(log)).isEmpty();
        }
        io.spate.log.LogTestSupport.copyTree(tmp, noSnapshot);
        try (var snapshots = Files.list(noSnapshot.resolve("t-0"))) {
            for (Path snapshot : snapshots.filter(f -> f.getFileName().toString().endsWith(".snapshot")).toList()) {
                Files.delete(snapshot);
            }
        }
        for (boolean withSnapshot : new boolean[] {true, false}) {
            try (LogManager manager = LogManager.open(withSnapshot ? tmp : noSnapshot, CLOCK, 3_600_000)) {
                PartitionLog log = manager.getOrCreate(tp, COMPACTED);
                assertThat(markerOffsets(log)).containsExactly(6L, 8L);
                assertThat(log.producerStates()).as("with snapshot: %s", withSnapshot)
                        .allSatisfy(p -> assertThat(p.currentTxnStartOffset()).as("no transaction reopened").isEqualTo(-1));
                assertThat(log.lastStableOffset()).isEqualTo(log.highWatermark()).isEqualTo(log.logEndOffset());
                assertThat(log.abortedTransactions(0, log.logEndOffset())).isEmpty();
                assertThat(log.producerStates()).as("the producers are still known, with snapshot: %s", withSnapshot)
                        .anySatisfy(p -> assertThat(p).extracting(io.spate.log.ProducerView::producerId, io.spate.log.ProducerView::lastSequence)
                                .containsExactly(COMMITTING, 1))
                        .anySatisfy(p -> assertThat(p).extracting(io.spate.log.ProducerView::producerId, io.spate.log.ProducerView::lastSequence)
                                .containsExactly(ABORTING, 1));
                if (withSnapshot) {
                    // The committing producer's next transaction follows its last sequence.
                    append(log, transactional(COMMITTING, 2).record("k", "3").build());
                    assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset() - 1);
                    assertThat(log.appendControlAsLeader(COMMITTING, (short) 0, 0, true, 0, now).ok()).isTrue();
                    log.updateHighWatermark(log.logEndOffset());
                    assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset());
                }
            }
        }
    }

    /**
     * An idempotent producer's last batch whose records all have later versions stays as an empty
     * batch, as Kafka's cleaner keeps it: a replica that copies the compacted log (a new follower,
     * a reassignment) learns the producer's last sequence from it, and when that replica leads, a
     * retry of the batch is answered as the duplicate it is. Dropped, the copy did not know the
     * producer, took the retry for its first write (KIP-360) and stored it twice. The producer's
     * earlier batch goes, and so does every batch of a producer the log no longer knows.
     */
    @Test
    void aProducersLastBatchStaysEmptySoThatAReplicaThatCopiesTheLogFindsItsRetryADuplicate() throws IOException {
        long producer = 81;
        long expired = 82;
        ByteBuffer lastBatch = TestBatches.builder().baseTimestamp(CLOCK.millis()).producer(producer, (short) 0, 1).record("b", "1").build();
        TopicPartition tp = new TopicPartition("t", 0);
        ByteBuffer compacted;
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis() - 10_000).producer(expired, (short) 0, 0).record("c", "1").build()); // 0
            assertThat(log.removeExpiredProducers(CLOCK.millis(), 5_000)).isEqualTo(1);
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).producer(producer, (short) 0, 0).record("a", "1").build());          // 1
            append(log, lastBatch.duplicate());                                                                                               // 2
            append(log, TestBatches.builder().baseTimestamp(CLOCK.millis()).record("a", "2").record("b", "2").record("c", "2").build());         // 3..5
            fillToRoll(log);

            assertThat(compactor(CLOCK).compact(log)).isTrue();

            assertThat(dataRecords(log, 6)).containsExactly("3:a=2", "4:b=2", "5:c=2");
            assertThat(emptyBatches(log)).containsExactly(2L);
            fillToRoll(log);
            assertThat(compactor(CLOCK).compact(log)).isTrue();
            assertThat(emptyBatches(log)).as("a later pass keeps it while it is still the producer's last").containsExactly(2L);
            io.spate.record.RecordBatch empty = batchAt(log, 2);
            empty.validate(empty.sizeInBytes());
            assertThat(empty).extracting(io.spate.record.RecordBatch::producerId, io.spate.record.RecordBatch::baseSequence,
                    io.spate.record.RecordBatch::lastOffset, io.spate.record.RecordBatch::recordCount).containsExactly(producer, 1, 2L, 0);
            LogReadResult read = log.read(log.logStartOffset(), Integer.MAX_VALUE, log.logEndOffset(), false);
            try {
                compacted = read.slice().readIntoHeap();
            } finally {
                read.slice().release();
            }
        }
        try (LogManager manager = LogManager.open(noSnapshot, CLOCK, 3_600_000)) {
            PartitionLog copy = manager.getOrCreate(tp, COMPACTED);
            assertThat(copy.appendAsFollower(compacted, 0).ok()).isTrue();
            long end = copy.logEndOffset();
            AppendResult retry = copy.appendAsLeader(lastBatch.duplicate(), 0, CLOCK.millis());
            assertThat(retry.duplicate()).as("the copy knows the producer's last sequence").isTrue();
            assertThat(retry.baseOffset()).isEqualTo(2);
            assertThat(copy.logEndOffset()).as("nothing stored twice").isEqualTo(end);
        }
    }

    /**
     * An aborted transaction's batch that is its producer's last stays empty, and with it the
     * abort marker and its index entry, so that read_committed readers and a replica replaying the
     * log still see the transaction as aborted; once the producer expires, the batch, then the
     * marker at its horizon, and the entry go.
     */
    @Test
    void anAbortedBatchThatIsItsProducersLastStaysEmptyWithItsMarkerUntilTheProducerExpires() throws IOException {
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            appendAbortedTransactionAlone(log, now); // 0, its marker 1
            MutableClock clock = new MutableClock(now);
            LogCompactor compactor = compactor(clock);
            assertThat(compactor.compact(log)).isTrue();
            clock.set(now + 10_000);
            assertThat(compactor.compact(log)).isTrue();

            assertThat(dataRecords(log, 2)).isEmpty();
            assertThat(emptyBatches(log)).containsExactly(0L);
            assertThat(markerOffsets(log)).containsExactly(1L);
            assertThat(log.abortedTransactions(0, log.logEndOffset())).containsExactly(new io.spate.log.AbortedTxn(ABORTING, 0, 1, 2));

            assertThat(log.removeExpiredProducers(clock.millis(), 1)).isEqualTo(1);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(emptyBatches(log)).isEmpty();
            assertThat(markerOffsets(log)).as("stamped, not yet gone").containsExactly(1L);
            clock.set(clock.millis() + 1000);
            assertThat(compactor.compact(log)).isTrue();
            assertThat(markerOffsets(log)).isEmpty();
            assertThat(log.abortedTransactions(0, log.logEndOffset())).isEmpty();
        }
    }

    /**
     * A group coordinator writes a transaction's offsets with the producer's id and epoch and no
     * sequence, and the epoch stays the same from one transaction to the next: only the producer's
     * last offsets batch and the marker after it stay. Taken for a producer with no data in its
     * epoch, every marker of the epoch stayed, and the offsets log of a long-running exactly-once
     * application grew by one marker per commit (found by a review).
     */
    @Test
    void onlyTheLastOfACoordinatorsTransactionalOffsetBatchesAndItsMarkerStay() throws IOException {
        long producer = 91;
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new TopicPartition("t", 0), COMPACTED);
            long now = CLOCK.millis();
            for (int txn = 0; txn < 5; txn++) {                                                                          // 2 * txn, 2 * txn + 1
                ByteBuffer offsets = TestBatches.builder().baseTimestamp(now).attributes(io.spate.record.RecordBatch.TRANSACTIONAL_MASK)
                        .producer(producer, (short) 0, io.spate.record.RecordBatch.NO_SEQUENCE).record("group-offset", "txn-" + txn).build();
                assertThat(log.appendAsLeader(offsets, 0, now, io.spate.log.AppendOrigin.COORDINATOR).error()).isEqualTo(LogError.NONE);
                assertThat(log.appendControlAsLeader(producer, (short) 0, 0, true, 0, now).ok()).isTrue();
            }
            append(log, TestBatches.builder().baseTimestamp(now).record("group-offset", "plain").build());                // 10
            fillToRoll(log);
            MutableClock clock = new MutableClock(now);
            LogCompactor compactor = compactor(clock);
            assertThat(compactor.compact(log)).isTrue();
            clock.set(now + 1000);
            assertThat(compactor.compact(log)).isTrue();

            assertThat(markerOffsets(log)).as("the last transaction's marker").containsExactly(9L);
            assertThat(emptyBatches(log)).as("the last transaction's offsets, empty").containsExactly(8L);
            assertThat(dataRecords(log, 11)).containsExactly("10:group-offset=plain");
        }
    }

    /**
     * A pass's output starts a new segment before a batch that ends more than 2^31 offsets past
     * the segment's base (its indexes hold relative offsets as ints), as Kafka's cleaner groups
     * segments: few keys spread over billions of offsets were written into one segment.
     */
    @Test
    void aPassStartsANewSegmentBeforeABatchMoreThan2To31OffsetsOn() throws IOException {
        TopicPartition tp = new TopicPartition("t", 0);
        long far = 3_000_000_000L;
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            // A follower's copy of a compacted leader: four batches, each 3e9 offsets after the last.
            for (int i = 0; i < 4; i++) {
                ByteBuffer batch = TestBatches.builder().baseOffset(i * far).partitionLeaderEpoch(0).baseTimestamp(CLOCK.millis())
                        .record("k" + i, "v" + i).build();
                assertThat(log.appendAsFollower(batch, 0).error()).isEqualTo(LogError.NONE);
            }
            log.updateHighWatermark(log.logEndOffset());
            assertThat(log.cleanableEndOffset()).isEqualTo(3 * far);
            assertThat(compactor(CLOCK).compact(log)).isTrue();
            assertThat(dataRecords(log, Long.MAX_VALUE)).containsExactly("0:k0=v0", far + ":k1=v1", 2 * far + ":k2=v2", 3 * far + ":k3=v3");
        }
        try (Stream<Path> files = Files.list(tmp.resolve("t-0"))) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted())
                    .containsExactly(io.spate.log.LogSegment.fileName(0), io.spate.log.LogSegment.fileName(far),
                            io.spate.log.LogSegment.fileName(2 * far), io.spate.log.LogSegment.fileName(3 * far));
        }
        try (LogManager manager = LogManager.open(tmp, CLOCK, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(tp, COMPACTED);
            assertThat(dataRecords(log, Long.MAX_VALUE)).as("the indexes, built again at load")
                    .containsExactly("0:k0=v0", far + ":k1=v1", 2 * far + ":k2=v2", 3 * far + ":k3=v3");
            for (long i = 1; i < 4; i++) {
                LogReadResult read = log.read(i * far - 1, Integer.MAX_VALUE, log.logEndOffset(), false);
                try {
                    assertThat(recordsIn(read.slice().readIntoHeap(), Long.MAX_VALUE)).as("a read inside the gap before %d", i * far)
                            .containsExactly(i * far + ":k" + i + "=v" + i);
                } finally {
                    read.slice().release();
                }
            }
        }
    }

    private static final long ABORTING = 71;
    private static final long COMMITTING = 72;

    /** A transactional batch of {@code producerId} at epoch 0, sequence 0. */
    private static TestBatches.Builder transactional(long producerId) {
        return transactional(producerId, 0);
    }

    private static TestBatches.Builder transactional(long producerId, int sequence) {
        return TestBatches.builder().baseTimestamp(CLOCK.millis()).attributes(io.spate.record.RecordBatch.TRANSACTIONAL_MASK)
                .producer(producerId, (short) 0, sequence);
    }

    /** The control batch at {@code offset}, copied, or null when there is none. */
    private static io.spate.record.RecordBatch marker(PartitionLog log, long offset) throws IOException {
        io.spate.record.RecordBatch[] found = new io.spate.record.RecordBatch[1];
        LogScanner.forEachBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            if (batch.isControl() && batch.baseOffset() == offset) {
                ByteBuffer copy = ByteBuffer.allocate(batch.sizeInBytes());
                copy.put(batch.buffer().duplicate().limit(batch.start() + batch.sizeInBytes()).position(batch.start())).flip();
                found[0] = io.spate.record.RecordBatch.of(copy);
            }
        });
        return found[0];
    }

    /** Records of the whole batches in {@code bytes} below {@code end}, control records included, as offset:key=value. */
    private static List<String> recordsIn(ByteBuffer bytes, long end) throws IOException {
        List<String> seen = new ArrayList<>();
        RecordReader reader = new RecordReader(null);
        io.spate.record.RecordBatch view = new io.spate.record.RecordBatch();
        int position = bytes.position();
        while (position < bytes.limit()) {
            view.wrap(bytes, position);
            if (view.isControl()) {
                seen.add(view.baseOffset() + ":" + (io.spate.record.ControlBatches.readMarker(view).commit() ? "commit" : "abort"));
                position += view.sizeInBytes();
                continue;
            }
            reader.open(view);
            while (reader.hasNext()) {
                Record r = reader.next();
                if (r.offset() < end) {
                    seen.add(r.offset() + ":" + utf8(r.key()) + "=" + utf8(r.value()));
                }
            }
            position += view.sizeInBytes();
        }
        return seen;
    }

    /** A clock the test moves. */
    private static final class MutableClock extends Clock {
        private long millis;

        MutableClock(long millis) {
            this.millis = millis;
        }

        void set(long millis) {
            this.millis = millis;
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
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

    /** Base offsets of the data batches that hold no record (what compaction keeps of a producer's last batch). */
    private static List<Long> emptyBatches(PartitionLog log) throws IOException {
        List<Long> offsets = new ArrayList<>();
        LogScanner.forEachBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            if (!batch.isControl() && batch.recordCount() == 0) {
                offsets.add(batch.baseOffset());
            }
        });
        return offsets;
    }

    /** The batch whose base offset is {@code offset}, copied. */
    private static io.spate.record.RecordBatch batchAt(PartitionLog log, long offset) throws IOException {
        io.spate.record.RecordBatch[] found = new io.spate.record.RecordBatch[1];
        LogScanner.forEachBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            if (batch.baseOffset() == offset) {
                ByteBuffer copy = ByteBuffer.allocate(batch.sizeInBytes());
                copy.put(batch.buffer().duplicate().limit(batch.start() + batch.sizeInBytes()).position(batch.start())).flip();
                found[0] = io.spate.record.RecordBatch.of(copy);
            }
        });
        return found[0];
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
    private static LogCompactor compactor(Clock clock) {
        return new LogCompactor(clock, LogCompactor.DEFAULT_KEY_MAP_BYTES, null);
    }

    /** One transaction of one record, aborted (offset 0, its marker 1), in a sealed segment of its own. */
    private static void appendAbortedTransactionAlone(PartitionLog log, long now) {
        append(log, transactional(ABORTING, 0).record("a", "aborted").build());
        assertThat(log.appendControlAsLeader(ABORTING, (short) 0, 0, false, 0, now).ok()).isTrue();
        fillToRoll(log);
    }

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

