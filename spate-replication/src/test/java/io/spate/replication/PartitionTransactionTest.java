package io.spate.replication;

import io.spate.log.AbortedTxn;
import io.spate.log.LogConfig;
import io.spate.log.LogError;
import io.spate.log.LogManager;
import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.record.ControlBatches;
import io.spate.record.RecordBatch;
import io.spate.record.RecordBatchBuilder;
import io.spate.time.ManualScheduler;
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
 * Transactions on a replicated partition: markers written as leader with acks=all
 * ({@link Partition#appendControl}), and read_committed readers, who wait on the last stable
 * offset, not on appends or the high watermark. A real log on disk; deadlines on a
 * {@link ManualScheduler}.
 */
class PartitionTransactionTest {
    private static final TopicPartition TP = new TopicPartition("transfers", 0);
    private static final long PID = 31;
    private static final short EPOCH = 0;
    private static final long WAIT_MS = 2_000;

    @TempDir
    Path dataDir;

    private final ManualScheduler scheduler = new ManualScheduler(1_000);
    private final ParkedReads parked = new ParkedReads(scheduler);
    private boolean leaseHeld = true;
    private LogManager logs;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
    }

    @AfterEach
    void close() {
        logs.close();
    }

    private Partition partition() throws IOException {
        PartitionLog log = logs.getOrCreate(TP, LogConfig.from(Map.of()));
        return new Partition(TP, log, 1, Partition.Role.FOLLOWER, new PartitionContext(GroupCommit.IN_PLACE, () -> leaseHeld, scheduler));
    }

    /** Leads with follower 2 in the in-sync set, so the high watermark waits for it. */
    private Partition leader() throws IOException {
        Partition partition = partition();
        partition.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), scheduler.millis());
        return partition;
    }

    private ByteBuffer transactional(int sequence, String value) {
        return new RecordBatchBuilder(scheduler.millis()).producer(PID, EPOCH, sequence).attributes(true, false)
                .append(scheduler.millis(), ByteBuffer.wrap("k".getBytes(StandardCharsets.UTF_8)), ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    private CompletableFuture<Void> park(Partition partition, ReadBound bound) {
        return parked.park(List.of(new ParkedReads.Position(partition, 0)), bound, 1, WAIT_MS);
    }

    @Test
    void aReadCommittedReadParkedBehindAnOpenTransactionWakesWhenItsMarkerIsReplicatedAndNotBefore() throws IOException {
        Partition partition = leader();
        assertThat(partition.append(transactional(0, "debit"), Acks.LEADER, WAIT_MS, scheduler.millis()).join().ok()).isTrue();
        CompletableFuture<Void> committedReader = park(partition, ReadBound.LAST_STABLE);
        CompletableFuture<Void> uncommittedReader = park(partition, ReadBound.HIGH_WATERMARK);

        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        assertThat(uncommittedReader).as("the high watermark passed the transaction's data").isDone();
        assertThat(committedReader).as("the transaction is open: nothing more is stable").isNotDone();
        assertThat(partition.lastStableOffset()).isZero();

        CompletableFuture<Written> marker = partition.appendControl(PID, EPOCH, 0, true, WAIT_MS, scheduler.millis());
        assertThat(marker).as("acks=all: follower 2 does not hold the marker yet").isNotDone();
        assertThat(committedReader).as("decided, but not replicated").isNotDone();

        partition.onFollowerFetch(2, 2, scheduler.millis(), "");

        assertThat(committedReader).isDone();
        assertThat(marker.join().ok()).isTrue();
        assertThat(marker.join().baseOffset()).isEqualTo(1);
        assertThat(partition.lastStableOffset()).isEqualTo(2);
        LogReadResult read = partition.read(0, 1 << 20, ReadBound.LAST_STABLE, true);
        try {
            assertThat(read.sizeInBytes()).isPositive();
            assertThat(read.lastStableOffset()).isEqualTo(2);
            assertThat(read.abortedTransactions()).isEmpty();
        } finally {
            read.slice().release();
        }
        assertThat(partition.parkedReads()).isZero();
    }

    @Test
    void aReadCommittedReadGetsTheAbortedTransactionsOfWhatItRead() throws IOException {
        Partition partition = leader();
        partition.append(transactional(0, "debit"), Acks.LEADER, WAIT_MS, scheduler.millis());
        CompletableFuture<Written> marker = partition.appendControl(PID, EPOCH, 0, false, WAIT_MS, scheduler.millis());
        partition.onFollowerFetch(2, 2, scheduler.millis(), "");
        assertThat(marker.join().ok()).isTrue();

        LogReadResult read = partition.read(0, 1 << 20, ReadBound.LAST_STABLE, true);
        try {
            assertThat(read.abortedTransactions()).containsExactly(new AbortedTxn(PID, 0, 1, 2));
        } finally {
            read.slice().release();
        }
    }

    @Test
    void aMarkerTheLogRefusesIsAnsweredAtOnceWithTheLogsReason() throws IOException {
        Partition partition = leader();
        partition.append(transactional(0, "debit"), Acks.LEADER, WAIT_MS, scheduler.millis());
        partition.appendControl(PID, EPOCH, 4, false, WAIT_MS, scheduler.millis());

        Written olderCoordinator = partition.appendControl(PID, EPOCH, 3, true, WAIT_MS, scheduler.millis()).join();

        assertThat(olderCoordinator.error()).isEqualTo(WriteError.REFUSED);
        assertThat(olderCoordinator.logError()).isEqualTo(LogError.TRANSACTION_COORDINATOR_FENCED);
        assertThat(partition.log().logEndOffset()).isEqualTo(2);
    }

    @Test
    void onlyALeaderUnderItsLeaseWritesMarkers() throws IOException {
        Partition follower = partition();
        follower.becomeFollower(1, 1, 2, List.of(1, 2), List.of(1, 2));
        assertThat(follower.appendControl(PID, EPOCH, 0, true, WAIT_MS, scheduler.millis()).join().error()).isEqualTo(WriteError.NOT_LEADER);

        follower.becomeLeader(2, 2, List.of(1, 2), List.of(1, 2), scheduler.millis());
        leaseHeld = false;
        assertThat(follower.appendControl(PID, EPOCH, 0, true, WAIT_MS, scheduler.millis()).join().error()).isEqualTo(WriteError.NOT_LEADER);
        assertThat(follower.log().logEndOffset()).isZero();
    }

    @Test
    void aFollowersReadCommittedReaderWakesWhenTheLeadersHighWatermarkPassesTheMarker() throws IOException {
        Partition follower = partition();
        follower.becomeFollower(1, 1, 2, List.of(1, 2), List.of(1, 2));
        ByteBuffer data = transactional(0, "debit");
        RecordBatch.of(data).assign(0, 1);
        ByteBuffer marker = ControlBatches.endTxnMarker(PID, EPOCH, 0, true, scheduler.millis());
        RecordBatch.of(marker).assign(1, 1);
        ByteBuffer both = ByteBuffer.allocate(data.remaining() + marker.remaining()).put(data).put(marker).flip();
        CompletableFuture<Void> committedReader = park(follower, ReadBound.LAST_STABLE);

        assertThat(follower.appendAsFollower(both, 1, scheduler.millis(), 1).ok()).isTrue();
        assertThat(committedReader).as("the leader's high watermark has not passed the marker").isNotDone();
        assertThat(follower.lastStableOffset()).isZero();

        follower.appendAsFollower(ByteBuffer.allocate(0), 2, scheduler.millis(), 1);

        assertThat(committedReader).isDone();
        assertThat(follower.lastStableOffset()).isEqualTo(2);
    }
}
