package io.spate.log;

import io.spate.record.RecordBatch;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

/** The log as a replica uses it: epochs, follower appends, truncation to a leader's history. */
class ReplicatedLogTest {
    @TempDir
    Path leaderDir;
    @TempDir
    Path followerDir;

    private PartitionLog leader;
    private PartitionLog follower;

    @AfterEach
    void close() {
        if (leader != null) {
            leader.close();
        }
        if (follower != null) {
            follower.close();
        }
    }

    private void open() throws IOException {
        leader = PartitionLog.open(TP, leaderDir, LogConfig.defaultConfig(), 0, 0);
        follower = PartitionLog.open(TP, followerDir, LogConfig.defaultConfig(), 0, 0);
    }

    @Test
    void epochBoundariesAreAnsweredFromWhatTheLogHolds() throws IOException {
        open();
        assertThat(leader.latestEpoch()).isEqualTo(-1);
        assertThat(leader.endOffsetForEpoch(0)).containsExactly(-1, -1);
        leader.appendAsLeader(TestBatches.batch(1, "a", "b"), 0, 1);      // offsets 0-1, epoch 0
        leader.appendAsLeader(TestBatches.batch(1, "c"), 0, 1);           // offset 2, epoch 0
        leader.appendAsLeader(TestBatches.batch(1, "d", "e"), 3, 1);      // offsets 3-4, epoch 3
        assertThat(leader.latestEpoch()).isEqualTo(3);
        assertThat(leader.endOffsetForEpoch(0)).containsExactly(0, 3);
        assertThat(leader.endOffsetForEpoch(2)).as("an epoch never written answers with the one before it").containsExactly(0, 3);
        assertThat(leader.endOffsetForEpoch(3)).containsExactly(3, 5);
        assertThat(leader.endOffsetForEpoch(7)).containsExactly(3, 5);
    }

    @Test
    void aClientAskingForAnEpochOlderThanAnyHeldIsToldItEndsWhereTheOldestHeldBegins() throws IOException {
        open();
        assertThat(leader.offsetForLeaderEpoch(0)).as("no epoch at all: undefined").containsExactly(-1, -1);
        leader.appendAsLeader(TestBatches.batch(1, "a", "b", "c"), 0, 1);      // offsets 0-2, epoch 0
        leader.appendAsLeader(TestBatches.batch(1, "d", "e", "f"), 2, 1);      // offsets 3-5, epoch 2
        leader.appendAsLeader(TestBatches.batch(1, "g", "h"), 4, 1);           // offsets 6-7, epoch 4
        leader.updateHighWatermark(8);
        leader.deleteRecordsBefore(4); // epoch 0's batches go; epoch 2 now begins at the log start
        assertThat(leader.offsetForLeaderEpoch(0)).as("as Kafka: a consumer committed in epoch 0 at or below 4 keeps its position")
                .containsExactly(0, 4);
        assertThat(leader.offsetForLeaderEpoch(1)).containsExactly(1, 4);
        assertThat(leader.offsetForLeaderEpoch(2)).containsExactly(2, 6);
        assertThat(leader.offsetForLeaderEpoch(4)).containsExactly(4, 8);
        assertThat(leader.endOffsetForEpoch(0)).as("a replica's own lookup is unchanged").containsExactly(-1, -1);
    }

    /** KIP-320's check of a replica's fetch: its newest epoch must end here at or after its fetch offset. */
    @Test
    void aReplicasFetchIsCheckedAgainstTheEpochsThisLogHolds() throws IOException {
        open();
        leader.appendAsLeader(TestBatches.batch(1, "a", "b", "c"), 2, 1);  // offsets 0-2, epoch 2
        leader.appendAsLeader(TestBatches.batch(1, "d", "e"), 5, 1);       // offsets 3-4, epoch 5
        assertThat(leader.divergingEpoch(-1, 0)).as("a replica holding nothing: nothing to compare").isNull();
        assertThat(leader.divergingEpoch(5, 4)).as("the newest epoch, within the log").isNull();
        assertThat(leader.divergingEpoch(5, 5)).isNull();
        assertThat(leader.divergingEpoch(2, 3)).as("epoch 2 ends at 3 here").isNull();
        assertThat(leader.divergingEpoch(2, 4)).as("the replica holds more of epoch 2 than this log").containsExactly(2, 3);
        assertThat(leader.divergingEpoch(5, 6)).as("past this log's end").containsExactly(5, 5);
        assertThat(leader.divergingEpoch(4, 3)).as("an epoch this log never wrote").containsExactly(2, 3);
        assertThat(leader.divergingEpoch(7, 5)).as("an epoch newer than any here").containsExactly(5, 5);
        assertThat(leader.divergingEpoch(1, 2)).as("older than every epoch here, past where the oldest begins").containsExactly(-1, 0);
        assertThat(leader.divergingEpoch(1, 0)).as("older than every epoch here, ending where the oldest begins").isNull();
    }

    /**
     * A copy of a compacted log begins its oldest epoch at its first surviving batch, past its log
     * start: a replica with an older epoch ending at or before that batch shares nothing to
     * compare, one ending past it parts there.
     */
    @Test
    void aReplicaOlderThanEveryEpochOfACompactedCopyPartsWhereItsOldestEpochBegins() throws IOException {
        open();
        // Copied from a compacted leader: the first batch that survived is at offset 5, of epoch 3.
        ByteBuffer copied = TestBatches.builder().baseOffset(5).partitionLeaderEpoch(3).record("k1", "x").record("k2", "y").build();
        assertThat(leader.appendAsFollower(copied, 1).ok()).isTrue();
        assertThat(leader.logStartOffset()).isZero();
        assertThat(leader.logEndOffset()).isEqualTo(7);
        assertThat(leader.divergingEpoch(1, 4)).as("its records lie below the copy's first batch").isNull();
        assertThat(leader.divergingEpoch(1, 5)).isNull();
        assertThat(leader.divergingEpoch(1, 7)).as("it holds epoch-1 records where this copy holds epoch 3").containsExactly(-1, 5);
    }

    @Test
    void followerAppendKeepsTheLeadersOffsetsAndEpochsAndSurvivesReopen() throws IOException {
        open();
        leader.appendAsLeader(TestBatches.batch(1, "a", "b"), 4, 1);
        leader.appendAsLeader(TestBatches.batch(1, "c"), 5, 1);
        ByteBuffer copied = readAll(leader, 0);
        AppendResult result = follower.appendAsFollower(copied, 2);
        assertThat(result.ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(3);
        assertThat(TestBatches.bytes(readAll(follower, 0))).isEqualTo(TestBatches.bytes(readAll(leader, 0)));
        assertThat(follower.endOffsetForEpoch(4)).containsExactly(4, 2);

        follower.close();
        follower = PartitionLog.open(TP, followerDir, LogConfig.defaultConfig(), 0, 0);
        assertThat(follower.latestEpoch()).as("epochs are rebuilt from batch headers").isEqualTo(5);
        assertThat(follower.endOffsetForEpoch(4)).containsExactly(4, 2);
    }

    @Test
    void followerAppendRefusesAnOverlapOrACorruptBatch() throws IOException {
        open();
        leader.appendAsLeader(TestBatches.batch(1, "a"), 0, 1);
        leader.appendAsLeader(TestBatches.batch(1, "b"), 0, 1);
        follower.appendAsFollower(readAll(leader, 0), 2);
        assertThat(follower.appendAsFollower(readAll(leader, 0), 3).error()).as("an overlap").isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        leader.appendAsLeader(TestBatches.batch(1, "c"), 0, 1);
        ByteBuffer third = readAll(leader, 2);
        third.put(third.limit() - 1, (byte) (third.get(third.limit() - 1) ^ 1));
        assertThat(follower.appendAsFollower(third, 4).error()).isEqualTo(LogError.CORRUPT_MESSAGE);
        assertThat(follower.logEndOffset()).isEqualTo(2);
    }

    @Test
    void followerAppendTakesAnEpochItsLeaderCannotHaveWrittenOnlyWhenSentTwiceAndMovesNoBoundaryForIt() throws IOException {
        open();
        leader.appendAsLeader(TestBatches.batch(1, "a"), 2, 1);   // 0, epoch 2
        leader.appendAsLeader(TestBatches.batch(1, "b"), 3, 1);   // 1, epoch 3
        ByteBuffer both = readAll(leader, 0);
        // The leader's epoch lies outside the CRC: one wrong bit read on the leader's side changes it unseen.
        AppendResult once = follower.appendAsFollower(both.duplicate(), 2, 2);
        assertThat(once.ok()).as("nothing is wrong with the replica: it asks again").isTrue();
        assertThat(follower.logEndOffset()).as("the batch before the doubtful one is taken").isEqualTo(1);
        assertThat(follower.appendAsFollower(readAll(leader, 1), 2, 3).ok()).as("from the leader at epoch 3").isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(2);

        leader.appendAsLeader(TestBatches.batch(1, "c"), 3, 1);   // 2, epoch 3
        ByteBuffer third = readAll(leader, 2);
        third.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, 1);
        follower.appendAsFollower(third.duplicate(), 3, 3);
        assertThat(follower.logEndOffset()).as("epoch 1 after epoch 3, sent once").isEqualTo(2);
        // Sent again, it is taken: a log written before this check may hold such a batch, and
        // refusing it for good would stop the replica for good. It moves no epoch boundary.
        assertThat(follower.appendAsFollower(third.duplicate(), 3, 3).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(3);
        assertThat(follower.latestEpoch()).isEqualTo(3);
        assertThat(follower.endOffsetForEpoch(2)).containsExactly(2, 1);

        // The epoch's sign bit read wrong: 3 becomes -2147483645, which no leader writes either.
        leader.appendAsLeader(TestBatches.batch(1, "d"), 3, 1);   // 3, epoch 3
        ByteBuffer fourth = readAll(leader, 3);
        fourth.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, 3 | Integer.MIN_VALUE);
        assertThat(follower.appendAsFollower(fourth.duplicate(), 3, 3).ok()).isTrue();
        assertThat(follower.logEndOffset()).as("a negative epoch, sent once").isEqualTo(3);
    }

    @Test
    void aRunOfDoubtfulEpochsIsTakenOneBatchAtATimeWithoutMovingTheEpochs() throws IOException {
        open();
        follower.appendAsFollower(numbered(0, 3, "a"), 2, 3);
        // Two batches whose epoch (9) no leader at epoch 3 can have written.
        ByteBuffer run = concat(numbered(1, 9, "x"), numbered(2, 9, "y"));
        follower.appendAsFollower(run.duplicate(), 3, 3);
        assertThat(follower.logEndOffset()).isEqualTo(1);
        follower.appendAsFollower(run.duplicate(), 3, 3);
        assertThat(follower.logEndOffset()).as("the first taken on its second sending, the second asked again").isEqualTo(2);
        follower.appendAsFollower(numbered(2, 9, "y"), 3, 3);
        assertThat(follower.logEndOffset()).isEqualTo(3);
        assertThat(follower.latestEpoch()).as("no boundary for an epoch its leader cannot have").isEqualTo(3);
        assertThat(follower.endOffsetForEpoch(3)).containsExactly(3, 3);
    }

    @Test
    void aGapOfAPowerOfTwoOutsideCompactionIsTakenOnlyWhenTheLeaderSendsItTwice() throws IOException {
        open();
        leader.appendAsLeader(TestBatches.batch(1, "a"), 0, 1);
        follower.appendAsFollower(readAll(leader, 0), 2, 0);
        leader.appendAsLeader(TestBatches.batch(1, "b"), 0, 1);   // offset 1
        ByteBuffer shifted = readAll(leader, 1);
        // A base offset lies outside the CRC too: read wrong once on the leader, 1 becomes 3 (one bit).
        shifted.putLong(RecordBatch.BASE_OFFSET_OFFSET, 3);
        AppendResult once = follower.appendAsFollower(shifted.duplicate(), 3, 0);
        assertThat(once.ok()).as("nothing is wrong with the replica: it asks again").isTrue();
        assertThat(follower.logEndOffset()).as("no hole left").isEqualTo(1);
        assertThat(follower.appendAsFollower(readAll(leader, 1), 3, 0).ok()).as("the right read of the same batch").isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(2);

        // A real gap (the topic compacted before its policy changed) comes again on the next fetch and is taken.
        ByteBuffer gap = numbered(6, 0, "z");
        follower.appendAsFollower(gap.duplicate(), 3, 0);
        assertThat(follower.logEndOffset()).isEqualTo(2);
        assertThat(follower.appendAsFollower(gap.duplicate(), 3, 0).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(7);
        // Gaps no single wrong bit makes are compaction's, taken at once.
        assertThat(follower.appendAsFollower(numbered(10, 0, "y"), 3, 0).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(11);
        // What comes before such a gap in the same response is taken; the next fetch starts at the gap.
        assertThat(follower.appendAsFollower(concat(numbered(11, 0, "p"), numbered(14, 0, "q")), 3, 0).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(12);
        assertThat(follower.appendAsFollower(numbered(14, 0, "q"), 3, 0).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(15);
    }

    @Test
    void aTruncationBelowTheLogStartStartsTheLogOverThere() throws IOException {
        open();
        for (int i = 0; i < 5; i++) {
            follower.appendAsLeader(TestBatches.batch(1, "v" + i), 1, 1);
        }
        follower.updateHighWatermark(5);
        follower.advanceLogStartOffset(3);
        // After an unclean election the new leader may hold less than this log's start.
        follower.truncateTo(2);
        assertThat(follower.logStartOffset()).isEqualTo(2);
        assertThat(follower.logEndOffset()).isEqualTo(2);
        assertThat(follower.highWatermark()).isEqualTo(2);
        assertThat(follower.latestEpoch()).isEqualTo(-1);
        assertThat(follower.appendAsFollower(numbered(2, 4, "w"), 2, 4).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(3);
    }

    @Test
    void truncationForgetsEpochsAndHighWatermarkCanBeResetBackwards() throws IOException {
        open();
        follower.appendAsLeader(TestBatches.batch(1, "a"), 1, 1);   // 0, epoch 1
        follower.appendAsLeader(TestBatches.batch(1, "b"), 2, 1);   // 1, epoch 2
        follower.appendAsLeader(TestBatches.batch(1, "c"), 2, 1);   // 2, epoch 2
        follower.updateHighWatermark(3);
        follower.truncateTo(1);
        assertThat(follower.logEndOffset()).isEqualTo(1);
        assertThat(follower.latestEpoch()).isEqualTo(1);
        assertThat(follower.endOffsetForEpoch(2)).containsExactly(1, 1);
        assertThat(follower.highWatermark()).isEqualTo(1);
        follower.resetHighWatermark(0);
        assertThat(follower.highWatermark()).isEqualTo(0);
    }

    /** Base offsets of every batch from {@code offset} to the log end, read on from segment to segment as a fetcher does. */
    private static List<Long> batchesFrom(PartitionLog log, long offset) {
        List<Long> offsets = new java.util.ArrayList<>();
        long next = offset;
        while (next < log.logEndOffset()) {
            ByteBuffer bytes = readAll(log, next);
            if (!bytes.hasRemaining()) {
                break;
            }
            RecordBatch view = new RecordBatch();
            for (int pos = bytes.position(); pos < bytes.limit(); pos += view.sizeInBytes()) {
                view.wrap(bytes, pos);
                offsets.add(view.baseOffset());
                next = view.lastOffset() + 1;
            }
        }
        return offsets;
    }

    /** A batch of {@code values} numbered from {@code baseOffset}, as a leader would have stored it. */
    private static ByteBuffer numbered(long baseOffset, int epoch, String... values) {
        ByteBuffer batch = TestBatches.batch(1, values);
        new RecordBatch().wrap(batch, batch.position()).assign(baseOffset, epoch);
        return batch;
    }

    private static ByteBuffer concat(ByteBuffer... batches) {
        int size = 0;
        for (ByteBuffer b : batches) {
            size += b.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(size);
        for (ByteBuffer b : batches) {
            all.put(b.duplicate());
        }
        return all.flip();
    }

    private static final LogConfig COMPACTED = LogTestSupport.config("cleanup.policy", "compact");

    /** Only a follower, of a compacted topic: what the 2^31 tests below copy into. */
    private void openACompactedFollowerAlone() throws IOException {
        leader = null;
        follower = PartitionLog.open(TP, followerDir, COMPACTED, 0, 0);
    }

    /**
     * A compacted follower cut twice inside the same gap: the first cut left its end at 50, past
     * its last batch; the second, to 30, left it there (no batch reaches 30, and the end was not
     * below it), so the follower fetched from 50 and never copied the new leader's records in
     * [30, 50). Found by a review of fix 66.
     */
    @Test
    void aSecondCutInsideTheSameGapMovesTheLogsEndBackToIt() throws IOException {
        openACompactedFollowerAlone();
        assertThat(follower.appendAsFollower(concat(numbered(0, 1, "a"), numbered(100, 1, "b")), 2).ok()).isTrue();
        follower.truncateTo(50);
        assertThat(follower.logEndOffset()).isEqualTo(50);

        follower.truncateTo(30);

        assertThat(follower.logEndOffset()).isEqualTo(30);
        assertThat(follower.appendAsFollower(numbered(30, 3, "c"), 3).ok()).as("the new leader's batch at 30").isTrue();
        assertThat(batchesFrom(follower, 0)).containsExactly(0L, 30L);
    }

    /**
     * A read bounded inside the gap a cut left at a segment's end (the high watermark there) reads
     * the batches before it: the bound found no batch reaching it and the read came back empty.
     */
    @Test
    void aReadBoundedInsideTheGapACutLeftReadsTheBatchesBeforeIt() throws IOException {
        openACompactedFollowerAlone();
        assertThat(follower.appendAsFollower(concat(numbered(0, 1, "a"), numbered(100, 1, "b")), 2).ok()).isTrue();
        follower.truncateTo(50);

        assertThat(LogTestSupport.baseOffsets(LogTestSupport.readBytes(follower, 0, 1 << 20, 40, false))).containsExactly(0L);
    }

    /** The same at the first segment's base: a cut into its empty start left the end at the first cut. */
    @Test
    void aSecondCutAtTheFirstSegmentsBaseMovesTheLogsEndBackToIt() throws IOException {
        openACompactedFollowerAlone();
        assertThat(follower.appendAsFollower(numbered(40, 1, "a"), 2).ok()).isTrue();
        follower.truncateTo(20);
        assertThat(follower.logEndOffset()).isEqualTo(20);

        follower.truncateTo(0);

        assertThat(follower.logEndOffset()).isZero();
        assertThat(follower.appendAsFollower(numbered(5, 3, "b"), 3).ok()).as("the new leader's batch at 5").isTrue();
        assertThat(batchesFrom(follower, 0)).containsExactly(5L);
    }

    /**
     * A producer snapshot written while the log's end lay in a gap (here at a clean close) names an
     * offset past the batches: the log reopens ending at its last batch, and a replay after the
     * next crash started at the snapshot's offset, skipping the batches appended below it again
     * (an idempotent producer's retry of one of them would then be stored twice). Found by a
     * review of fix 66; a power loss that lost an unsynced tail below a roll's snapshot did the same.
     */
    @Test
    void aProducerSnapshotPastTheReloadedEndIsNotReplayedFrom() throws IOException {
        openACompactedFollowerAlone();
        ByteBuffer first = TestBatches.idempotent(7, (short) 0, 0, 1);
        new RecordBatch().wrap(first, first.position()).assign(0, 1);
        assertThat(follower.appendAsFollower(concat(first, numbered(100, 1, "far")), 2).ok()).isTrue();
        follower.truncateTo(50);
        follower.close(); // its snapshot says 50
        follower = PartitionLog.open(TP, followerDir, COMPACTED, Long.MAX_VALUE, 0);
        assertThat(follower.logEndOffset()).isEqualTo(1);

        ByteBuffer second = TestBatches.idempotent(7, (short) 0, 1, 1);
        new RecordBatch().wrap(second, second.position()).assign(1, 1);
        assertThat(follower.appendAsFollower(second, 2).ok()).isTrue();
        follower.halt(); // a kill: no snapshot at close
        follower = PartitionLog.open(TP, followerDir, COMPACTED, 0, 0);

        assertThat(follower.producerStates()).singleElement().extracting(ProducerView::lastSequence).isEqualTo(1);
    }

    /**
     * A follower's roll to a batch past a compacted gap takes its producer snapshot at the new
     * segment's base, the snapshot a truncation inside that segment replays from. It was named
     * after the log's end before the gap, and the next start deleted it as a stray (neither at a
     * segment's base nor the newest). Found by a review of fix 68.
     */
    @Test
    void aRollPastAGapSnapshotsTheProducersAtTheNewSegmentsBase() throws IOException {
        leader = null;
        follower = PartitionLog.open(TP, followerDir, LogTestSupport.config("cleanup.policy", "compact", LogConfig.SEGMENT_BYTES, "1024"), 0, 0);
        long next = 0;
        while (follower.sizeInBytes() < 1024 - 100) { // each batch is under 100 bytes: no roll yet
            assertThat(follower.appendAsFollower(numbered(next, 1, "k" + next), 2).ok()).isTrue();
            next++;
        }
        long base = next + 1000;
        assertThat(follower.appendAsFollower(numbered(base, 1, "x".repeat(200)), 2).ok()).isTrue();
        assertThat(follower.activeSegmentBaseOffset()).as("rolled to the batch past the gap").isEqualTo(base);

        assertThat(ProducerSnapshot.offsets(followerDir)).contains(base);
    }

    /**
     * A follower that starts its log over at the leader's log start, and stops part-way (here the
     * epoch checkpoint cannot be written; a kill there does the same): the discarded log's producer
     * snapshot stayed while its segments were gone, and came back at the next start with the open
     * transaction it held, below the new log start, where no marker would ever end it.
     */
    @Test
    void aFullTruncationCutShortLeavesNoProducerOfTheDiscardedLog() throws IOException {
        leader = null;
        follower = PartitionLog.open(TP, followerDir, LogConfig.defaultConfig(), 0, 0);
        ByteBuffer open = TestBatches.builder().attributes(RecordBatch.TRANSACTIONAL_MASK).producer(9, (short) 0, 0).record(null, "open").build();
        new RecordBatch().wrap(open, open.position()).assign(0, 1);
        assertThat(follower.appendAsFollower(open, 2).ok()).isTrue();
        follower.close(); // its snapshot holds producer 9's open transaction
        follower = PartitionLog.open(TP, followerDir, LogConfig.defaultConfig(), Long.MAX_VALUE, 0);
        java.nio.file.Files.createDirectory(followerDir.resolve(LeaderEpochCache.FILE_NAME + ".tmp")); // the epoch checkpoint's write fails

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> follower.truncateFullyAndStartAt(100)).isInstanceOf(IOException.class);
        follower.halt();
        follower = PartitionLog.open(TP, followerDir, LogConfig.defaultConfig(), 0, 0);

        assertThat(follower.logStartOffset()).isEqualTo(100);
        assertThat(follower.producerStates()).isEmpty();
        assertThat(follower.lastStableOffset()).isEqualTo(follower.logEndOffset());
    }

    /**
     * A segment's indexes hold offsets relative to its base as ints: a compacted leader's batch
     * more than 2^31 offsets on (a few keys updated billions of times) starts a segment of its
     * own, as in Kafka. It went into the same segment and was indexed at a wrapped offset.
     */
    @Test
    void aCompactedLeadersBatchMoreThan2To31OffsetsOnStartsASegmentOfItsOwn() throws IOException {
        openACompactedFollowerAlone();
        long far = 3_000_000_000L;
        AppendResult first = follower.appendAsFollower(concat(numbered(0, 1, "a"), numbered(far, 1, "b"), numbered(far + 5, 1, "c")), 2);
        assertThat(first.error()).isEqualTo(LogError.NONE);
        assertThat(follower.logEndOffset()).as("the far batches are left for the next fetch").isEqualTo(1);
        AppendResult second = follower.appendAsFollower(concat(numbered(far, 1, "b"), numbered(far + 5, 1, "c")), 2);
        assertThat(second.error()).isEqualTo(LogError.NONE);
        assertThat(follower.logEndOffset()).isEqualTo(far + 6);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(far));
        for (int life = 0; life < 2; life++) {
            assertThat(batchesFrom(follower, 0)).as("life %d", life).containsExactly(0L, far, far + 5);
            assertThat(batchesFrom(follower, 1)).containsExactly(far, far + 5);
            assertThat(batchesFrom(follower, far + 1)).containsExactly(far + 5);
            follower.close();
            follower = PartitionLog.open(TP, followerDir, COMPACTED, 0, 0); // the indexes are built again at load
        }
    }

    /**
     * A leader's batch that would end more than 2^31 offsets past its active segment's base rolls
     * too: a follower's segment whose last batch lies just short of that, led now, takes the
     * leader's next batch in a new one.
     */
    @Test
    void aLeadersBatchEndingMoreThan2To31OffsetsPastItsSegmentsBaseStartsANewOne() throws IOException {
        leader = null;
        follower = PartitionLog.open(TP, followerDir, LogTestSupport.config("cleanup.policy", "compact"), 0, 0);
        long nearTheEdge = Integer.MAX_VALUE - 3L;
        assertThat(follower.appendAsFollower(concat(numbered(0, 1, "a"), numbered(nearTheEdge, 1, "b")), 1).error()).isEqualTo(LogError.NONE);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(0));
        ByteBuffer tenRecords = TestBatches.builder().baseTimestamp(0).record("k0", "v").record("k1", "v").record("k2", "v").record("k3", "v")
                .record("k4", "v").record("k5", "v").record("k6", "v").record("k7", "v").record("k8", "v").record("k9", "v").build();
        AppendResult led = follower.appendAsLeader(tenRecords, 2, 0);
        assertThat(led.error()).isEqualTo(LogError.NONE);
        assertThat(led.baseOffset()).isEqualTo(nearTheEdge + 1);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(nearTheEdge + 1));
        assertThat(batchesFrom(follower, 1)).containsExactly(nearTheEdge, nearTheEdge + 1);
    }

    /**
     * An empty segment holds nothing to keep: time retention deletes it once its file is older
     * than retention.ms, as Kafka does (it had no timestamp, and blocked the retention of
     * everything after it for good).
     */
    @Test
    void timeRetentionDeletesAnEmptySegmentLeftBeforeAFarBatch() throws IOException {
        leader = null;
        follower = PartitionLog.open(TP, followerDir, LogTestSupport.config("cleanup.policy", "compact,delete", "retention.ms", "1000"), 0, 0);
        long far = 5_000_000_000L;
        ByteBuffer batch = TestBatches.builder().baseTimestamp(10_000).record("k", "v").build();
        new RecordBatch().wrap(batch, batch.position()).assign(far, 1);
        assertThat(follower.appendAsFollower(batch, 1).error()).isEqualTo(LogError.NONE);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(far));
        java.nio.file.Files.setLastModifiedTime(followerDir.resolve(LogSegment.fileName(0)), java.nio.file.attribute.FileTime.fromMillis(0));
        assertThat(follower.applyRetention(5_000)).as("not before the next segment's base is below the high watermark").isZero();
        follower.updateHighWatermark(far + 1);
        assertThat(follower.applyRetention(5_000)).as("the empty segment aged by its file's time; the batch, stamped 10,000, is young").isEqualTo(1);
        assertThat(follower.logStartOffset()).isEqualTo(far);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(far));
    }

    /** The same when the first batch a new replica copies lies that far past its empty segment. */
    @Test
    void anEmptySegmentMoreThan2To31OffsetsBeforeTheFirstBatchIsLeftForANewOne() throws IOException {
        openACompactedFollowerAlone();
        long far = 5_000_000_000L;
        assertThat(follower.appendAsFollower(concat(numbered(far, 1, "a"), numbered(far + 2, 1, "b")), 2).error()).isEqualTo(LogError.NONE);
        assertThat(follower.logEndOffset()).isEqualTo(far + 3);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(far));
        assertThat(batchesFrom(follower, 0)).as("a read from the log start finds the batches").containsExactly(far, far + 2);
        assertThat(batchesFrom(follower, far + 1)).containsExactly(far + 2);
        follower.close();
        follower = PartitionLog.open(TP, followerDir, COMPACTED, 0, 0);
        assertThat(batchesFrom(follower, 0)).containsExactly(far, far + 2);
        assertThat(follower.logStartOffset()).as("the log start stays").isZero();
    }

    @Test
    void followerAcceptsTheGapsOfACompactedLeaderAndReadsFindTheNextBatch() throws IOException {
        leader = null;
        follower = PartitionLog.open(TP, followerDir, LogTestSupport.config("segment.bytes", "1024", "cleanup.policy", "compact"), 0, 0);
        assertThat(follower.appendAsFollower(numbered(0, 1, "a", "b"), 2).ok()).isTrue();
        // Compaction on the leader dropped the batches of offsets 2-98: the next one starts at 99.
        AppendResult gap = follower.appendAsFollower(concat(numbered(99, 1, "c"), numbered(250, 1, "d", "e")), 2);
        assertThat(gap.error()).as("%s", gap.message()).isEqualTo(LogError.NONE);
        assertThat(follower.logEndOffset()).isEqualTo(252);
        assertThat(LogTestSupport.baseOffsets(readAll(follower, 0))).containsExactly(0L, 99L, 250L);
        assertThat(LogTestSupport.baseOffsets(readAll(follower, 2))).as("a read inside a gap starts at the next batch").containsExactly(99L, 250L);
        assertThat(LogTestSupport.baseOffsets(readAll(follower, 100))).containsExactly(250L);
        assertThat(follower.endOffsetForEpoch(1)).containsExactly(1, 252);

        // Enough gapped batches to roll segments: each new segment is named after its first batch.
        long next = 252;
        for (int i = 0; i < 40; i++) {
            next += 1_000;
            assertThat(follower.appendAsFollower(numbered(next, 1, "value-" + i), 2).ok()).isTrue();
            next += 1;
        }
        assertThat(follower.segmentCount()).isGreaterThan(1);
        for (String name : LogTestSupport.segmentFiles(followerDir)) {
            long base = Long.parseLong(name.substring(0, 20));
            assertThat(base == 0 || LogTestSupport.baseOffsets(readAll(follower, base)).getFirst() == base)
                    .as("segment %s starts with its own first batch", name).isTrue();
        }
        assertThat(follower.appendAsFollower(numbered(next - 1, 1, "overlap"), 3).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(follower.appendAsFollower(concat(numbered(next + 10, 1, "x"), numbered(next + 5, 1, "backwards")), 3).error())
                .as("offsets must grow within a response too").isEqualTo(LogError.OFFSET_OUT_OF_RANGE);

        long end = follower.logEndOffset();
        follower.close();
        follower = PartitionLog.open(TP, followerDir, LogTestSupport.config("segment.bytes", "1024", "cleanup.policy", "compact"), 0, 0);
        assertThat(follower.logEndOffset()).as("a gapped log reopens whole").isEqualTo(end);
        assertThat(LogTestSupport.baseOffsets(readAll(follower, 0))).startsWith(0L, 99L, 250L, 1252L);
    }

    @Test
    void truncateFullyStartsTheLogAtTheLeadersLogStart() throws IOException {
        open();
        follower.appendAsLeader(TestBatches.batch(1, "a", "b"), 1, 1);
        follower.appendAsLeader(TestBatches.batch(1, "c"), 1, 1);
        follower.updateHighWatermark(3);
        follower.truncateFullyAndStartAt(500);
        assertThat(follower.logStartOffset()).isEqualTo(500);
        assertThat(follower.logEndOffset()).isEqualTo(500);
        assertThat(follower.highWatermark()).isEqualTo(500);
        assertThat(follower.latestEpoch()).as("no epoch survives").isEqualTo(-1);
        assertThat(follower.read(0, 1000, 1000, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(follower.appendAsFollower(numbered(500, 2, "d"), 2).ok()).isTrue();
        assertThat(follower.appendAsFollower(numbered(510, 2, "e"), 2).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(511);
        assertThat(LogTestSupport.segmentFiles(followerDir)).containsExactly(LogSegment.fileName(500));

        follower.close();
        follower = PartitionLog.open(TP, followerDir, LogConfig.defaultConfig(), 0, 0);
        assertThat(follower.logStartOffset()).isEqualTo(500);
        assertThat(follower.logEndOffset()).isEqualTo(511);
        assertThat(follower.latestEpoch()).isEqualTo(2);
    }

    @Test
    void anEmptyReplicaStartedInsideABatchTakesThatWholeBatchFromItsBase() throws IOException {
        open();
        // DeleteRecords moved the leader's log start to 102, inside its batch 100..104; a replica
        // below it started over there, and the leader serves the whole batch from 100.
        follower.truncateFullyAndStartAt(102);

        AppendResult result = follower.appendAsFollower(numbered(100, 3, "a", "b", "c", "d", "e"), 2);

        assertThat(result.ok()).as("%s", result.message()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(105);
        assertThat(follower.appendAsFollower(numbered(105, 3, "f"), 2).ok()).isTrue();
        assertThat(follower.logEndOffset()).isEqualTo(106);
        assertThat(follower.advanceLogStartOffset(102)).isZero();
        assertThat(follower.logStartOffset()).as("follows the leader's again").isEqualTo(102);
        assertThat(LogTestSupport.baseOffsets(readAll(follower, 102))).containsExactly(100L, 105L);
        // A log that holds records still refuses a batch that starts below its end.
        assertThat(follower.appendAsFollower(numbered(103, 3, "x", "y", "z", "w"), 2).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
    }

    @Test
    void theLogStartFollowsTheLeadersDeletingWholeSegmentsBelowIt() throws IOException {
        follower = PartitionLog.open(TP, followerDir, LogTestSupport.config("segment.bytes", "1024"), 0, 0);
        for (int i = 0; i < 60; i++) {
            follower.appendAsFollower(numbered(i, 1, "value-" + i), 1);
        }
        int segments = follower.segmentCount();
        assertThat(segments).isGreaterThan(3);
        List<String> files = LogTestSupport.segmentFiles(followerDir);
        long thirdBase = Long.parseLong(files.get(2).substring(0, 20));
        follower.updateHighWatermark(60);
        assertThat(follower.advanceLogStartOffset(thirdBase + 1)).isEqualTo(2);
        assertThat(follower.logStartOffset()).isEqualTo(thirdBase + 1);
        assertThat(LogTestSupport.segmentFiles(followerDir).getFirst()).isEqualTo(files.get(2));
        assertThat(follower.read(thirdBase, 100, 60, true).error()).isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        assertThat(follower.advanceLogStartOffset(5)).as("never backwards").isZero();
        assertThat(follower.logStartOffset()).isEqualTo(thirdBase + 1);
        follower.advanceLogStartOffset(10_000);
        assertThat(follower.logStartOffset()).as("never past the log end").isEqualTo(60);
        assertThat(follower.segmentCount()).as("the active segment stays").isGreaterThanOrEqualTo(1);
    }
}
