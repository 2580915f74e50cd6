package io.spate.log;

import io.spate.record.TestBatches;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.baseOffsets;
import static io.spate.log.LogTestSupport.config;
import static io.spate.log.LogTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

/** Idempotent producers against a real partition log. */
class IdempotentProducerTest {
    private static final long PID = 4242L;

    @TempDir
    Path dir;

    private final List<PartitionLog> opened = new ArrayList<>();

    @AfterEach
    void closeLogs() {
        opened.forEach(PartitionLog::close);
    }

    private PartitionLog open() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, LogConfig.defaultConfig(), 0, 0);
        opened.add(log);
        return log;
    }

    private static ByteBuffer batch(short epoch, int baseSequence, int count) {
        return TestBatches.idempotent(PID, epoch, baseSequence, count);
    }

    @Test
    void retriedBatchReturnsTheOriginalOffsetsAndIsStoredOnce() throws IOException {
        PartitionLog log = open();
        append(log, TestBatches.batch(1, "plain"), 0);
        AppendResult first = append(log, batch((short) 0, 0, 3), 0);
        long size = log.sizeInBytes();

        AppendResult retry = log.appendAsLeader(batch((short) 0, 0, 3), 0, 0);

        assertThat(retry.error()).isEqualTo(LogError.NONE);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.baseOffset()).isEqualTo(first.baseOffset()).isEqualTo(1);
        assertThat(retry.lastOffset()).isEqualTo(first.lastOffset()).isEqualTo(3);
        assertThat(log.logEndOffset()).isEqualTo(4);
        assertThat(log.sizeInBytes()).isEqualTo(size);
        assertThat(baseOffsets(readAll(log, 0))).containsExactly(0L, 1L);
        assertThat(log.producerCount()).isEqualTo(1);
    }

    @Test
    void consecutiveSequencesAreAccepted() throws IOException {
        PartitionLog log = open();
        AppendResult a = append(log, batch((short) 0, 0, 2), 0);
        AppendResult b = append(log, batch((short) 0, 2, 3), 0);
        AppendResult c = append(log, batch((short) 0, 5, 1), 0);
        assertThat(List.of(a.baseOffset(), b.baseOffset(), c.baseOffset())).containsExactly(0L, 2L, 5L);
        assertThat(List.of(a.duplicate(), b.duplicate(), c.duplicate())).containsOnly(false);
    }

    @Test
    void aRetryOfAnyOfTheLastFiveBatchesIsRecognised() throws IOException {
        PartitionLog log = open();
        List<AppendResult> results = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            results.add(append(log, batch((short) 0, i, 1), 0));
        }
        for (int i = 1; i < 6; i++) {
            AppendResult retry = log.appendAsLeader(batch((short) 0, i, 1), 0, 0);
            assertThat(retry.duplicate()).as("sequence %d", i).isTrue();
            assertThat(retry.baseOffset()).isEqualTo(results.get(i).baseOffset());
        }
        // sequence 0 has left the window of five: written, but its offset is no longer known (Kafka's
        // DUPLICATE_SEQUENCE_NUMBER, which the client takes as written); nothing is appended again
        AppendResult tooOld = log.appendAsLeader(batch((short) 0, 0, 1), 0, 0);
        assertThat(tooOld.error()).isEqualTo(LogError.DUPLICATE_SEQUENCE);
        assertThat(tooOld.nextOffset()).as("it lies before the oldest kept batch").isEqualTo(1);
        assertThat(log.logEndOffset()).isEqualTo(6);
    }

    @Test
    void aGapInTheSequenceIsRejected() throws IOException {
        PartitionLog log = open();
        append(log, batch((short) 0, 0, 2), 0);
        long size = log.sizeInBytes();

        AppendResult gap = log.appendAsLeader(batch((short) 0, 3, 1), 0, 0);

        assertThat(gap.error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        assertThat(gap.message()).contains("expected 2");
        assertThat(log.logEndOffset()).isEqualTo(2);
        assertThat(log.sizeInBytes()).isEqualTo(size);
    }

    @Test
    void aProducerWithoutStateIsAcceptedAtAnySequenceAsSinceKip360() throws IOException {
        PartitionLog log = open();
        AppendResult r = log.appendAsLeader(batch((short) 0, 5, 1), 0, 0);
        assertThat(r.ok()).isTrue();
        assertThat(log.logEndOffset()).isEqualTo(1);
        // from then on its sequence is checked as usual
        assertThat(log.appendAsLeader(batch((short) 0, 7, 1), 0, 0).error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        assertThat(log.appendAsLeader(batch((short) 0, 5, 1), 0, 0).duplicate()).isTrue();
        assertThat(append(log, batch((short) 0, 6, 1), 0).baseOffset()).isEqualTo(1);
    }

    @Test
    void anOlderEpochIsFenced() throws IOException {
        PartitionLog log = open();
        append(log, batch((short) 0, 0, 1), 0);
        append(log, batch((short) 1, 0, 1), 0);

        AppendResult zombie = log.appendAsLeader(batch((short) 0, 1, 1), 0, 0);

        assertThat(zombie.error()).isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
        assertThat(log.logEndOffset()).isEqualTo(2);
    }

    @Test
    void aNewEpochMustRestartAtSequenceZero() throws IOException {
        PartitionLog log = open();
        append(log, batch((short) 0, 0, 3), 0);
        AppendResult wrong = log.appendAsLeader(batch((short) 1, 3, 1), 0, 0);
        assertThat(wrong.error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        AppendResult right = log.appendAsLeader(batch((short) 1, 0, 1), 0, 0);
        assertThat(right.ok()).isTrue();
        assertThat(right.duplicate()).isFalse();
        assertThat(right.baseOffset()).isEqualTo(3);
    }

    @Test
    void producersAreTrackedIndependently() throws IOException {
        PartitionLog log = open();
        append(log, TestBatches.idempotent(1, (short) 0, 0, 1), 0);
        append(log, TestBatches.idempotent(2, (short) 0, 0, 1), 0);
        append(log, TestBatches.idempotent(1, (short) 0, 1, 1), 0);
        assertThat(log.producerCount()).isEqualTo(2);
        AppendResult retry = log.appendAsLeader(TestBatches.idempotent(2, (short) 0, 0, 1), 0, 0);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.baseOffset()).isEqualTo(1);
    }

    @Test
    void aRetryMayNotShareARequestWithOtherBatches() throws IOException {
        PartitionLog log = open();
        append(log, batch((short) 0, 0, 1), 0);
        AppendResult mixed = log.appendAsLeader(TestBatches.concat(batch((short) 0, 0, 1), batch((short) 0, 1, 1)), 0, 0);
        assertThat(mixed.error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        AppendResult mixed2 = log.appendAsLeader(TestBatches.concat(TestBatches.idempotent(9, (short) 0, 0, 1), batch((short) 0, 0, 1)), 0, 0);
        assertThat(mixed2.error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        assertThat(log.logEndOffset()).isEqualTo(1);
    }

    @Test
    void severalBatchesOfOneProducerInOneRequest() throws IOException {
        PartitionLog log = open();
        AppendResult r = append(log, TestBatches.concat(batch((short) 0, 0, 2), batch((short) 0, 2, 2)), 0);
        assertThat(r.lastOffset()).isEqualTo(3);
        AppendResult retryOfSecond = log.appendAsLeader(batch((short) 0, 2, 2), 0, 0);
        assertThat(retryOfSecond.duplicate()).isTrue();
        assertThat(retryOfSecond.baseOffset()).isEqualTo(2);
        assertThat(append(log, batch((short) 0, 4, 1), 0).baseOffset()).isEqualTo(4);
    }

    @Test
    void duplicateUnderLogAppendTimeReportsTheOriginalTime() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config(LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"), 0, 0);
        opened.add(log);
        AppendResult first = log.appendAsLeader(batch((short) 0, 0, 1), 0, 5_000);
        AppendResult retry = log.appendAsLeader(batch((short) 0, 0, 1), 0, 9_000);
        assertThat(first.logAppendTimeMs()).isEqualTo(5_000);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.logAppendTimeMs()).isEqualTo(5_000);
    }

    @Test
    void aGapBetweenBatchesOfOneRequestIsRejectedAndNothingIsStored() throws IOException {
        PartitionLog log = open();
        AppendResult gap = log.appendAsLeader(TestBatches.concat(batch((short) 0, 0, 2), batch((short) 0, 3, 1)), 0, 0);
        assertThat(gap.error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        assertThat(gap.message()).contains("expected 2");
        AppendResult epochBack = log.appendAsLeader(TestBatches.concat(batch((short) 1, 0, 1), batch((short) 0, 1, 1)), 0, 0);
        assertThat(epochBack.error()).isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.producerCount()).isZero();
    }

    @Test
    void producerStateIsRebuiltWhenTheLogIsReopened() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, LogConfig.defaultConfig(), 0, 0);
        AppendResult first = append(log, batch((short) 1, 0, 2), 0);
        append(log, batch((short) 1, 2, 2), 0);
        log.close();

        PartitionLog reopened = open();
        assertThat(reopened.producerCount()).isEqualTo(1);
        AppendResult retry = reopened.appendAsLeader(batch((short) 1, 0, 2), 0, 0);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.baseOffset()).isEqualTo(first.baseOffset());
        assertThat(reopened.appendAsLeader(batch((short) 0, 4, 1), 0, 0).error()).isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
        assertThat(reopened.appendAsLeader(batch((short) 1, 5, 1), 0, 0).error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        assertThat(append(reopened, batch((short) 1, 4, 1), 0).baseOffset()).isEqualTo(4);
    }

    @Test
    void truncationForgetsTruncatedBatches() throws IOException {
        PartitionLog log = open();
        append(log, batch((short) 0, 0, 1), 0);
        append(log, batch((short) 0, 1, 1), 0);
        log.truncateTo(1);
        // the batch with sequence 1 is gone: resending it is a new append, not a duplicate
        AppendResult resend = log.appendAsLeader(batch((short) 0, 1, 1), 0, 0);
        assertThat(resend.ok()).isTrue();
        assertThat(resend.duplicate()).isFalse();
        assertThat(resend.baseOffset()).isEqualTo(1);
        assertThat(baseOffsets(readAll(log, 0))).containsExactly(0L, 1L);
    }

    @Test
    void aTruncationThatTakesEveryKeptBatchReplaysTheLogSoThatARetryOfAnOlderOneIsStillADuplicate() throws IOException {
        // A leader wrote sequences 0..5 and only offset 0 reached the replica that took over: the
        // cut takes the five batches kept. The producer's request timed out and it retries from
        // sequence 0, which the log holds at offset 0, once leadership is back here.
        PartitionLog log = open();
        for (int i = 0; i < 6; i++) {
            append(log, batch((short) 0, i, 1), 0);
        }
        log.truncateTo(1);

        AppendResult retry = log.appendAsLeader(batch((short) 0, 0, 1), 0, 0);
        assertThat(retry.error()).isEqualTo(LogError.NONE);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.baseOffset()).isZero();
        AppendResult next = append(log, batch((short) 0, 1, 1), 0);
        assertThat(next.duplicate()).isFalse();
        assertThat(next.baseOffset()).isEqualTo(1);
        assertThat(baseOffsets(readAll(log, 0))).containsExactly(0L, 1L);
    }

    @Test
    void aRollSnapshotsTheProducerStateSoThatAReplayAfterATruncationReadsOnlyTheActiveSegment() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config(LogConfig.SEGMENT_BYTES, "1024"), 0, 0);
        opened.add(log);
        int sequence = 0;
        while (log.activeSegmentBaseOffset() == 0) {
            append(log, batch((short) 0, sequence++, 1), 0);
        }
        long rolledAt = log.activeSegmentBaseOffset();
        assertThat(ProducerSnapshot.newest(dir, 0).offset()).as("the state as of the roll").isEqualTo(rolledAt);
        for (int i = 0; i < 5; i++) {
            append(log, batch((short) 0, sequence++, 1), 0);
        }
        // The cut takes the five batches kept; the replay starts at the roll's snapshot and finds
        // the batch at the roll, so a retry of it is still known.
        log.truncateTo(rolledAt + 1);
        AppendResult retry = log.appendAsLeader(batch((short) 0, (int) rolledAt, 1), 0, 0);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.baseOffset()).isEqualTo(rolledAt);
        assertThat(append(log, batch((short) 0, (int) rolledAt + 1, 1), 0).baseOffset()).isEqualTo(rolledAt + 1);
    }

    private static final long OTHER = 77L;

    /** {@code count} single-record batches of producer OTHER; returns the sequence to go on with. */
    private static int appendOthers(PartitionLog log, int sequence, int count) {
        for (int i = 0; i < count; i++) {
            append(log, TestBatches.idempotent(OTHER, (short) 0, sequence++, 1), 0);
        }
        return sequence;
    }

    /**
     * Cuts OTHER's five kept batches, so that the truncation replays the producer state, then
     * retries PID's batch {@code only}: still known, the retry is a duplicate.
     */
    private static void assertARetryOfPidsBatchIsADuplicateAfterACutOfOthersLastFive(PartitionLog log, AppendResult only) throws IOException {
        log.truncateTo(log.logEndOffset() - 5);

        AppendResult retry = log.appendAsLeader(batch((short) 0, 0, 1), 0, 0);
        assertThat(retry.duplicate()).as("a retry of PID's batch is a duplicate").isTrue();
        assertThat(retry.baseOffset()).isEqualTo(only.baseOffset());
    }

    /** Producer OTHER's single-record batches until the log rolls; returns the sequence to go on with. */
    private static int fillToRoll(PartitionLog log, int sequence) {
        long base = log.activeSegmentBaseOffset();
        while (log.activeSegmentBaseOffset() == base) {
            append(log, TestBatches.idempotent(OTHER, (short) 0, sequence++, 1), 0);
        }
        return sequence;
    }

    /**
     * A truncation that must replay the producer state, below the snapshot taken at the deletion, after
     * DeleteRecords (or retention) removed the segment holding producer PID's only batch: the replay started from
     * the segments alone (the one snapshot lay past the cut) and forgot PID, so a retry of its
     * batch was stored again. With a snapshot per segment it starts from the roll's, which knows
     * PID.
     */
    @Test
    void aTruncationBelowTheNewestSnapshotStillKnowsAProducerWhoseSegmentWasDeleted() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config(LogConfig.SEGMENT_BYTES, "1024"), 0, 0);
        opened.add(log);
        AppendResult only = append(log, batch((short) 0, 0, 1), 0);
        int sequence = fillToRoll(log, 0);
        long secondSegment = log.activeSegmentBaseOffset();
        sequence = fillToRoll(log, sequence);
        sequence = appendOthers(log, sequence, 5);
        log.updateHighWatermark(log.logEndOffset());
        log.deleteRecordsBefore(secondSegment); // its snapshot is taken at the log's end
        assertThat(log.logStartOffset()).isEqualTo(secondSegment);

        // The cut takes OTHER's five kept batches, so the state is replayed.
        log.truncateTo(log.logEndOffset() - 5);

        assertThat(log.producerStates()).as("PID, whose segment was deleted, is still known")
                .anySatisfy(p -> assertThat(p.producerId()).isEqualTo(PID));
        AppendResult retry = log.appendAsLeader(batch((short) 0, 0, 1), 0, 0);
        assertThat(retry.duplicate()).as("a retry of PID's batch is a duplicate").isTrue();
        assertThat(retry.baseOffset()).isEqualTo(only.baseOffset());
    }

    /**
     * The same after DeleteRecords moved the log start inside a segment, past PID's batch just
     * after that segment's snapshot: the replay read from the log start and skipped the batch,
     * which is still stored; it now reads what the segments hold from the snapshot's offset.
     */
    @Test
    void aTruncationAfterDeleteRecordsInsideASegmentStillKnowsTheProducersItPassed() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config(LogConfig.SEGMENT_BYTES, "1024"), 0, 0);
        opened.add(log);
        int sequence = fillToRoll(log, 0);
        AppendResult only = append(log, batch((short) 0, 0, 1), 0);
        assertThat(only.baseOffset()).as("just after the roll's snapshot").isEqualTo(log.activeSegmentBaseOffset() + 1);
        sequence = appendOthers(log, sequence, 8);
        assertThat(log.activeSegmentBaseOffset()).as("no roll since PID's batch").isEqualTo(only.baseOffset() - 1);
        log.updateHighWatermark(log.logEndOffset());
        log.deleteRecordsBefore(only.baseOffset() + 1);

        assertARetryOfPidsBatchIsADuplicateAfterACutOfOthersLastFive(log, only);
    }

    /**
     * DeleteRecords removes PID's segment (a snapshot is taken at the log's end first), then moves
     * the log start again inside the next segment, and the node restarts cleanly before a
     * truncation that replays the state. The second move kept only the newest snapshot at or
     * below the log start, the one taken at the end, and the restart deleted that one as a stray
     * (neither at a segment's base nor the newest): the replay then started from nothing and
     * forgot PID. Found by a review of the fix.
     */
    @Test
    void aTruncationAfterARestartStillKnowsAProducerWhoseSegmentDeleteRecordsRemoved() throws IOException {
        LogConfig config = config(LogConfig.SEGMENT_BYTES, "1024");
        PartitionLog log = PartitionLog.open(TP, dir, config, 0, 0);
        AppendResult only = append(log, batch((short) 0, 0, 1), 0);
        int sequence = fillToRoll(log, 0);
        long base = log.activeSegmentBaseOffset();
        sequence = appendOthers(log, sequence, 2);
        log.updateHighWatermark(log.logEndOffset());
        log.deleteRecordsBefore(base + 1); // PID's segment goes
        sequence = appendOthers(log, sequence, 6);
        log.updateHighWatermark(log.logEndOffset());
        log.deleteRecordsBefore(base + 4); // inside the same segment, past the end the first deletion snapshotted
        assertThat(log.segmentCount()).as("one segment left").isEqualTo(1);
        assertThat(log.activeSegmentBaseOffset()).isEqualTo(base);
        PartitionLog.OpenOptions clean = new PartitionLog.OpenOptions(Long.MAX_VALUE, log.logStartOffset(), log.highWatermark(), false);
        log.close();
        log = PartitionLog.open(TP, dir, config, clean, 0);
        opened.add(log);

        assertARetryOfPidsBatchIsADuplicateAfterACutOfOthersLastFive(log, only);
    }

    /** Snapshots past a truncation's cut go; those at or below it, one per segment, stay. */
    @Test
    void aTruncationDeletesTheSnapshotsPastItsCutOnly() throws IOException {
        PartitionLog log = PartitionLog.open(TP, dir, config(LogConfig.SEGMENT_BYTES, "1024"), 0, 0);
        opened.add(log);
        int sequence = fillToRoll(log, 0);
        long second = log.activeSegmentBaseOffset();
        sequence = fillToRoll(log, sequence);
        long third = log.activeSegmentBaseOffset();
        fillToRoll(log, sequence);
        assertThat(ProducerSnapshot.offsets(dir)).containsExactly(second, third, log.activeSegmentBaseOffset());

        log.truncateTo(third);

        assertThat(ProducerSnapshot.offsets(dir)).containsExactly(second, third);
    }
}
