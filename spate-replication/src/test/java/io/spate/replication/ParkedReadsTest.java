package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.time.ManualScheduler;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ParkedReads}: the long poll of every reader. A real log on disk; the wait's deadline
 * runs on a {@link ManualScheduler}, so a read that should still be waiting is seen waiting.
 */
class ParkedReadsTest {
    private static final TopicPartition TP = new TopicPartition("clicks", 0);
    private static final long MAX_WAIT_MS = 500;

    @TempDir
    Path dataDir;

    private final ManualScheduler scheduler = new ManualScheduler(1_000);
    private final ParkedReads parked = new ParkedReads(scheduler);
    private LogManager logs;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
    }

    @AfterEach
    void close() {
        logs.close();
    }

    /** Leads with follower 2 in the in-sync set, so the log end and the high watermark can differ. */
    private Partition leader() throws IOException {
        return leader(TP, new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, scheduler));
    }

    private Partition leader(TopicPartition tp, PartitionContext node) throws IOException {
        PartitionLog log = logs.getOrCreate(tp, LogConfig.from(Map.of()));
        Partition partition = new Partition(tp, log, 1, Partition.Role.FOLLOWER, node);
        partition.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), scheduler.millis());
        return partition;
    }

    private static ByteBuffer records(String value) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(0L, null, value.getBytes(StandardCharsets.UTF_8))).buffer();
    }

    private CompletableFuture<Void> park(Partition partition, long offset, ReadBound bound, int minBytes) {
        return parked.park(List.of(new ParkedReads.Position(partition, offset)), bound, minBytes, MAX_WAIT_MS);
    }

    @Test
    void aConsumerWaitsForTheHighWatermarkNotForTheAppend() throws IOException {
        Partition partition = leader();
        CompletableFuture<Void> consumer = park(partition, 0, ReadBound.HIGH_WATERMARK, 1);
        CompletableFuture<Void> follower = park(partition, 0, ReadBound.LOG_END, 1);

        partition.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        assertThat(follower).as("a follower copies what is appended").isDone();
        assertThat(consumer).as("nothing is committed until follower 2 holds it").isNotDone();

        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        assertThat(consumer).isDone();
        assertThat(partition.read(0, 1 << 20, ReadBound.HIGH_WATERMARK, true).sizeInBytes()).isPositive();
        assertThat(partition.parkedReads()).isZero();
    }

    /** Offset 0 is appended and copied by follower 2, whose fetch from 1 moves the high watermark; a fetch from 1 waits. */
    private CompletableFuture<Void> followerWaitingAfterTheHighWatermarkMoved(Partition partition) {
        partition.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        CompletableFuture<Void> follower = park(partition, 1, ReadBound.LOG_END, 1);
        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        return follower;
    }

    @Test
    void aFollowerHearsOfAMovedHighWatermarkWithinTheNoticeWhenNoRecordsCarryIt() throws IOException {
        Partition partition = leader();
        CompletableFuture<Void> follower = followerWaitingAfterTheHighWatermarkMoved(partition);
        assertThat(partition.log().highWatermark()).isEqualTo(1);
        assertThat(follower).as("a moved high watermark alone does not answer the follower at once").isNotDone();

        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS - 1);
        assertThat(follower).isNotDone();
        scheduler.advance(1);
        assertThat(follower).as("nothing else came to carry it").isDone();
    }

    @Test
    void theSoleFollowerWhoseOwnFetchMovedTheHighWatermarkHearsOfItWithinTheNotice() throws IOException {
        Partition partition = leader();
        partition.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        // As a fetch is served: the follower's position moves the high watermark, then, finding
        // nothing past it, the same fetch parks; no fetch of a follower was waiting at the move.
        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        assertThat(partition.log().highWatermark()).isEqualTo(1);
        CompletableFuture<Void> follower = park(partition, 1, ReadBound.LOG_END, 1);
        assertThat(follower).isNotDone();

        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        assertThat(follower).as("told within the notice, not at its fetch wait (" + MAX_WAIT_MS + " ms)").isDone();
    }

    @Test
    void aNodesPartitionsShareOneNoticeTimerAndEachIsToldWithinTwoPeriods() throws IOException {
        PartitionContext node = new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, scheduler);
        Partition first = leader(TP, node);
        Partition second = leader(new TopicPartition("clicks", 1), node);
        CompletableFuture<Void> firstFollower = followerWaitingAfterTheHighWatermarkMoved(first);
        int timers = scheduler.pending();
        scheduler.advance(3);
        CompletableFuture<Void> secondFollower = followerWaitingAfterTheHighWatermarkMoved(second);
        assertThat(scheduler.pending()).as("the second partition adds its parked fetch's deadline, no notice timer").isEqualTo(timers + 1);
        assertThat(node.notices().waiting()).isEqualTo(2);

        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS - 3);
        assertThat(firstFollower).as("a period after its records went").isDone();
        assertThat(secondFollower).as("its records went to the followers 7 ms ago: the next tick tells it").isNotDone();
        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        assertThat(secondFollower).isDone();
        assertThat(node.notices().waiting()).isZero();

        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        long ran = scheduler.tasksRun();
        scheduler.advance(20 * Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        assertThat(scheduler.tasksRun()).as("with nothing waiting the timer is not armed").isEqualTo(ran);
    }

    @Test
    void recordsThatGoToTheFollowersCarryTheHighWatermarkAndSpareTheNotice() throws IOException {
        Partition partition = leader();
        CompletableFuture<Void> follower = followerWaitingAfterTheHighWatermarkMoved(partition);
        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS / 2);

        partition.append(records("b"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        assertThat(follower).as("woken by the records, whose answer carries high watermark 1").isDone();
        CompletableFuture<Void> next = park(partition, 2, ReadBound.LOG_END, 1);
        scheduler.advance(4 * Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        assertThat(next).as("the high watermark has not moved since the records went").isNotDone();

        partition.onFollowerFetch(2, 2, scheduler.millis(), "");
        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        assertThat(next).isDone();
    }

    @Test
    void aReadThatFindsNothingCompletesAtItsDeadlineAndLeavesNothingParked() throws IOException {
        Partition partition = leader();
        CompletableFuture<Void> read = park(partition, 0, ReadBound.LOG_END, 1);

        scheduler.advance(MAX_WAIT_MS - 1);
        assertThat(read).isNotDone();
        scheduler.advance(1);

        assertThat(read).isCompleted();
        assertThat(partition.parkedReads()).isZero();
        assertThat(scheduler.pending()).isZero();
    }

    @Test
    void aReaderThatKeepsItsOwnDeadlineSetsNoTimerAndWithdrawsWhenItStopsWaiting() throws IOException {
        Partition partition = leader();
        List<ParkedReads.Position> at = List.of(new ParkedReads.Position(partition, 0));

        CompletableFuture<Void> woken = parked.parkUntilWoken(at, ReadBound.LOG_END, 1);
        assertThat(scheduler.pending()).as("no deadline on the node's scheduler").isZero();
        assertThat(partition.parkedReads()).isEqualTo(1);
        partition.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        assertThat(woken).as("woken by the append").isCompleted();
        assertThat(partition.parkedReads()).isZero();

        CompletableFuture<Void> givenUp = parked.parkUntilWoken(List.of(new ParkedReads.Position(partition, 1)), ReadBound.LOG_END, 1);
        assertThat(partition.parkedReads()).isEqualTo(1);
        givenUp.complete(null); // the reader's own timeout
        assertThat(partition.parkedReads()).as("withdrawn, not left for the next append").isZero();

        CompletableFuture<Void> alreadyThere = parked.parkUntilWoken(at, ReadBound.LOG_END, 1);
        assertThat(alreadyThere).as("data past the position wakes it at once").isCompleted();
        assertThat(partition.parkedReads()).isZero();
    }

    @Test
    void dataAlreadyPastThePositionWakesTheReadAtOnce() throws IOException {
        Partition partition = leader();
        partition.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());

        assertThat(park(partition, 0, ReadBound.LOG_END, Integer.MAX_VALUE))
                .as("appended between the reader's first read and its parking").isDone();
        assertThat(park(partition, 1, ReadBound.LOG_END, 1)).as("nothing past offset 1 yet").isNotDone();
        assertThat(scheduler.pending()).as("the woken read cancelled its deadline").isEqualTo(1);
    }

    @Test
    void aReadWaitsUntilItsMinimumHasBeenAppendedAcrossItsPartitions() throws IOException {
        Partition first = leader();
        PartitionLog otherLog = logs.getOrCreate(new TopicPartition("clicks", 1), LogConfig.from(Map.of()));
        Partition second = new Partition(new TopicPartition("clicks", 1), otherLog, 1, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, scheduler));
        second.becomeLeader(0, 0, List.of(1), List.of(1), scheduler.millis());
        int oneBatch = records("a").remaining();
        CompletableFuture<Void> read = parked.park(List.of(new ParkedReads.Position(first, 0), new ParkedReads.Position(second, 0)),
                ReadBound.LOG_END, oneBatch * 2, MAX_WAIT_MS);

        first.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        assertThat(read).as("one batch of the two asked for").isNotDone();
        second.append(records("b"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());

        assertThat(read).isDone();
        assertThat(first.parkedReads() + second.parkedReads()).isZero();
    }

    @Test
    void aConsumerThatFoundTooLittleWaitsForItsMinimumOfCommittedBytes() throws IOException {
        Partition partition = leader();
        int oneBatch = records("a").remaining();
        partition.append(records("a"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        // It read the one committed batch and asks for three: data past its position does not wake it.
        CompletableFuture<Void> read = parked.park(List.of(new ParkedReads.Position(partition, 0)), ReadBound.HIGH_WATERMARK,
                3 * oneBatch, oneBatch, MAX_WAIT_MS, scheduler);
        assertThat(read).isNotDone();

        partition.append(records("b"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        partition.append(records("c"), Acks.LEADER, MAX_WAIT_MS, scheduler.millis());
        assertThat(read).as("appended, not committed: follower 2 has not copied them").isNotDone();
        partition.onFollowerFetch(2, 2, scheduler.millis(), "");
        assertThat(read).as("two committed batches of three").isNotDone();
        partition.onFollowerFetch(2, 3, scheduler.millis(), "");

        assertThat(read).isDone();
        assertThat(partition.parkedReads()).isZero();
    }
}
