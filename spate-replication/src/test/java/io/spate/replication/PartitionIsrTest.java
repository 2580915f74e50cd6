package io.spate.replication;

import io.spate.log.AppendResult;
import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The leader's side of the in-sync set and acks=all, on one partition with a real log and the
 * time passed in: the high watermark counts the larger ("maximal") in-sync set while a change's
 * outcome is unknown, and a write is never acknowledged by a leadership other than its own.
 */
class PartitionIsrTest {
    private static final TopicPartition TP = new TopicPartition("orders", 0);
    private static final int LEADER = 1;

    @TempDir
    Path dataDir;

    private LogManager logs;
    private Partition partition;
    private long now = 1_000;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        partition = new Partition(TP, logs.getOrCreate(TP, LogConfig.defaultConfig()), LEADER, Partition.Role.FOLLOWER);
        partition.becomeLeader(1, 1, List.of(1, 2, 3), List.of(1, 2), now);
    }

    @AfterEach
    void close() {
        logs.close();
    }

    private static ByteBuffer records(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(now(), null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    private static long now() {
        return 1_000;
    }

    private long append(String... values) {
        AppendResult result = partition.appendAsLeader(records(values), now);
        assertThat(result.ok()).isTrue();
        return result.nextOffset();
    }

    /** Replica 3 catches up and its joining is asked for; returns the proposal. */
    private List<Integer> replica3CatchesUpAndAsksToJoin() {
        partition.onFollowerFetch(2, partition.log().logEndOffset(), now, "");
        List<Integer> proposal = partition.onFollowerFetch(3, partition.log().logEndOffset(), now, "");
        assertThat(proposal).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(partition.beginIsrChange(proposal)).isTrue();
        return proposal;
    }

    /** A follower fetching beyond the leader's log end vouches for nothing: no joining, no high watermark (found by review on 2026-12-08). */
    @Test
    void aFetchBeyondTheLogEndCountsForNothing() {
        long end = append("a");
        partition.onFollowerFetch(2, 0, now, "");

        assertThat(partition.onFollowerFetch(3, end + 100, now, "")).isNull();
        partition.onFollowerFetch(2, end, now, "");
        assertThat(partition.onFollowerFetch(3, end + 100, now, "")).isNull();

        assertThat(partition.log().highWatermark()).isEqualTo(end);
        assertThat(partition.onFollowerFetch(3, end, now, "")).as("once it holds what the leader holds").containsExactly(1, 2, 3);
    }

    /**
     * A joiner proposed when it caught up, whose proposal is begun only after writes acknowledged
     * without it moved the high watermark past it, is not asked for: committed into the in-sync
     * set, it could be elected without those writes (found by review on 2026-12-08).
     */
    @Test
    void aJoinerTheHighWatermarkPassedBeforeItsChangeBeganIsNotAskedFor() {
        long end = append("a");
        partition.onFollowerFetch(2, end, now, "");
        List<Integer> proposal = partition.onFollowerFetch(3, end, now, "");
        assertThat(proposal).containsExactly(1, 2, 3);

        long later = append("b", "c");
        partition.onFollowerFetch(2, later, now, "");
        assertThat(partition.log().highWatermark()).as("acknowledged by 1 and 2").isEqualTo(later);

        assertThat(partition.beginIsrChange(proposal)).isFalse();
        assertThat(partition.onFollowerFetch(3, later, now, "")).as("caught up again").containsExactly(1, 2, 3);
        assertThat(partition.beginIsrChange(List.of(1, 2, 3))).isTrue();
    }

    /**
     * A follower that catches up goes back to its place in the replica list, not to the end of the
     * in-sync set: a fail-over elects the first live in-sync replica, and two partitions placed
     * together (a pipeline's input and its output) must elect the same node, whatever order
     * their followers caught up in.
     */
    @Test
    void aFollowerJoinsTheInSyncSetInReplicaOrder() {
        partition.becomeLeader(2, 2, List.of(3, 1, 2), List.of(1), now);
        long end = append("a");
        List<Integer> withReplica2 = partition.onFollowerFetch(2, end, now, "");
        assertThat(withReplica2).containsExactly(1, 2);
        partition.becomeLeader(2, 3, List.of(3, 1, 2), withReplica2, now);
        assertThat(partition.onFollowerFetch(3, end, now, "")).as("3 leads the replica list").containsExactly(3, 1, 2);
    }

    /**
     * A new leadership's high watermark trails the log end it took over with until its followers
     * report: a reader that wants everything committed (a pipeline task restoring its store)
     * must wait for it rather than stop at the high watermark it finds.
     */
    @Test
    void aNewLeadershipIsCaughtUpOnceItsFollowersReachTheLogEndItTookOverWith() {
        long end = append("a", "b");
        assertThat(partition.log().highWatermark()).isZero();
        partition.becomeLeader(2, 2, List.of(1, 2, 3), List.of(1, 2), now);
        assertThat(partition.caughtUpToEpochStart()).isFalse();
        partition.onFollowerFetch(2, end - 1, now, "");
        assertThat(partition.caughtUpToEpochStart()).isFalse();
        partition.onFollowerFetch(2, end, now, "");
        assertThat(partition.log().highWatermark()).isEqualTo(end);
        assertThat(partition.caughtUpToEpochStart()).isTrue();
    }

    /**
     * A review found the window: a proposal is worked out under the read lock and begun under the
     * write lock, and an image may land in between. Sent with the image's partition epoch, a
     * proposal from the older in-sync set would put back the replica the image just dropped.
     */
    @Test
    void aProposalWorkedOutFromAnInSyncSetThatAnImageReplacedIsNotBegun() {
        long end = append("a", "b");
        partition.onFollowerFetch(2, end, now, "");
        List<Integer> stale = partition.onFollowerFetch(3, end, now, "");
        assertThat(stale).containsExactlyInAnyOrder(1, 2, 3);
        // The image lands: the controller dropped replica 2 (lagging), at partition epoch 2.
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        assertThat(partition.beginIsrChange(stale)).as("would put 2 back").isFalse();
        assertThat(partition.maximalIsr()).containsExactly(1);
        // From the current set, one replica at a time, as before.
        assertThat(partition.beginIsrChange(List.of(1, 3))).isTrue();
        partition.endIsrChange(List.of(1, 3), 2, Partition.IsrChangeOutcome.REFUSED);
        // A stale shrink is let through: dropping a replica is the safe direction.
        assertThat(partition.beginIsrChange(List.of(1))).isTrue();
    }

    /**
     * Fault campaigns, seed 622: a join was asked of a controller that was paused a moment later;
     * the next controller fenced a follower, and the image left the leader alone in its in-sync
     * set. The join in flight, asked at the older partition epoch, can only be refused: the
     * replica that caught up is asked for again at once, not once the paused controller answers.
     */
    @Test
    void aChangeInFlightAtAnOlderPartitionEpochDoesNotHoldUpTheNext() {
        append("a", "b");
        List<Integer> first = replica3CatchesUpAndAsksToJoin();
        // The next controller fences replica 2: partition epoch 2, the leader alone.
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        assertThat(partition.maximalIsr()).containsExactly(1);
        List<Integer> again = partition.onFollowerFetch(3, partition.log().logEndOffset(), now, "");
        assertThat(again).containsExactlyInAnyOrder(1, 3);
        assertThat(partition.beginIsrChangeAt(again)).isEqualTo(2);
        // The paused controller's answer to the first comes at last: it ends only the first.
        partition.endIsrChange(first, 1, Partition.IsrChangeOutcome.REFUSED);
        assertThat(partition.beginIsrChange(List.of(1, 2, 3))).as("the second is still in flight").isFalse();
        assertThat(partition.maximalIsr()).containsExactly(1, 3);
        partition.endIsrChange(again, 2, Partition.IsrChangeOutcome.COMMITTED);
        partition.becomeLeader(1, 3, List.of(1, 2, 3), List.of(1, 3), now);
        assertThat(partition.maximalIsr()).containsExactly(1, 3);
    }

    @Test
    void aJoinWhoseOutcomeIsUnknownKeepsCountingForTheHighWatermarkAndIsSentAgain() {
        append("a", "b");
        List<Integer> proposal = replica3CatchesUpAndAsksToJoin();
        long replica3End = partition.log().logEndOffset();

        partition.endIsrChange(proposal, 1, Partition.IsrChangeOutcome.UNKNOWN);
        long end = append("c");
        partition.onFollowerFetch(2, end, now, "");
        // The controller may have committed the join and may elect replica 3, which lacks "c".
        assertThat(partition.log().highWatermark()).isEqualTo(replica3End);
        assertThat(partition.maximalIsr()).containsExactly(1, 2, 3);
        assertThat(partition.isrChangeToRetry()).isEqualTo(proposal);

        // Sent again, still no answer: still counted.
        assertThat(partition.beginIsrChange(proposal)).isTrue();
        assertThat(partition.isrChangeToRetry()).as("not while in flight").isNull();
        partition.endIsrChange(proposal, 1, Partition.IsrChangeOutcome.UNKNOWN);
        assertThat(partition.log().highWatermark()).isEqualTo(replica3End);

        // The metadata settles it: the join was committed (partition epoch 2).
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1, 2, 3), now);
        assertThat(partition.isrChangeToRetry()).isNull();
        partition.onFollowerFetch(3, end, now, "");
        assertThat(partition.log().highWatermark()).isEqualTo(end);
    }

    @Test
    void aKnownRefusalStopsCountingTheReplicaItWouldHaveAdded() {
        append("a", "b");
        List<Integer> proposal = replica3CatchesUpAndAsksToJoin();
        long replica3End = partition.log().logEndOffset();
        long end = append("c");
        partition.onFollowerFetch(2, end, now, "");
        assertThat(partition.log().highWatermark()).as("in flight: counted").isEqualTo(replica3End);

        partition.endIsrChange(proposal, 1, Partition.IsrChangeOutcome.REFUSED);
        assertThat(partition.log().highWatermark()).isEqualTo(end);
        assertThat(partition.maximalIsr()).containsExactly(1, 2);
        assertThat(partition.isrChangeToRetry()).isNull();
    }

    @Test
    void aNewerPartitionEpochSettlesAnUnknownJoinThatWasNotCommitted() {
        append("a");
        List<Integer> proposal = replica3CatchesUpAndAsksToJoin();
        partition.endIsrChange(proposal, 1, Partition.IsrChangeOutcome.UNKNOWN);
        // Another change (here replica 2 leaving) was committed at the epoch the join named: the join can never commit now.
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        assertThat(partition.maximalIsr()).containsExactly(1);
        assertThat(partition.isrChangeToRetry()).isNull();
        long end = append("b");
        assertThat(partition.log().highWatermark()).isEqualTo(end);
        // A late answer to the old proposal changes nothing.
        partition.endIsrChange(proposal, 1, Partition.IsrChangeOutcome.REFUSED);
        assertThat(partition.maximalIsr()).containsExactly(1);
    }

    @Test
    void aShrinkKeepsTheLargerSetUntilTheMetadataCarriesIt() {
        long end = append("a");
        partition.onFollowerFetch(2, end, now, "");
        long later = append("b");
        now += 20_000;
        List<Integer> shrunk = partition.laggingIsr(now, 10_000);
        assertThat(shrunk).containsExactly(1);
        assertThat(partition.beginIsrChange(shrunk)).isTrue();
        partition.endIsrChange(shrunk, 1, Partition.IsrChangeOutcome.UNKNOWN);
        assertThat(partition.log().highWatermark()).as("replica 2 still counts").isEqualTo(end);
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        assertThat(partition.log().highWatermark()).isEqualTo(later);
    }

    @Test
    void acksAllIsNeverCompletedByALeadershipThatEnded() {
        long end = append("a");
        CompletableFuture<Void> waiting = partition.awaitReplication(end, 1, 1);
        partition.becomeFollower(2, 2, 2, List.of(1, 2, 3), List.of(2, 3));
        assertThatThrownBy(waiting::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(Partition.ReplicationException.class);

        // The write's response is built late, after this replica became a follower and learned a
        // high watermark from the new leader that covers the offset: still not acknowledged here.
        partition.appendAsFollower(ByteBuffer.allocate(0), end + 10, now, 2);
        CompletableFuture<Void> late = partition.awaitReplication(end, 1, 1);
        assertThatThrownBy(late::get).hasCauseInstanceOf(Partition.ReplicationException.class);

        // Leading again at a later epoch: the old write may have been truncated and its offset reused.
        partition.becomeLeader(3, 3, List.of(1, 2, 3), List.of(1), now);
        CompletableFuture<Void> afterReturn = partition.awaitReplication(end, 1, 1);
        assertThatThrownBy(afterReturn::get).hasCauseInstanceOf(Partition.ReplicationException.class);

        long next = append("b");
        assertThat(partition.awaitReplication(next, 1, 3)).as("a write of the current leadership completes").isCompleted();
    }

    @Test
    void theHighWatermarkStandsStillWhileTheInSyncSetIsBelowMinInsync() throws IOException {
        TopicPartition tp = new TopicPartition("strict", 0);
        Partition strict = new Partition(tp, logs.getOrCreate(tp, LogConfig.from(Map.of("min.insync.replicas", "2"))), LEADER, Partition.Role.FOLLOWER);
        strict.becomeLeader(1, 1, List.of(1, 2, 3), List.of(1, 2), now);
        AppendResult first = strict.appendAsLeader(records("a"), now);
        strict.onFollowerFetch(2, first.nextOffset(), now, "");
        assertThat(strict.log().highWatermark()).isEqualTo(first.nextOffset());
        // Replica 2 left (the controller committed it): what only the leader holds is not committed,
        // so replica 2 still holds everything that is and may lead after it (KIP-966).
        strict.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        AppendResult second = strict.appendAsLeader(records("b"), now);
        strict.maybeAdvanceHighWatermark();
        assertThat(strict.log().highWatermark()).isEqualTo(first.nextOffset());
        // Replica 3 catches up and asks to join: until the controller commits it, nothing moves
        // (were the join lost, replica 2, eligible, would lead without "b").
        List<Integer> proposal = strict.onFollowerFetch(3, second.nextOffset(), now, "");
        assertThat(proposal).containsExactlyInAnyOrder(1, 3);
        assertThat(strict.beginIsrChange(proposal)).isTrue();
        strict.maybeAdvanceHighWatermark();
        assertThat(strict.log().highWatermark()).isEqualTo(first.nextOffset());
        strict.becomeLeader(1, 3, List.of(1, 2, 3), List.of(1, 3), now);
        assertThat(strict.log().highWatermark()).isEqualTo(second.nextOffset());
        // With the default of 1, a lone leader commits what it holds.
        long end = append("c");
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        assertThat(partition.log().highWatermark()).isEqualTo(end);
    }

    /**
     * A write whose request timed out stops waiting at once. A review found the timed-out futures
     * kept until the high watermark passed them: a partition stuck below min.insync.replicas held
     * one per retried request for as long as it stayed stuck.
     */
    @Test
    void aWriteThatGaveUpWaitingLeavesNothingBehind() throws Exception {
        long end = append("a");
        CompletableFuture<Void> patient = partition.awaitReplication(end, 1, 1);
        CompletableFuture<Void> hasty = partition.awaitReplication(end, 1, 1, 20);
        assertThat(partition.waitingAcks()).isEqualTo(2);
        assertThatThrownBy(() -> hasty.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .hasCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> partition.waitingAcks() == 1);
        assertThat(patient).isNotDone();
        partition.onFollowerFetch(2, end, now, "");
        assertThat(patient).isCompleted();
        assertThat(partition.waitingAcks()).isZero();
    }

    @Test
    void aWriteAnsweredAfterTheInSyncSetShrankBelowItsMinimumIsRefused() throws Exception {
        long end = append("a");
        CompletableFuture<Void> needsTwo = partition.awaitReplication(end, 2, 1);
        // Replica 2 leaves before it fetched "a": the leader alone now makes the high watermark.
        partition.becomeLeader(1, 2, List.of(1, 2, 3), List.of(1), now);
        assertThatThrownBy(() -> needsTwo.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .hasCauseInstanceOf(Partition.ReplicationException.class)
                .hasMessageContaining("min.insync.replicas=2");
        assertThat(((Partition.ReplicationException) catchThrowable(needsTwo::join).getCause()).reason())
                .isEqualTo(Partition.ReplicationException.Reason.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    }

    @Test
    void aCaughtUpFollowerThatMayNotJoinIsNotAskedFor() {
        long end = append("a");
        partition.onFollowerFetch(2, end, now, "");
        assertThat(partition.onFollowerFetch(3, end, now, "", false)).as("fenced in this leader's metadata").isNull();
        assertThat(partition.maximalIsr()).containsExactly(1, 2);
        assertThat(partition.onFollowerFetch(3, end, now, "", true)).containsExactlyInAnyOrder(1, 2, 3);
    }

    /** DeleteRecords answers with Kafka's low watermark: once the in-sync followers' log start reached the offset, not before. */
    @Test
    void theLowWatermarkWaitsForTheInSyncFollowersLogStartAndFailsWhenLeadershipMoves() throws Exception {
        append("a", "b", "c", "d");
        partition.onFollowerFetch(2, partition.log().logEndOffset(), 0, now, "", true);
        assertThat(partition.log().highWatermark()).isEqualTo(4);
        partition.log().deleteRecordsBefore(2);

        CompletableFuture<Long> low = partition.awaitLowWatermark(2, 600_000);
        assertThat(partition.lowWatermark()).as("follower 2 still starts at 0").isZero();
        assertThat(low).isNotDone();
        partition.onFollowerFetch(2, partition.log().logEndOffset(), -1, now, "", true);
        assertThat(low).as("a fetch that does not tell its log start changes nothing").isNotDone();
        partition.onFollowerFetch(2, partition.log().logEndOffset(), 2, now, "", true);
        assertThat(low).isCompletedWithValue(2L);
        assertThat(partition.awaitLowWatermark(1, 600_000)).as("already reached").isCompletedWithValue(2L);

        partition.log().deleteRecordsBefore(3);
        CompletableFuture<Long> later = partition.awaitLowWatermark(3, 600_000);
        partition.becomeFollower(2, 2, 2, List.of(1, 2, 3), List.of(1, 2));
        assertThat(later).isCompletedExceptionally();
        assertThat(catchThrowable(later::get)).hasCauseInstanceOf(Partition.ReplicationException.class);
    }
}
