package io.spate.processing;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.LogScanner;
import io.spate.log.PartitionLog;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;
import io.spate.replication.ReadBound;
import io.spate.replication.WriteError;
import io.spate.replication.Written;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@link AppendRetry} against a real partition (spate-replication) over a real log on disk: an
 * append in place refused for too few in-sync replicas is appended again, once, when they are
 * back; one that may be in the log (timed out, leadership ended after the append) is waited for
 * rather than appended again, and exactly-once it is looked for in the log by its position
 * first; a refusal that is not passing is not retried; the retries stop at the deadline; a lost
 * leadership is a passing failure of its own. The clock and the back-off sleeps are the test's
 * (no test here waits out a back-off); the partitions' replication deadlines run on the default
 * scheduler.
 */
class AppendRetryTest {
    private static final TopicPartition TP = new TopicPartition("out", 0);
    private static final io.spate.log.TopicPartition LOG_TP = new io.spate.log.TopicPartition("out", 0);
    private static final String TASK = "p/0/0";

    @TempDir
    Path dataDir;
    private LogManager logs;
    private final AtomicLong clock = new AtomicLong(System.currentTimeMillis()); // also the appends' time: the log checks it
    private final List<Long> sleeps = new ArrayList<>();
    private final List<String> retried = new ArrayList<>();
    /** Runs at the n-th back-off (1-based): what recovers the partition. */
    private Runnable atSleep;
    private int recoverAtSleep = Integer.MAX_VALUE;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
    }

    @AfterEach
    void close() {
        logs.close();
    }

    private AppendRetry retry(long deliveryTimeoutMs, long replicationWaitMs) {
        return new AppendRetry(clock::get, ms -> {
            sleeps.add(ms);
            clock.addAndGet(ms);
            if (sleeps.size() == recoverAtSleep) {
                atSleep.run();
            }
        }, deliveryTimeoutMs, replicationWaitMs, () -> false, retried::add);
    }

    /** Leads {@link #TP} at epoch 3 with {@code replicas} and {@code isr}. */
    private Partition leader(Map<String, String> config, List<Integer> replicas, List<Integer> isr) throws IOException {
        PartitionLog log = logs.getOrCreate(LOG_TP, LogConfig.from(config));
        Partition partition = new Partition(LOG_TP, log, 1, Partition.Role.FOLLOWER, PartitionContext.defaults());
        partition.becomeLeader(3, 1, replicas, isr, clock.get());
        return partition;
    }

    private static ByteBuffer batch(String position, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            Header[] headers = i == 0 && position != null
                    ? new Header[] {new RecordHeader(AnchoredOutput.POSITION_HEADER, (TASK + "@" + position).getBytes(StandardCharsets.UTF_8))}
                    : new Header[0];
            records[i] = new SimpleRecord(System.currentTimeMillis(), null, values[i].getBytes(StandardCharsets.UTF_8), headers);
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    /** Every value in the partition's log, in order. */
    private static List<String> values(Partition partition) throws IOException {
        List<String> values = new ArrayList<>();
        LogScanner.forEachChunk(partition.log(), partition.log().logStartOffset(), partition.readLimit(ReadBound.LOG_END), chunk -> {
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(chunk).batches()) {
                for (Record r : batch) {
                    byte[] value = new byte[r.valueSize()];
                    r.value().get(value);
                    values.add(new String(value, StandardCharsets.UTF_8));
                }
            }
        });
        return values;
    }

    private static CompletableFuture<Written> append(Partition partition, ByteBuffer batch, long waitMs) {
        return partition.append(batch.duplicate(), Acks.ALL, waitMs, System.currentTimeMillis());
    }

    @Test
    void aBatchRefusedForTooFewInSyncReplicasIsAppendedAgainOnceWhenTheyAreBackWithADoublingBackOff() throws Exception {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1), List.of(1));
        ByteBuffer batch = batch(null, "a", "b");
        int epoch = partition.leaderEpoch();
        CompletableFuture<Written> first = append(partition, batch, 30_000);
        assertThat(first.join().error()).isEqualTo(WriteError.NOT_ENOUGH_REPLICAS);
        recoverAtSleep = 4;
        atSleep = () -> partition.log().updateConfig(LogConfig.from(Map.of("min.insync.replicas", "1")));

        boolean again = retry(120_000, 30_000).await(TP, partition, batch, epoch, first, null);

        assertThat(again).as("appended again: nothing of it was in the log").isTrue();
        assertThat(values(partition)).containsExactly("a", "b");
        assertThat(partition.log().highWatermark()).isEqualTo(2);
        assertThat(sleeps).containsExactly(100L, 200L, 400L, 800L);
        assertThat(retried).hasSize(4).allSatisfy(why -> assertThat(why).contains("NOT_ENOUGH_REPLICAS"));
    }

    /**
     * A batch refused for too few in-sync replicas, whose task's input moves to another node
     * during the back-off: it is not appended again, though the partition would take it now. Its
     * successor on the input's new leader may already have read the output's last position, and
     * would process the batch's input again (found by a review: the leadership checks ran only
     * after an append again had failed).
     */
    @Test
    void aBatchIsNotAppendedAgainOnceTheTasksInputMovedDuringTheBackOff() throws Exception {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1), List.of(1));
        ByteBuffer batch = batch("7", "a");
        CompletableFuture<Written> first = append(partition, batch, 30_000);
        assertThat(first.join().error()).isEqualTo(WriteError.NOT_ENOUGH_REPLICAS);
        java.util.concurrent.atomic.AtomicBoolean inputLed = new java.util.concurrent.atomic.AtomicBoolean(true);
        AppendRetry retry = new AppendRetry(clock::get, ms -> {
            sleeps.add(ms);
            clock.addAndGet(ms);
            partition.log().updateConfig(LogConfig.from(Map.of("min.insync.replicas", "1"))); // the output would take it now
            inputLed.set(false);
        }, 120_000, 30_000, () -> false, inputLed::get, retried::add);

        assertThatThrownBy(() -> retry.await(TP, partition, batch, 3, first, null))
                .isInstanceOf(TaskOutput.OutputMovedException.class).hasMessageContaining("input is no longer led here");
        assertThat(values(partition)).isEmpty();
        assertThat(sleeps).hasSize(1);
    }

    @Test
    void retriesStopAtTheDeliveryTimeoutWithTheBackOffCappedAtOneSecond() throws Exception {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1), List.of(1));
        ByteBuffer batch = batch(null, "a");
        CompletableFuture<Written> first = append(partition, batch, 30_000);

        assertThatThrownBy(() -> retry(5_000, 30_000).await(TP, partition, batch, 3, first, null))
                .isInstanceOf(TaskOutput.LocalAppendException.class)
                .hasMessageContaining("NOT_ENOUGH_REPLICAS").hasMessageContaining("delivery.timeout.ms");
        assertThat(sleeps).containsExactly(100L, 200L, 400L, 800L, 1_000L, 1_000L, 1_000L, 500L);
        assertThat(values(partition)).isEmpty();
    }

    @Test
    void aRefusalThatIsNotPassingIsNotRetried() throws Exception {
        Partition partition = leader(Map.of("max.message.bytes", "100"), List.of(1), List.of(1));
        ByteBuffer batch = batch(null, "x".repeat(500));
        CompletableFuture<Written> first = append(partition, batch, 30_000);
        assertThat(first.join().error()).isEqualTo(WriteError.REFUSED);

        assertThatThrownBy(() -> retry(120_000, 30_000).await(TP, partition, batch, 3, first, null))
                .isInstanceOf(TaskOutput.LocalAppendException.class).hasMessageContaining("REFUSED");
        assertThat(sleeps).isEmpty();
        assertThat(retried).isEmpty();
    }

    @Test
    void atLeastOnceABatchThatTimedOutIsWaitedForInTheLogAndNotAppendedAgain() throws Exception {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1, 2), List.of(1, 2));
        ByteBuffer batch = batch(null, "a", "b");
        int epoch = partition.leaderEpoch();
        CompletableFuture<Written> first = append(partition, batch, 20); // follower 2 does not fetch in time
        assertThat(first.join().error()).isEqualTo(WriteError.TIMED_OUT);

        CompletableFuture<Boolean> retried = CompletableFuture.supplyAsync(() -> {
            try {
                return retry(120_000, 30_000).await(TP, partition, batch, epoch, first, null);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> partition.waitingAcks() > 0); // waiting for it, not appending it again
        assertThat(retried).isNotDone();
        partition.onFollowerFetch(2, 2, clock.get(), "");

        assertThat(retried.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("not appended again").isFalse();
        assertThat(values(partition)).containsExactly("a", "b");
    }

    @Test
    void exactlyOnceABatchWhoseLeadershipEndedIsFoundByItsPositionAndNotAppendedAgain() throws Exception {
        Partition partition = leader(Map.of(), List.of(1, 2), List.of(1, 2));
        ByteBuffer batch = batch("7", "a", "b");
        int epoch = partition.leaderEpoch();
        CompletableFuture<Written> first = append(partition, batch, 30_000);
        partition.becomeFollower(4, 2, 2, List.of(1, 2), List.of(1, 2));
        assertThat(first.join().error()).isEqualTo(WriteError.NOT_LEADER);
        // Leader again, its log as it was: the batch is there, and committed once follower 2 is out of the in-sync set.
        partition.becomeLeader(5, 3, List.of(1, 2), List.of(1), clock.get());

        boolean again = retry(120_000, 30_000).await(TP, partition, batch, epoch, first, lookup(0, 7));

        assertThat(again).isFalse();
        assertThat(values(partition)).containsExactly("a", "b");
        assertThat(AnchoredOutput.lastPosition(partition, 0, TASK, () -> false, null)).isEqualTo(new AnchoredOutput.Found(7, 2));
    }

    @Test
    void exactlyOnceABatchTruncatedAwayIsAppendedAgainAndIsInTheLogOnce() throws Exception {
        Partition partition = leader(Map.of(), List.of(1, 2), List.of(1, 2));
        ByteBuffer batch = batch("7", "a", "b");
        int epoch = partition.leaderEpoch();
        CompletableFuture<Written> first = append(partition, batch, 30_000);
        partition.becomeFollower(4, 2, 2, List.of(1, 2), List.of(1, 2));
        assertThat(first.join().error()).isEqualTo(WriteError.NOT_LEADER);
        // The new leader never had it: this replica truncates it away, then leads again.
        assertThat(partition.truncateAsFollower(0, 4)).isTrue();
        partition.becomeLeader(5, 3, List.of(1, 2), List.of(1), clock.get());
        List<Long> toldAt = new ArrayList<>();
        AppendRetry.Lookup lookup = new AppendRetry.Lookup() {
            @Override
            public long batchEnd(Partition replica) throws Exception {
                return lookup(0, 7).batchEnd(replica);
            }

            @Override
            public void appendingAgain(Partition replica) {
                toldAt.add(replica.readLimit(ReadBound.LOG_END));
            }
        };

        boolean again = retry(120_000, 30_000).await(TP, partition, batch, epoch, first, lookup);

        assertThat(toldAt).as("told before the append again, at the log's end then").containsExactly(0L);
        assertThat(again).isTrue();
        assertThat(values(partition)).containsExactly("a", "b");
        assertThat(partition.log().highWatermark()).isEqualTo(2);
    }

    @Test
    void aLeadershipLostForGoodIsAPassingFailureOfItsOwn() throws Exception {
        Partition partition = leader(Map.of(), List.of(1, 2), List.of(1, 2));
        ByteBuffer batch = batch("7", "a");
        CompletableFuture<Written> first = append(partition, batch, 30_000);
        partition.becomeFollower(4, 2, 2, List.of(1, 2), List.of(1, 2));

        assertThatThrownBy(() -> retry(120_000, 30_000).await(TP, partition, batch, 3, first, lookup(0, 7)))
                .isInstanceOf(TaskOutput.OutputMovedException.class);
        assertThat(sleeps).isEmpty();
    }

    /**
     * At-least-once through {@link TaskOutput}: two micro-batches refused while the in-sync set is
     * too small are appended again, in their order, each once, when it is large enough.
     */
    @Test
    void atLeastOnceTheBatchesOfOneFlushAreAppendedAgainInTheirOrder() throws Exception {
        Partition partition = leader(Map.of("min.insync.replicas", "2"), List.of(1), List.of(1));
        recoverAtSleep = 2;
        atSleep = () -> partition.log().updateConfig(LogConfig.from(Map.of("min.insync.replicas", "1")));
        TaskOutput output = new TaskOutput(new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()),
                tp -> tp.equals(TP) ? partition : null, new LongAdder(), new LongAdder(), TableWrites.NONE, retry(120_000, 30_000));
        output.send("out", 0, null, "a".getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        output.appendBuffered();
        output.send("out", 0, null, "b".getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        output.appendBuffered();

        output.flush();

        assertThat(output.takeFailure()).isNull();
        assertThat(values(partition)).containsExactly("a", "b");
    }

    /**
     * A batch appended in place at 1 whose leadership went away; the new leader never had it, and
     * this replica's log is cut to 0 before it leads again, so the batch is appended again at 0,
     * below where its first append began. The next search for it started at 1, missed that copy,
     * and a third would have followed (found by a review); it now starts where the append again
     * began.
     */
    @Test
    void exactlyOnceACopyAppendedAgainBelowWhereTheFirstAppendBeganIsFound() throws Exception {
        Partition partition = leader(Map.of(), List.of(1, 2), List.of(1));
        assertThat(append(partition, batch(null, "other"), 30_000).join().ok()).isTrue();
        AnchoredOutput out = new AnchoredOutput(TASK, tp -> partition, topic -> 1, java.util.Set.of());
        out.begin(7);
        out.send("out", 0, null, "a".getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        assertThat(out.appendAcknowledged(retry(120_000, 30_000), clock.get(), 0)).isTrue();
        assertThat(out.batchEnd(partition)).as("its first append, at 1").isEqualTo(2);
        partition.becomeFollower(4, 2, 2, List.of(1, 2), List.of(2));
        assertThat(partition.truncateAsFollower(0, 4)).isTrue();
        partition.becomeLeader(5, 3, List.of(1, 2), List.of(1), clock.get());

        out.appendingAgain(partition); // as AppendRetry tells it before it appends again
        assertThat(append(partition, batch("7", "a"), 30_000).join().ok()).isTrue();

        assertThat(out.batchEnd(partition)).as("the copy at 0").isEqualTo(1);
    }

    /** The lookup an {@link AnchoredOutput} gives: this task's batch of {@code position} from {@code from} on. */
    private static AppendRetry.Lookup lookup(long from, long position) {
        return replica -> {
            AnchoredOutput.Found found = AnchoredOutput.lastPosition(replica, from, TASK, () -> false, null);
            return found != null && found.position() == position ? found.batchEnd() : AppendRetry.NOT_THERE;
        };
    }
}
