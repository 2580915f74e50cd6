package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogError;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Partition#append}, the one write path (produce, offset commits, and every later tier):
 * role and lease, min.insync.replicas, the log's own refusals, the topic's flush policy and the
 * wait for the in-sync replicas with its deadline. A real log on disk; time and the deadline
 * timer are a {@link ManualScheduler}, so nothing here waits on the wall clock.
 */
class PartitionAppendTest {
    private static final TopicPartition TP = new TopicPartition("payments", 0);
    private static final int LEADER = 1;
    private static final long WAIT_MS = 2_000;

    @TempDir
    Path dataDir;

    private final ManualScheduler scheduler = new ManualScheduler(1_000);
    private final List<CompletableFuture<Void>> fsyncs = new ArrayList<>();
    private boolean leaseHeld = true;
    private LogManager logs;

    /** Flushes are answered by the test: queued here, completed (or failed) when it says. */
    private final GroupCommit heldGroupCommit = (log, nowMs) -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        fsyncs.add(done);
        return done;
    };

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
    }

    @AfterEach
    void close() {
        logs.close();
    }

    private Partition leader(Map<String, String> config, List<Integer> isr) throws IOException {
        PartitionLog log = logs.getOrCreate(TP, LogConfig.from(config));
        Partition partition = new Partition(TP, log, LEADER, Partition.Role.FOLLOWER,
                new PartitionContext(heldGroupCommit, () -> leaseHeld, scheduler));
        partition.becomeLeader(3, 1, List.of(1, 2, 3), isr, scheduler.millis());
        return partition;
    }

    private ByteBuffer records(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(scheduler.millis(), null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    private CompletableFuture<Written> write(Partition partition, Acks acks, String... values) {
        return partition.append(records(values), acks, WAIT_MS, scheduler.millis());
    }

    @Test
    void acksAllIsAnsweredWhenEveryInSyncFollowerHoldsTheRecordsAndNotBefore() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        CompletableFuture<Written> written = write(partition, Acks.ALL, "a", "b");
        assertThat(written).as("follower 2 has not fetched yet").isNotDone();

        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        assertThat(written).as("follower 2 holds only the first record").isNotDone();

        partition.onFollowerFetch(2, 2, scheduler.millis(), "");
        assertThat(written.join().ok()).isTrue();
        assertThat(written.join().baseOffset()).isZero();
        assertThat(partition.waitingAcks()).isZero();
    }

    @Test
    void acksOneIsAnsweredOnceAppendedWithoutWaitingForFollowers() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        write(partition, Acks.LEADER, "a");
        Written second = write(partition, Acks.LEADER, "b").join();
        assertThat(second.ok()).isTrue();
        assertThat(second.baseOffset()).isEqualTo(1);
        assertThat(partition.log().highWatermark()).as("nothing is committed: follower 2 has not fetched").isZero();
    }

    @Test
    void aWriteTheReplicasDoNotCatchUpWithTimesOutAtItsDeadlineAndStopsWaiting() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        CompletableFuture<Written> written = write(partition, Acks.ALL, "a");

        scheduler.advance(WAIT_MS - 1);
        assertThat(written).isNotDone();
        scheduler.advance(1);

        assertThat(written.join().error()).isEqualTo(WriteError.TIMED_OUT);
        assertThat(written.join().baseOffset()).as("an unacknowledged write gives no offset").isEqualTo(-1);
        assertThat(partition.waitingAcks()).as("a timed-out write no longer waits in the partition").isZero();
        assertThat(partition.log().logEndOffset()).as("its records stay: a retry is recognised by its sequence").isEqualTo(1);
    }

    @Test
    void aWriteAnsweredInTimeLeavesNoDeadlineBehind() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        CompletableFuture<Written> written = write(partition, Acks.ALL, "a");
        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        assertThat(written.join().ok()).isTrue();
        // The followers' notice of the moved high watermark runs once and is not scheduled again.
        scheduler.advance(Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS);
        assertThat(scheduler.pending()).as("the deadline was cancelled with the answer").isZero();
    }

    @Test
    void aWriteWhoseLeadershipEndsBeforeItIsReplicatedIsNotAcknowledged() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        CompletableFuture<Written> written = write(partition, Acks.ALL, "a");
        partition.becomeFollower(4, 2, 2, List.of(1, 2, 3), List.of(2));
        assertThat(written.join().error()).isEqualTo(WriteError.NOT_LEADER);
    }

    @Test
    void acksAllBelowMinInsyncIsRefusedWithoutAppending() throws IOException {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1));
        Written written = write(partition, Acks.ALL, "a").join();
        assertThat(written.error()).isEqualTo(WriteError.NOT_ENOUGH_REPLICAS);
        assertThat(partition.log().logEndOffset()).isZero();
        assertThat(write(partition, Acks.LEADER, "b").join().ok()).as("acks=1 does not ask for the in-sync set").isTrue();
    }

    @Test
    void aPartitionWithFewerReplicasThanMinInsyncCommitsWhatAllItsReplicasHoldButRefusesAcksAll() throws IOException {
        PartitionLog log = logs.getOrCreate(TP, LogConfig.from(Map.of("min.insync.replicas", "2")));
        Partition partition = new Partition(TP, log, LEADER, Partition.Role.FOLLOWER,
                new PartitionContext(heldGroupCommit, () -> leaseHeld, scheduler));
        partition.becomeLeader(0, 0, List.of(LEADER), List.of(LEADER), scheduler.millis());
        assertThat(write(partition, Acks.ALL, "a").join().error()).isEqualTo(WriteError.NOT_ENOUGH_REPLICAS);
        assertThat(write(partition, Acks.LEADER, "b").join().ok()).isTrue();
        // Its only replica holds it and nobody outside the in-sync set could vouch for more: readable.
        assertThat(log.highWatermark()).isEqualTo(1);
    }

    @Test
    void aWriteWaitsWhileTheInSyncSetIsBelowMinInsyncAndIsAnsweredWhenItRecovers() throws IOException {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1, 2));
        CompletableFuture<Written> written = write(partition, Acks.ALL, "a");
        partition.becomeLeader(3, 2, List.of(1, 2, 3), List.of(1), scheduler.millis());
        // With the in-sync set below min.insync.replicas nothing commits (KIP-966); the write waits out its deadline.
        assertThat(written).isNotDone();
        partition.becomeLeader(3, 3, List.of(1, 2, 3), List.of(1, 2), scheduler.millis());
        partition.onFollowerFetch(2, 1, scheduler.millis(), "");
        assertThat(written.join().ok()).as("back at two in-sync replicas, both holding it").isTrue();
    }

    @Test
    void aNodeWithoutItsLeaseOrNotLeadingAppendsNothing() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        leaseHeld = false;
        assertThat(write(partition, Acks.LEADER, "a").join().error()).isEqualTo(WriteError.NOT_LEADER);
        leaseHeld = true;
        partition.becomeFollower(4, 2, 2, List.of(1, 2, 3), List.of(2));
        assertThat(write(partition, Acks.NONE, "b").join().error()).isEqualTo(WriteError.NOT_LEADER);
        assertThat(partition.log().logEndOffset()).isZero();
    }

    @Test
    void whatTheLogRefusesComesBackWithTheLogsReason() throws IOException {
        Partition partition = leader(Map.of(), List.of(1, 2));
        Written written = partition.append(ByteBuffer.allocate(0), Acks.ALL, WAIT_MS, scheduler.millis()).join();
        assertThat(written.error()).isEqualTo(WriteError.REFUSED);
        assertThat(written.logError()).isEqualTo(LogError.CORRUPT_MESSAGE);
        assertThat(partition.waitingAcks()).isZero();
    }

    @Test
    void aTopicThatFlushesEveryMessageAnswersOnlyAfterTheGroupCommitAndReportsAFailedOne() throws IOException {
        Partition partition = leader(Map.of("flush.messages", "1"), List.of(1));
        CompletableFuture<Written> first = write(partition, Acks.LEADER, "a");
        assertThat(first).as("the fsync has not completed").isNotDone();
        assertThat(fsyncs).hasSize(1);
        fsyncs.get(0).complete(null);
        assertThat(first.join().ok()).isTrue();

        CompletableFuture<Written> second = write(partition, Acks.ALL, "b");
        fsyncs.get(1).completeExceptionally(new IOException("disk gone"));
        assertThat(second.join().error()).isEqualTo(WriteError.NOT_DURABLE);

        write(partition, Acks.NONE, "c");
        assertThat(fsyncs).as("acks=0 asks for no fsync").hasSize(2);
    }

    @Test
    void aLeaderThatIsItsOwnInSyncSetAnswersAcksAllAtOnce() throws IOException {
        PartitionLog log = logs.getOrCreate(TP, LogConfig.defaultConfig());
        Partition partition = new Partition(TP, log, 0, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, scheduler));
        partition.becomeLeader(0, 0, List.of(0), List.of(0), scheduler.millis());
        Written written = write(partition, Acks.ALL, "a", "b").join();
        assertThat(written.ok()).isTrue();
        assertThat(log.highWatermark()).isEqualTo(2);
        assertThat(scheduler.pending()).as("no deadline for a write that needed no wait").isZero();
    }
}
