package io.spate.log;

import io.spate.record.TestBatches;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

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
    void followerAppendRefusesAGapAnOverlapOrACorruptBatch() throws IOException {
        open();
        leader.appendAsLeader(TestBatches.batch(1, "a"), 0, 1);
        leader.appendAsLeader(TestBatches.batch(1, "b"), 0, 1);
        ByteBuffer second = readAll(leader, 1);
        assertThat(follower.appendAsFollower(second, 2).error()).as("a gap").isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        follower.appendAsFollower(readAll(leader, 0), 2);
        assertThat(follower.appendAsFollower(readAll(leader, 0), 3).error()).as("an overlap").isEqualTo(LogError.OFFSET_OUT_OF_RANGE);
        leader.appendAsLeader(TestBatches.batch(1, "c"), 0, 1);
        ByteBuffer third = readAll(leader, 2);
        third.put(third.limit() - 1, (byte) (third.get(third.limit() - 1) ^ 1));
        assertThat(follower.appendAsFollower(third, 4).error()).isEqualTo(LogError.CORRUPT_MESSAGE);
        assertThat(follower.logEndOffset()).isEqualTo(2);
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
}
